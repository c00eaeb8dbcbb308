export { stackConfigFromDemi } from './demi-config.js';
export { InetStackLibOS, type InetStackLibOSOptions } from './libos.js';
