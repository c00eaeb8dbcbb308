export * from './addon.js';
export { BaseLibOS } from './base-libos.js';
export * from './config.js';
export * from './constants.js';
export * from './errors.js';
export * from './registry.js';
export { TokenTable } from './token-table.js';
export * from './types.js';
export * from './validate.js';
