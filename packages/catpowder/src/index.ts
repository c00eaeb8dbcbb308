export { InetStackLibOS as CatpowderLibOS } from '@demi/inetstack';
export { features } from './features.js';
export type { DeviceOffloads, FrameDevice } from './frame-device.js';
export { createCatpowder, createLibOS } from './libos.js';
export { runInNetns } from './netns.js';
export { optionsFromConfig, type RawDeviceOptions, validateOptions } from './options.js';
export { RawDevice, type RawDeviceStats } from './raw-device.js';
