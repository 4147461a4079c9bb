export { type EngineOptions, engineOptionsSchema } from './config.js';
export {
  type AnalyzeResult,
  createEngine,
  type Engine,
  type LinkedConcept,
  type LinkedMention,
  type MedicationCheckInput,
  toRecord,
} from './engine.js';
export { VERSION } from './version.js';
