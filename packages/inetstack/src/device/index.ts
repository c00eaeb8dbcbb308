export type { Clock, DeviceOffloads, FrameDevice } from './device.js';
export { ManualClock, systemClock } from './clock.js';
export { BufferPool } from './buffer-pool.js';
export { MemoryDevice, MemoryLink, type MemoryLinkOptions } from './memory-link.js';
export { FaultDevice, type FaultOptions, type FaultStats } from './fault-device.js';
export { PcapDevice, type PcapOptions, PcapWriter } from './pcap.js';
