export type { DeviceOffloads, FrameDevice } from '@demi/inetstack';
export { CatnipDevice, type CatnipDeviceStats, type CatnipPortInfo } from './device.js';
export { dpdkInfo, dpdkLog, type EalStatus, ealStatus, retainEal } from './eal.js';
export { CatnipLibOS, type CatnipLibOSOptions, createLibOS } from './libos.js';
export {
  type CatnipDeviceOptions,
  defaultEalArgs,
  optionsFromConfig,
  validateOptions,
} from './options.js';
