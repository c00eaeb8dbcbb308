export { RawDevice, type RawDeviceStats } from './raw-device.js';
export { optionsFromConfig, type RawDeviceOptions, validateOptions } from './options.js';
export type { DeviceOffloads, FrameDevice } from './frame-device.js';
export { features } from './features.js';
export { runInNetns } from './netns.js';
export { createCatpowder, createLibOS } from './libos.js';
export { InetStackLibOS as CatpowderLibOS } from '@demi/inetstack';
