import { type PatientRecord, type PatientRecordInput, parseRecord } from '@yijian/emr';
import type { Annotation } from '@yijian/ner';
import type { PatientFacts } from '@yijian/rules';
import type { CcMccTable } from './cc-mcc-table.js';
import type { CodeTable } from './code-table.js';
import { runCompletenessChecks, type SectionsDetected } from './completeness.js';
import { parseQcConfig, type QcConfig, type QcConfigInput } from './config.js';
import { annotationMap, type ConceptResolver, runConsistencyChecks } from './consistency.js';
import { FindingCollector } from './findings.js';
import { runFrontPageChecks } from './front-page.js';
import { scoreFindings } from './score.js';
import { runCcMccCheck } from './secondary-cc-mcc.js';
import { runTimelinessChecks } from './timeliness.js';
import type { Finding, QcResult } from './types.js';

/** A document's NER annotation (from @yijian/ner's annotator). */
export interface DocumentAnnotation {
  documentId: string;
  annotation: Annotation;
}

export interface FrontPageOptions {
  codeTable?: CodeTable;
  /**
   * The hospital's CHS-DRG MCC/CC table (loadCcMccTableCsv): enables fp.secondary.cc-mcc-missing. Without
   * it that check does not run.
   */
  ccMccTable?: CcMccTable;
  config?: QcConfigInput | QcConfig;
}

export interface RecordQcInput {
  /**
   * Patient facts from @yijian/rules `buildFacts`: orders linked to graph concepts let the treated-but-uncoded
   * check recognise brand and trade names (诺和灵R → 胰岛素) through the drug's concept and classes.
   */
  facts?: PatientFacts;
  /** NER annotations of the record's documents. */
  annotations?: readonly DocumentAnnotation[];
  codeTable?: CodeTable;
  /** The hospital's CHS-DRG MCC/CC table: enables fp.secondary.cc-mcc-missing. */
  ccMccTable?: CcMccTable;
  config?: QcConfigInput | QcConfig;
  /** Review time: documents not yet due at this time are not reported missing. Default: final review. */
  at?: string;
  /** Links coded diagnoses/procedures and text to graph concepts (see createGraphResolver). */
  resolver?: ConceptResolver;
}

function isParsed(record: PatientRecord | PatientRecordInput): record is PatientRecord {
  const r = record as PatientRecord;
  return (
    typeof r === 'object' &&
    r !== null &&
    Array.isArray(r.documents) &&
    Array.isArray(r.allergies) &&
    Array.isArray(r.procedures) &&
    Array.isArray(r.medications) &&
    Array.isArray(r.diagnoses)
  );
}

/** Accept a validated record as is; validate anything else (throws CDSS_ERR_INVALID_RECORD). */
export function asRecord(record: PatientRecord | PatientRecordInput): PatientRecord {
  return isParsed(record) ? record : parseRecord(record);
}

const configCache = new WeakMap<object, QcConfig>();
function resolveConfig(config: QcConfigInput | QcConfig | undefined): QcConfig {
  if (config === undefined) return DEFAULT;
  const hit = configCache.get(config);
  if (hit) return hit;
  const parsed = parseQcConfig(config);
  configCache.set(config, parsed);
  return parsed;
}
const DEFAULT = parseQcConfig({});

/** 病案首页 QC (qc-standards.md §1.5–§1.7): findings for the record's front page. */
export function evaluateFrontPage(
  record: PatientRecord | PatientRecordInput,
  options: FrontPageOptions = {},
): Finding[] {
  const r = asRecord(record);
  const config = resolveConfig(options.config);
  const collector = new FindingCollector(r.id, config, r.frontPage);
  runFrontPageChecks(r, options.codeTable, config, collector.emit);
  if (options.ccMccTable) runCcMccCheck(r, { table: options.ccMccTable }, collector.emit);
  return collector.findings;
}

/** Whole-record QC: front page, timeliness, completeness (and consistency when annotations are given). */
export function evaluateRecord(
  record: PatientRecord | PatientRecordInput,
  input: RecordQcInput = {},
): QcResult {
  const r = asRecord(record);
  const config = resolveConfig(input.config);
  const collector = new FindingCollector(r.id, config, r.frontPage);
  runFrontPageChecks(r, input.codeTable, config, collector.emit);
  const superseded = input.ccMccTable
    ? runCcMccCheck(
        r,
        { table: input.ccMccTable, ...(input.facts ? { facts: input.facts } : {}) },
        collector.emit,
      )
    : undefined;
  runTimelinessChecks(r, config, collector.emit);
  const sections = sectionsFromAnnotations(input.annotations);
  runCompletenessChecks(r, config, collector.emit, {
    ...(input.at ? { at: input.at } : {}),
    ...(sections ? { sections } : {}),
  });
  runConsistencyChecks(r, config, collector.emit, {
    annotations: annotationMap(input.annotations),
    ...(input.resolver ? { resolver: input.resolver } : {}),
    ...(input.facts ? { facts: input.facts } : {}),
    fired: new Set(collector.findings.map((f) => f.ruleId)),
    ...(superseded?.size ? { supersededTreated: superseded } : {}),
  });
  const { score, grade } = scoreFindings(collector.findings, config);
  return { recordId: r.id, findings: collector.findings, score, grade };
}

function sectionsFromAnnotations(
  annotations: readonly DocumentAnnotation[] | undefined,
): SectionsDetected | undefined {
  if (!annotations?.length) return undefined;
  const map = new Map<string, Set<string>>();
  for (const a of annotations)
    map.set(a.documentId, new Set((a.annotation.sections ?? []).map((s) => s.name)));
  return { get: (id) => map.get(id) };
}
