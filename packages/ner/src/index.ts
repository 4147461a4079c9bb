// Neural NER (models/ner): ONNX and Hugging Face backends, decoding, evaluation.

export {
  type Annotator,
  type AnnotatorOptions,
  type AnnotatorResources,
  createAnnotator,
} from './annotator.js';
export {
  type AttributeExtractor,
  type AttributeExtractorOptions,
  createAttributeExtractor,
  loadDefaultAttributes,
} from './attributes.js';
export {
  type ContextCue,
  type ContextEngine,
  type ContextOptions,
  createContextEngine,
  loadDefaultContextRules,
} from './context.js';
export { createLexiconTagger, type LexiconTaggerOptions } from './lexicon-tagger.js';
export { mergeMentions } from './merge.js';
export {
  EVALUATION_SCHEMES,
  type EvaluationScheme,
  evaluateNer,
  type GoldDocument,
  type GoldEntity,
  type NerEvaluation,
  type PredictedSpan,
  type PrfScore,
  parseGoldJsonl,
} from './neural/evaluate.js';
export { normalizeForModel } from './neural/normalize.js';
export {
  createOnnxTagger,
  DEFAULT_MODEL_VERSION,
  defaultModelDir,
  type NeuralModelInfo,
  type NeuralTagger,
  type OnnxTaggerOptions,
} from './neural/onnx-tagger.js';
export { segmentText, type TextChunk } from './neural/segment.js';
export {
  createTransformersTagger,
  DEFAULT_LABEL_TYPE_MAP,
  type TransformersTaggerOptions,
} from './neural/transformers-tagger.js';
export { type CrfParameters, type DecodedSpan, type TagScheme, ViterbiDecoder } from './neural/viterbi.js';
export {
  createTextFolder,
  type FolderOptions,
  getDefaultFolder,
  normalizeText,
  type TextFolder,
} from './normalize.js';
export { parseChineseNumber, parseNumber } from './numbers.js';
export { parseResource, RESOURCE_DIR, readJsonFile } from './resources.js';
export {
  type AttributesFile,
  attributesFileSchema,
  CONTEXT_DIRECTIONS,
  type ContextDirection,
  type ContextRule,
  type ContextRulesFile,
  contextRuleSchema,
  contextRulesFileSchema,
  type SectionDefinition,
  type SectionsFile,
  sectionDefinitionSchema,
  sectionsFileSchema,
} from './schemas.js';
export {
  createSectionDetector,
  loadDefaultSections,
  type SectionDetector,
  type SectionDetectorOptions,
} from './sections.js';
export {
  type Annotation,
  ASSERTION_STATUSES,
  type Assertion,
  type AssertionStatus,
  type AssertionTrigger,
  type DrugAttributes,
  type LabAttributes,
  type LexiconEntry,
  MENTION_TYPES,
  type Mention,
  type MentionAttributes,
  type MentionType,
  type RawMention,
  type Section,
  type Span,
  type Tagger,
  VITAL_SIGN_KINDS,
  type VitalSignKind,
  type VitalSignReading,
} from './types.js';
export { extractVitals } from './vitals.js';
