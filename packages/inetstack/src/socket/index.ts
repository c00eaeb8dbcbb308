export { InetStackLibOS, type InetStackLibOSOptions } from './libos.js';
export { stackConfigFromDemi } from './demi-config.js';
