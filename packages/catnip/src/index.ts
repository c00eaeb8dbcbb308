export { CatnipDevice, type CatnipDeviceStats, type CatnipPortInfo } from './device.js';
export { dpdkInfo, dpdkLog, type EalStatus, ealStatus, retainEal } from './eal.js';
export type { DeviceOffloads, FrameDevice } from './frame-device.js';
export { type CatnipDeviceOptions, defaultEalArgs, optionsFromConfig, validateOptions } from './options.js';
