import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CdssError, fromFhirBundle, isFhirBundle, type PatientRecord, parseRecord } from '@yijian/emr';
import {
  type Concept,
  type ConceptKind,
  createLinker,
  type GraphStore,
  KIND_OF_MENTION_TYPE,
  type Linker,
  type LinkResult,
  loadDefaultGraph,
  MemoryGraph,
  taggerLexicon,
} from '@yijian/knowledge-graph';
import {
  type Annotation,
  createAnnotator,
  createLexiconTagger,
  createOnnxTagger,
  defaultModelDir,
  type Mention,
  type Tagger,
} from '@yijian/ner';
import {
  createGraphResolver,
  DEFAULT_QC_CONFIG,
  evaluateFrontPage,
  evaluateRecord,
  loadCcMccTableCsv,
  loadCodeTableCsv,
  type QcResult,
  scoreFindings,
} from '@yijian/qc';
import {
  type AdHocInput,
  type Alert,
  buildFacts,
  buildFactsFromLists,
  createRuleEngine,
  type PatientFacts,
  type RuleInfo,
} from '@yijian/rules';
import { type EngineOptions, resolveEngineOptions } from './config.js';
import { VERSION } from './version.js';

export interface LinkedConcept {
  id: string;
  name: string;
  kind: ConceptKind;
  matchKind: LinkResult['candidates'][number]['matchKind'];
  score: number;
}

/** A mention found in one document, with its link into the graph (null when unlinked). */
export interface LinkedMention extends Mention {
  documentId: string;
  documentType: string;
  concept: LinkedConcept | null;
}

export interface AnalyzeResult {
  recordId: string;
  engine: { name: 'yijian'; version: string; taggers: string[] };
  documents: { id: string; type: string; sections: Annotation['sections'] }[];
  mentions: LinkedMention[];
  alerts: Alert[];
  qc?: QcResult;
}

/** Drugs (as physicians write them, optionally with dose, route, frequency), conditions, allergies, patient data. */
export type MedicationCheckInput = AdHocInput;

export interface MedicationCheckOptions {
  /** Indices into `input.drugs` (0-based): keep only the alerts that concern these entries. */
  concerning?: Iterable<number>;
}

export interface Engine {
  readonly version: string;
  readonly graph: GraphStore;
  readonly linker: Linker;
  /** Analyse one record (record JSON or FHIR R4 Bundle): mentions, links, alerts, QC. */
  analyze(input: unknown, options?: { at?: string }): Promise<AnalyzeResult>;
  /** NER with sections, assertion and attributes on free text. */
  annotate(text: string): Promise<Annotation>;
  /** Link a term to the graph. */
  link(text: string, kind?: ConceptKind): LinkResult;
  /**
   * Run the CDSS packs on an ad-hoc list of drugs (names as physicians write them). With
   * `concerning` (0-based indices into `input.drugs`, e.g. the orders being placed), only alerts that
   * cite one of those entries are returned, and the others are never built.
   */
  checkMedications(input: MedicationCheckInput, options?: MedicationCheckOptions): Promise<Alert[]>;
  qcFrontPage(input: unknown): Promise<QcResult>;
  qcRecord(input: unknown): Promise<QcResult>;
  searchConcepts(query: string, options?: { kind?: ConceptKind; limit?: number }): Promise<Concept[]>;
  rules(): RuleInfo[];
  close(): Promise<void>;
}

/** Accept a record object or a FHIR Bundle; validate it. */
export function toRecord(input: unknown): PatientRecord {
  return isFhirBundle(input) ? fromFhirBundle(input) : parseRecord(input);
}

async function createTaggers(graph: MemoryGraph, nerModel: string): Promise<Tagger[]> {
  const taggers: Tagger[] = [createLexiconTagger(taggerLexicon(graph))];
  if (nerModel === 'none') return taggers;
  const dir = nerModel === 'auto' ? defaultModelDir() : nerModel;
  if (existsSync(join(dir, 'model.onnx'))) taggers.push(await createOnnxTagger({ modelDir: dir }));
  else if (nerModel !== 'auto')
    throw new CdssError('CDSS_ERR_MODEL', `NER model not found: ${join(dir, 'model.onnx')}`);
  return taggers;
}

/**
 * Build an engine on the embedded defaults (or the given options): knowledge graph, NER taggers,
 * clinical context, rule packs and QC. Options are validated here; bad options throw
 * `CDSS_ERR_INVALID_CONFIG`.
 */
export async function createEngine(options: EngineOptions = {}): Promise<Engine> {
  const opts = resolveEngineOptions(options);
  const graph = opts.kgDir ? MemoryGraph.fromDirectory(opts.kgDir) : loadDefaultGraph();
  const linker = createLinker(graph);
  const taggers = await createTaggers(graph, opts.nerModel);
  const annotator = createAnnotator({ taggers });
  const ruleEngine = createRuleEngine({
    graph,
    ...(opts.ruleOverrides
      ? { overrides: opts.ruleOverrides as Parameters<typeof createRuleEngine>[0]['overrides'] }
      : {}),
  });
  await ruleEngine.ready();
  const codeTable = opts.codeTablePath ? loadCodeTableCsv(opts.codeTablePath) : undefined;
  const ccMccTable = opts.ccMccTablePath ? loadCcMccTableCsv(opts.ccMccTablePath) : undefined;
  const qcTables = { ...(codeTable ? { codeTable } : {}), ...(ccMccTable ? { ccMccTable } : {}) };
  const qcResolver = createGraphResolver(graph, linker);

  function linkMention(m: Mention): LinkedConcept | null {
    const result = linker.link(m.text, { kind: KIND_OF_MENTION_TYPE[m.type] });
    const best =
      (m.conceptId && result.candidates.find((c) => c.conceptId === m.conceptId)) || result.candidates[0];
    if (!best || !result.linked) return null;
    return {
      id: best.conceptId,
      name: best.name,
      kind: best.kind,
      matchKind: best.matchKind,
      score: best.score,
    };
  }

  async function annotateRecord(record: PatientRecord) {
    const annotations: { documentId: string; annotation: Annotation }[] = [];
    for (const doc of record.documents) {
      annotations.push({ documentId: doc.id, annotation: await annotator.annotate(doc.text) });
    }
    return annotations;
  }

  async function factsOf(
    record: PatientRecord,
    annotations: { documentId: string; annotation: Annotation }[],
    at?: string,
  ): Promise<PatientFacts> {
    return buildFacts(record, { graph, linker, annotations, ...(at ? { at } : {}) });
  }

  const engine: Engine = {
    version: VERSION,
    graph,
    linker,

    async analyze(input, analyzeOptions = {}) {
      const record = toRecord(input);
      const annotations = await annotateRecord(record);
      const docType = new Map(record.documents.map((d) => [d.id, d.type]));
      const mentions: LinkedMention[] = annotations.flatMap(({ documentId, annotation }) =>
        annotation.mentions.map((m) => ({
          ...m,
          documentId,
          documentType: docType.get(documentId) ?? '',
          concept: linkMention(m),
        })),
      );
      const facts = await factsOf(record, annotations, analyzeOptions.at);
      const alerts = await ruleEngine.evaluate(facts);
      const result: AnalyzeResult = {
        recordId: record.id,
        engine: { name: 'yijian', version: VERSION, taggers: taggers.map((t) => t.name) },
        documents: annotations.map(({ documentId, annotation }) => ({
          id: documentId,
          type: docType.get(documentId) ?? '',
          sections: annotation.sections,
        })),
        mentions,
        alerts,
      };
      if (opts.qc)
        result.qc = evaluateRecord(record, {
          facts,
          annotations,
          resolver: qcResolver,
          ...qcTables,
        });
      return result;
    },

    annotate: (text) => annotator.annotate(text),

    link: (text, kind) => linker.link(text, kind ? { kind } : {}),

    async checkMedications(input, checkOptions = {}) {
      if (!Array.isArray(input?.drugs) || input.drugs.length === 0) {
        throw new CdssError('CDSS_ERR_INVALID_REQUEST', 'At least one drug is required', {
          issues: [{ path: ['drugs'], message: 'expected a non-empty list of drug names' }],
        });
      }
      let concerning: Set<string> | undefined;
      if (checkOptions.concerning !== undefined) {
        concerning = new Set();
        for (const i of checkOptions.concerning) {
          if (!Number.isInteger(i) || i < 0 || i >= input.drugs.length)
            throw new CdssError('CDSS_ERR_INVALID_REQUEST', `concerning: no drug at index ${i}`, {
              issues: [{ path: ['concerning'], message: `expected indices 0..${input.drugs.length - 1}` }],
            });
          concerning.add(`input.drugs[${i}]`);
        }
      }
      const facts = await buildFactsFromLists(input, { graph, linker });
      return ruleEngine.evaluate(facts, concerning ? { concerning } : {});
    },

    async qcFrontPage(input) {
      const record = toRecord(input);
      const findings = evaluateFrontPage(record, qcTables);
      return { recordId: record.id, findings, ...scoreFindings(findings, DEFAULT_QC_CONFIG) };
    },

    async qcRecord(input) {
      const record = toRecord(input);
      const annotations = await annotateRecord(record);
      const facts = await factsOf(record, annotations);
      return evaluateRecord(record, {
        facts,
        annotations,
        resolver: qcResolver,
        ...qcTables,
      });
    },

    async searchConcepts(query, searchOptions = {}) {
      const limit = searchOptions.limit ?? 20;
      const result = linker.link(query, searchOptions.kind ? { kind: searchOptions.kind } : {});
      const concepts: Concept[] = [];
      for (const c of result.candidates.slice(0, limit)) {
        const concept = await graph.conceptById(c.conceptId);
        if (concept) concepts.push(concept);
      }
      return concepts;
    },

    rules: () => ruleEngine.rules(),

    close: () => graph.close(),
  };
  return engine;
}
