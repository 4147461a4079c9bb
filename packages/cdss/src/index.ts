// The types a caller of createEngine() meets, so that `yijian` alone is enough to embed the engine.
export {
  CdssError,
  type CdssErrorCode,
  isCdssError,
  type PatientRecord,
  type PatientRecordInput,
} from '@yijian/emr';
export { CONCEPT_KINDS, type Concept, type ConceptKind, type LinkResult } from '@yijian/knowledge-graph';
export type { Annotation, AssertionStatus, Mention, MentionType } from '@yijian/ner';
export type { Finding, Grade, QcResult } from '@yijian/qc';
export type { Alert, Evidence, RuleInfo, Severity, Suggestion } from '@yijian/rules';
export { type EngineOptions, engineOptionsSchema } from './config.js';
export {
  type AnalyzeResult,
  createEngine,
  type Engine,
  type LinkedConcept,
  type LinkedMention,
  type MedicationCheckInput,
  type MedicationCheckOptions,
  toRecord,
} from './engine.js';
export { VERSION } from './version.js';
