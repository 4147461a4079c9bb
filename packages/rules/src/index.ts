export { DEFAULT_OVERRIDE_REASONS, type Hit, renderPath, renderTemplate } from './alert.js';
export {
  builtinPackFiles,
  createRuleEngine,
  type EvaluateOptions,
  loadOverrides,
  loadPack,
  parsePackYaml,
  type RuleEngine,
  type RuleEngineOptions,
  type RuleInfo,
} from './engine.js';
export {
  type AdHocInput,
  areCoActive,
  type BuildFactsInput,
  buildFacts,
  buildFactsFromLists,
  parseDrugEntry,
} from './facts.js';
export { type AlertFeedback, type AlertLog, createAlertLog } from './log.js';
export { labTrend } from './match.js';
export { ckdEpi2021, labKey, routeKind, timesPerDay } from './normalise.js';
export {
  type Condition,
  conditionSchema,
  type DrugSelector,
  overridesSchema,
  packSchema,
  type RuleDefinition,
  type RuleDefinitionInput,
  type RuleOverrides,
  type RuleOverridesInput,
  type RulePack,
  type RulePackInput,
  ruleSchema,
} from './schema.js';
export {
  BUILTIN_SCRIPTS,
  braden,
  caprini,
  computeScores,
  curb65,
  morse,
  news2,
  padua,
  qsofa,
  type ScoreItem,
  type ScoreResult,
  type ScriptContext,
  type ScriptHandler,
} from './scores.js';
export type {
  Alert,
  AllergyFact,
  ConditionFact,
  ConditionStatus,
  EvaluationMode,
  Evidence,
  LabFact,
  MedicationFact,
  OverrideReason,
  PatientFacts,
  Severity,
  Suggestion,
  SuggestionAction,
  VitalFact,
} from './types.js';
