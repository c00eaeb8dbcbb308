export type { DeviceOffloads, FrameDevice } from '@demi/inetstack';
export { InetStackLibOS as CatpowderLibOS } from '@demi/inetstack';
export { features } from './features.js';
export { createCatpowder, createLibOS } from './libos.js';
export { runInNetns } from './netns.js';
export { optionsFromConfig, type RawDeviceOptions, validateOptions } from './options.js';
export { RawDevice, type RawDeviceStats } from './raw-device.js';
