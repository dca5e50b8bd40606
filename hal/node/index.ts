/** The host side: Node implementations of the HAL, and the core re-exported for convenience. */
export * from '../../firmware/index.js';
export { nodeCrypto } from './crypto.js';
export { startGateway, VERSION } from './run.js';
export { validateConfig } from '../../firmware/config/validate.js';
