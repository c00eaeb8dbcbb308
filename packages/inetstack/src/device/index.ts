export { BufferPool } from './buffer-pool.js';
export {
  CheckedDevice,
  ETH_HEADER_BYTES,
  ETH_OVERHEAD_BYTES,
} from './checked-device.js';
export { ManualClock, systemClock } from './clock.js';
export type { Clock, DeviceOffloads, FrameDevice } from './device.js';
export { FaultDevice, type FaultOptions, type FaultStats } from './fault-device.js';
export { checkParts, copyParts, FrameAssembler, partsLength } from './frame-parts.js';
export { MemoryDevice, MemoryLink, type MemoryLinkOptions } from './memory-link.js';
export { PcapDevice, type PcapOptions, PcapWriter } from './pcap.js';
export { segmentTcpFrame } from './tso.js';
