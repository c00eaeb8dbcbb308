export type { Clock, DeviceOffloads, FrameDevice } from './device/device.js';
export * from './wire/index.js';
export * from './util/addr.js';
export * from './util/random.js';
