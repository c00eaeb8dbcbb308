export { TX_PENDING } from './arp/arp-layer.js';
export * from './device/index.js';
export { type SimNode, type SimNodeOptions, Simulator } from './sim/simulator.js';
export * from './socket/index.js';
export {
  ConfigError,
  type CongestionControlName,
  resolveStackConfig,
  type StackConfig,
  type StackConfigInput,
} from './stack/config.js';
export { InetStack, type InetStackOptions } from './stack/inet-stack.js';
export type { StackStats } from './stack/stats.js';
export { TcpConnection, type TcpConnectionEvents } from './tcp/connection.js';
export { TcpListener } from './tcp/listener.js';
export { TCP_STATE_NAMES, TcpState } from './tcp/state.js';
export { UdpEndpoint } from './udp/udp-layer.js';
export * from './util/addr.js';
export * from './util/random.js';
export { Timer, TimerHeap } from './util/timers.js';
export * from './wire/index.js';
