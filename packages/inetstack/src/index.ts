export * from './device/index.js';
export * from './wire/index.js';
export * from './util/addr.js';
export * from './util/random.js';
export { Timer, TimerHeap } from './util/timers.js';
