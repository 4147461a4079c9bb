// @yijian/service public API: build the app in-process (tests, embedding); main.js starts it.
export { type BuildAppOptions, buildApp, type YijianApp } from './app.js';
export { alertToCard, type CdsCard, cdsCardSchema, cdsResponseSchema } from './cds-hooks/cards.js';
export { ASYMMETRIC_ALGORITHMS } from './cds-hooks/jwt.js';
export { CDS_SERVICES, discoveryDocument } from './cds-hooks/services.js';
export {
  configFromEnv,
  ENV_VARS,
  parseConfig,
  type ServiceConfig,
  type ServiceConfigInput,
  serviceConfigSchema,
} from './config.js';
export { type ErrorBody, errorBodySchema } from './errors.js';
export { scrubLogLine } from './logging.js';
export { generateApiKey, hashApiKey } from './tenants.js';
