export type { BatchSummary, CountRow } from './batch/aggregate.js';
export type { BatchWorkerOptions, LineResult } from './batch/evaluate-line.js';
export { csvCell, renderHtmlReport } from './batch/report.js';
export {
  BATCH_OUTPUTS,
  type BatchOptions,
  type BatchProgress,
  formatProgress,
  runBatch,
} from './batch/run.js';
export {
  parseRuleFile,
  type ResolvedRule,
  type RuleSpec,
  ruleCatalog,
  ruleFileSchema,
  ruleSpecSchema,
} from './catalog.js';
export {
  type CcMccEntry,
  type CcMccLevel,
  type CcMccTable,
  createCcMccTable,
  loadCcMccTableCsv,
  loadDemoCcMccTable,
  parseCcMccTableCsv,
} from './cc-mcc-table.js';
export {
  type CodeTable,
  type CodeTableEntry,
  createCodeTable,
  loadCodeTableCsv,
  loadDemoCodeTable,
  mergeCodeTables,
  parseCodeTableCsv,
} from './code-table.js';
export {
  DEFAULT_QC_CONFIG,
  parseQcConfig,
  type QcConfig,
  type QcConfigInput,
  qcConfigSchema,
} from './config.js';
export {
  asRecord,
  type DocumentAnnotation,
  evaluateFrontPage,
  evaluateRecord,
  type FrontPageOptions,
  type RecordQcInput,
} from './evaluate.js';
export { type CcMccFixture, generateCcMccFixtures } from './fixtures/cc-mcc.js';
export { generateQcFixtures, type QcFixture } from './fixtures/generate.js';
export { REQUIRED_FIELDS } from './front-page.js';
export { type IdNumberInfo, idCheckCharacter, parseIdNumber } from './id-number.js';
export { createGraphResolver } from './resolver.js';
export { scoreFindings } from './score.js';
export { ccMccEvidenceFileSchema, parseCcMccEvidence } from './secondary-cc-mcc.js';
export type { Evidence, Finding, Grade, QcCategory, QcResult, Severity, Suggestion } from './types.js';
