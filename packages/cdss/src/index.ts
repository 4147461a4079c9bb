export { type EngineOptions, engineOptionsSchema } from './config.js';
export { VERSION } from './version.js';
