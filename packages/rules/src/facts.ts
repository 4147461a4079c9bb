import { ageInYears, daysBetweenDates, type PatientRecord, toEpochMs } from '@yijian/emr';
import type { Concept, ConceptKind, GraphStore, Linker } from '@yijian/knowledge-graph';
import type { Annotation, Mention } from '@yijian/ner';
import { classifyAdministration, doseClassesOf } from './administration.js';
import { memoOn } from './memo.js';
import { ckdEpi2021, foldText, labKey, labNumeric, routeKind, timesPerDay, toMg } from './normalise.js';
import type {
  AllergyFact,
  ConditionFact,
  ConditionStatus,
  EvaluationMode,
  Evidence,
  LabFact,
  MedicationFact,
  PatientFacts,
  VitalFact,
} from './types.js';

export interface BuildFactsInput {
  graph: GraphStore;
  linker: Linker;
  /** Context-aware mentions of the record's documents (from `@yijian/ner`). */
  annotations?: { documentId: string; annotation: Annotation }[];
  /**
   * Evaluation time. When given, facts are read at that moment (`mode: 'point'`): an order counts
   * when it was active then. When omitted and the record is discharged, the whole stay is reviewed
   * (`mode: 'stay'`): every order of the stay is kept and two orders are co-active when their
   * intervals overlap (see {@link areCoActive}). When omitted and the patient is still in hospital,
   * `at` is the latest time in the record and the mode is `point`.
   */
  at?: string;
  /** Force a mode; `stay` needs no `at`. */
  mode?: EvaluationMode;
}

const DAY_MS = 86_400_000;

/** Diagnosis types written at discharge (病案首页 出院诊断 and the pathology diagnosis). */
const DISCHARGE_TYPES: ReadonlySet<string> = new Set(['principal', 'secondary', 'discharge', 'pathology']);

/**
 * Systemic or local administration (resources/routes.yaml) and dose-dependent classes (graph
 * `doseDependentClasses`: aspirin ≥ 500 mg/d is also a salicylate NSAID) of a medication fact.
 * Synchronous with the embedded graph unless the drug has dose-dependent classes (a promise then).
 */
function enrichMedication(m: MedicationFact, graph: GraphStore): MedicationFact | Promise<MedicationFact> {
  if (!m.conceptId) return finishMedication(m, undefined, graph);
  const concept = conceptOf(graph, m.conceptId);
  return concept instanceof Promise
    ? concept.then((c) => finishMedication(m, c?.props, graph))
    : finishMedication(m, concept?.props, graph);
}

/** A store with the synchronous reads (the embedded graph): its content is in memory and fixed. */
function holdsGraphInMemory(
  graph: GraphStore,
): graph is GraphStore & Required<Pick<GraphStore, 'conceptByIdSync' | 'findByNameSync' | 'ancestorsSync'>> {
  return Boolean(graph.conceptByIdSync && graph.findByNameSync && graph.ancestorsSync);
}

/**
 * A concept by id: without a promise from a store that holds the graph in memory (the embedded graph;
 * a record has tens of orders and several rules ask), through the async API otherwise.
 */
export function conceptOf(graph: GraphStore, id: string): Concept | undefined | Promise<Concept | undefined> {
  return graph.conceptByIdSync ? graph.conceptByIdSync(id) : graph.conceptById(id);
}

function finishMedication(
  m: MedicationFact,
  props: Record<string, unknown> | undefined,
  graph: GraphStore,
): MedicationFact | Promise<MedicationFact> {
  const adm = classifyAdministration(m.name, m.route, props?.routes as string[] | undefined);
  m.systemic = adm.systemic;
  if (adm.localBasis) m.localBasis = adm.localBasis;
  if (adm.localProduct) m.localProduct = true;
  if (!(props?.doseDependentClasses as unknown[] | undefined)?.length) return m;
  return doseClassesOf(m, props, graph).then((doseClasses) => {
    if (doseClasses.length > 0) {
      m.doseClasses = doseClasses;
      for (const c of doseClasses)
        c.ancestorIds.forEach((id, k) => {
          if (!m.classIds.includes(id)) {
            m.classIds.push(id);
            m.classNames.push(c.ancestorNames[k]!);
          }
        });
    }
    return m;
  });
}

/** Were two medication facts active at the same time? (Always true for point-in-time facts.) */
export function areCoActive(a: MedicationFact, b: MedicationFact): boolean {
  return a.interval.start < b.interval.end && b.interval.start < a.interval.end;
}

type Linked =
  | { id: string; name: string; ancestors: { id: string; name: string; kind: string }[] }
  | undefined;

function linkedOf(found: { id: string; name: string }, ancestors: Concept[]): Linked {
  return {
    id: found.id,
    name: found.name,
    ancestors: ancestors.map((a) => ({ id: a.id, name: a.name, kind: a.kind })),
  };
}

/** Links names to concepts once per name and kind; caches ancestors. */
export class ConceptResolver {
  private readonly cache = new Map<string, Linked | Promise<Linked>>();
  constructor(
    private readonly graph: GraphStore,
    private readonly linker: Linker | undefined,
  ) {}

  /**
   * The concept a name links to: a value when it is known or the graph answers synchronously (the
   * embedded graph), a promise otherwise. Callers await only a promise: a record links tens of
   * names, and an await per name was a measurable part of building the facts of a request.
   */
  resolve(name: string, kinds: ConceptKind[], conceptId?: string): Linked | Promise<Linked> {
    const key = `${kinds.join('|')}\u0000${conceptId ?? ''}\u0000${name}`;
    if (this.cache.has(key)) return this.cache.get(key);
    const { graph } = this;
    const value = holdsGraphInMemory(graph)
      ? this.lookup(name, kinds, conceptId, {
          byId: graph.conceptByIdSync.bind(graph),
          byName: graph.findByNameSync.bind(graph),
          ancestors: graph.ancestorsSync.bind(graph),
        })
      : this.lookupAsync(name, kinds, conceptId);
    this.cache.set(key, value);
    if (value instanceof Promise) void value.then((v) => this.cache.set(key, v));
    return value;
  }

  /** The link, given synchronous graph lookups. */
  private lookup(
    name: string,
    kinds: ConceptKind[],
    conceptId: string | undefined,
    get: {
      byId: (id: string) => Concept | undefined;
      byName: (name: string, kind: ConceptKind) => Concept[];
      ancestors: (id: string) => Concept[];
    },
  ): Linked {
    const found =
      (conceptId ? get.byId(conceptId) : undefined) ?? this.byName(foldText(name), kinds, get.byName);
    return found ? linkedOf(found, get.ancestors(found.id)) : undefined;
  }

  /** The same link through the async GraphStore API (a Neo4j store). */
  private async lookupAsync(name: string, kinds: ConceptKind[], conceptId?: string): Promise<Linked> {
    let found: { id: string; name: string } | undefined = conceptId
      ? await this.graph.conceptById(conceptId)
      : undefined;
    if (!found) {
      const folded = foldText(name);
      const byKind = new Map<ConceptKind, Concept[]>();
      for (const k of kinds) byKind.set(k, await this.graph.findByName(folded, k));
      found = this.byName(folded, kinds, (_n, k) => byKind.get(k) ?? []);
    }
    return found ? linkedOf(found, await this.graph.ancestors(found.id)) : undefined;
  }

  /** Exact name or synonym of the first kind that has one, else the linker's confident top candidate. */
  private byName(
    folded: string,
    kinds: ConceptKind[],
    find: (name: string, kind: ConceptKind) => Concept[],
  ): { id: string; name: string } | undefined {
    for (const kind of kinds) {
      const exact = find(folded, kind)[0];
      if (exact) return exact;
      if (this.linker) {
        const r = this.linker.link(folded, { kind });
        const top = r.linked ? r.candidates[0] : undefined;
        if (top) return { id: top.conceptId, name: top.name };
      }
    }
    return undefined;
  }
}

/**
 * The anaesthesia of a procedure: the front page's 麻醉方式 for the same code or name, else the
 * 麻醉方法 line of a 手术记录 that names the operation.
 */
function anesthesiaOf(record: PatientRecord, p: PatientRecord['procedures'][number]): string | undefined {
  const fp = (record.frontPage?.procedures ?? []).find(
    (x) =>
      x.anesthesiaMethod &&
      ((p.code && x.code === p.code) || (x.name && foldText(x.name) === foldText(p.name))),
  );
  if (fp?.anesthesiaMethod) return fp.anesthesiaMethod;
  for (const d of record.documents) {
    if (!/手术记录/.test(d.type) || !d.text.includes(p.name)) continue;
    const m = /麻醉(?:方法|方式)[:：]\s*([^\s\u3000，。；]+)/.exec(d.text);
    if (m) return m[1];
  }
  return undefined;
}

function intervalOf(order: PatientRecord['medications'][number]): { start: number; end: number } {
  const start = toEpochMs(order.startTime);
  const stop = order.stopTime ? toEpochMs(order.stopTime) : Number.POSITIVE_INFINITY;
  const end = order.kind === 'once' ? Math.min(stop, start + DAY_MS) : stop;
  return { start, end: Number.isNaN(end) ? Number.POSITIVE_INFINITY : end };
}

function latestTime(record: PatientRecord): string {
  let best = record.encounter.admissionTime;
  let bestMs = toEpochMs(best);
  const consider = (t: string | undefined) => {
    if (!t) return;
    const ms = toEpochMs(t);
    if (ms > bestMs) {
      bestMs = ms;
      best = t;
    }
  };
  for (const m of record.medications) consider(m.startTime);
  for (const l of record.labs) consider(l.time);
  for (const v of record.vitals) consider(v.time);
  for (const d of record.documents) consider(d.createdTime);
  return best;
}

function describeOrder(o: PatientRecord['medications'][number]): string {
  const dose = o.dose !== undefined ? ` ${o.dose}${o.doseUnit ?? ''}` : '';
  const parts = [`${o.drugName}${dose}`, o.route, o.frequency].filter(Boolean).join(' ');
  const time = o.stopTime ? `${o.startTime} 至 ${o.stopTime}` : `${o.startTime} 起`;
  return `医嘱 ${o.id}：${parts}（${o.kind === 'once' ? '临时' : '长期'}，${time}）`;
}

const STATUS_OF: Record<string, ConditionStatus> = {
  present: 'present',
  negated: 'negated',
  possible: 'possible',
  historical: 'historical',
  family: 'family',
  hypothetical: 'hypothetical',
};

const ALLERGY_AFTER = /^\s*(类|类药物|类药|等药物|等|药物|制剂)?\s*(皮试阳性|过敏)/;
const ALLERGY_BEFORE = /对\s*$/;

function mentionEvidence(documentId: string, m: Mention, label: string): Evidence {
  return {
    kind: 'text',
    ref: documentId,
    documentId,
    span: { start: m.start, end: m.end },
    text: `${label}「${m.text}」${m.section ? `（${m.section}）` : ''}`,
    data: {
      assertion: m.assertion.status,
      ...(m.assertion.trigger ? { trigger: m.assertion.trigger.text } : {}),
    },
  };
}

/** Documents that summarise the stay after the fact: their mentions say nothing about when. */
const SUMMARY_DOCUMENTS = new Set([
  '出院记录',
  '转科记录',
  '阶段小结',
  '24小时内入出院记录',
  '24小时内入院死亡记录',
  '死亡记录',
  '死亡病例讨论记录',
  '交接班记录',
]);

/**
 * Whole-stay review: a condition documented as present only in dated notes of part of the stay is
 * bounded to that part, so a drug started after the condition resolved (metformin restarted after
 * septic shock) is not paired with it. Coded diagnoses take the window of their text mentions.
 */
function assignConditionPeriods(conditions: ConditionFact[], record: PatientRecord): void {
  const docTime = new Map(
    record.documents
      .filter((d) => !SUMMARY_DOCUMENTS.has(d.type))
      .map((d) => [d.id, toEpochMs(d.eventTime ?? d.createdTime)]),
  );
  const windows = new Map<string, { start: number; end: number }>();
  for (const c of conditions) {
    if (c.source !== 'text' || c.status !== 'present' || !c.conceptId) continue;
    const t = docTime.get(c.provenance.documentId ?? '');
    if (t === undefined || Number.isNaN(t)) continue;
    const w = windows.get(c.conceptId);
    windows.set(c.conceptId, { start: Math.min(w?.start ?? t, t), end: Math.max(w?.end ?? t, t) });
  }
  const summaries = new Set(record.documents.filter((d) => SUMMARY_DOCUMENTS.has(d.type)).map((d) => d.id));
  for (const c of conditions) {
    if (c.status !== 'present' || !c.conceptId) continue;
    const w = windows.get(c.conceptId);
    if (w) c.period = { start: w.start - DAY_MS, end: w.end + 3 * DAY_MS };
    // Named only in a summary (出院记录 诊疗经过: 休克纠正后…): no time of its own, and the coded
    // diagnoses already carry what the summary lists; it does not pair with orders by itself.
    else if (c.source === 'text' && summaries.has(c.provenance.documentId ?? ''))
      c.period = { start: 0, end: 0 };
  }
}

/**
 * A Latin-letter mention that is a unit or a setting, not a concept: lowercase (mm, ml), or written
 * next to a number (VT 420ml is a tidal volume, not ventricular tachycardia).
 */
function isSuspectAbbreviation(text: string, m: Mention): boolean {
  if (!/^[A-Za-z0-9+-]+$/.test(m.text)) return false;
  if (m.text.length <= 3 && m.text === m.text.toLowerCase()) return true;
  const after = text.slice(m.end, m.end + 3);
  const before = text.slice(Math.max(0, m.start - 2), m.start);
  return /^\s*[:：=]?\s*\d/.test(after) || /\d\s*$/.test(before);
}

/**
 * Build the patient facts the rule packs read from a validated record and (optionally) the
 * context-aware mentions of its documents. Every fact keeps its provenance.
 */
export async function buildFacts(record: PatientRecord, input: BuildFactsInput): Promise<PatientFacts> {
  const resolver = new ConceptResolver(input.graph, input.linker);
  const discharged = Boolean(record.encounter.dischargeTime);
  const mode: EvaluationMode = input.mode ?? (input.at === undefined && discharged ? 'stay' : 'point');
  const at = input.at ?? (discharged ? record.encounter.dischargeTime! : latestTime(record));
  const atMs = toEpochMs(at);
  const inWindow = (t: string | undefined) => mode === 'stay' || t === undefined || toEpochMs(t) <= atMs;

  // Medications ---------------------------------------------------------------------------------
  const medications: MedicationFact[] = [];
  for (const [i, o] of record.medications.entries()) {
    if (o.status === 'cancelled') continue;
    const interval = intervalOf(o);
    if (mode === 'point') {
      if (o.status === 'draft') {
        // A draft order is the one being signed: it counts from now on.
        interval.start = Math.min(interval.start, atMs);
      } else if (o.status === 'active') {
        if (!(interval.start <= atMs && atMs < interval.end)) continue;
      } else if (!(o.stopTime || o.kind === 'once') || !(interval.start <= atMs && atMs < interval.end))
        continue;
    } else if (o.status === 'draft') continue;
    const linked = await resolver.resolve(o.drugName, ['Drug', 'DrugClass']);
    const classes = linked?.ancestors ?? [];
    medications.push(
      await enrichMedication(
        {
          id: o.id,
          name: o.drugName,
          ...(linked ? { conceptId: linked.id } : {}),
          conceptName: linked?.name ?? o.drugName,
          classIds: classes.map((c) => c.id),
          classNames: classes.map((c) => c.name),
          ...(o.dose !== undefined ? { dose: o.dose } : {}),
          ...(o.doseUnit ? { doseUnit: o.doseUnit } : {}),
          ...(o.route ? { route: o.route, routeKind: routeKind(o.route)! } : {}),
          ...(o.frequency ? { frequency: o.frequency } : {}),
          ...(timesPerDay(o.frequency) !== undefined ? { timesPerDay: timesPerDay(o.frequency)! } : {}),
          once: o.kind === 'once' || /^(st|stat|once|立即)$/i.test(o.frequency ?? ''),
          systemic: true,
          status: o.status,
          startTime: o.startTime,
          ...(o.stopTime ? { stopTime: o.stopTime } : {}),
          interval,
          provenance: {
            kind: 'order',
            ref: o.id,
            text: describeOrder(o),
            data: {
              path: `medications[${i}]`,
              drugName: o.drugName,
              ...(o.dose !== undefined ? { dose: o.dose } : {}),
              ...(o.doseUnit ? { doseUnit: o.doseUnit } : {}),
              ...(o.route ? { route: o.route } : {}),
              ...(o.frequency ? { frequency: o.frequency } : {}),
              startTime: o.startTime,
              ...(o.stopTime ? { stopTime: o.stopTime } : {}),
              kind: o.kind,
              status: o.status,
            },
          },
        },
        input.graph,
      ),
    );
  }

  // Conditions ----------------------------------------------------------------------------------
  const conditions: ConditionFact[] = [];
  for (const [i, d] of record.diagnoses.entries()) {
    if (d.type === 'external-cause') continue;
    // Read at a moment, a diagnosis made later (its time after `at`) is not known yet. One without
    // a time of its own: the discharge diagnoses of a discharged record (principal, secondary,
    // discharge, pathology: the front page's) are written at discharge; admission and outpatient
    // diagnoses, and any of a patient still in hospital (a current problem list), count throughout.
    if (
      !inWindow(
        d.time ?? (discharged && DISCHARGE_TYPES.has(d.type) ? record.encounter.dischargeTime : undefined),
      )
    )
      continue;
    let linked = await resolver.resolve(d.name, ['Disease', 'Symptom']);
    if (!linked && d.code) {
      for (const system of ['ICD-10', 'ICD-10-GL2.0', 'ICD-10-YB2.0']) {
        const c = await input.graph.conceptByCode(system, d.code);
        if (c) {
          linked = await resolver.resolve(c.name, ['Disease', 'Symptom'], c.id);
          break;
        }
      }
    }
    conditions.push({
      name: d.name,
      ...(linked ? { conceptId: linked.id } : {}),
      conceptName: linked?.name ?? d.name,
      ancestorIds: linked ? [linked.id, ...linked.ancestors.map((a) => a.id)] : [],
      status: 'present',
      source: 'diagnosis',
      ...(d.code ? { code: d.code } : {}),
      provenance: {
        kind: 'diagnosis',
        ref: `diagnoses[${i}]`,
        text: `诊断：${d.name}${d.code ? `（${d.code}）` : ''}`,
        data: { type: d.type, ...(d.code ? { code: d.code } : {}) },
      },
    });
  }

  // Allergies -----------------------------------------------------------------------------------
  const allergies: AllergyFact[] = [];
  for (const [i, a] of record.allergies.entries()) {
    const linked = await resolver.resolve(a.substance, ['Drug', 'DrugClass']);
    allergies.push({
      substance: a.substance,
      ...(linked ? { conceptId: linked.id } : {}),
      conceptName: linked?.name ?? a.substance,
      ...(a.reaction ? { reaction: a.reaction } : {}),
      ...(a.severity ? { severity: a.severity } : {}),
      source: 'allergy-list',
      provenance: {
        kind: 'allergy',
        ref: `allergies[${i}]`,
        text: `过敏史：${a.substance}${a.reaction ? `（${a.reaction}）` : ''}`,
      },
    });
  }
  for (const [i, s] of (record.frontPage?.allergyDrugs ?? []).entries()) {
    const linked = await resolver.resolve(s, ['Drug', 'DrugClass']);
    allergies.push({
      substance: s,
      ...(linked ? { conceptId: linked.id } : {}),
      conceptName: linked?.name ?? s,
      source: 'front-page',
      provenance: { kind: 'field', ref: `frontPage.allergyDrugs[${i}]`, text: `病案首页过敏药物：${s}` },
    });
  }

  // Labs and vitals -----------------------------------------------------------------------------
  const labs: LabFact[] = [];
  for (const l of record.labs) {
    if (!inWindow(l.time)) continue;
    const key = labKey(l.item);
    const numeric = key ? labNumeric(key, l.value, l.unit) : undefined;
    labs.push({
      id: l.id,
      ...(key ? { key } : {}),
      item: l.item,
      value: l.value,
      ...(numeric !== undefined ? { numeric } : {}),
      ...(l.unit ? { unit: l.unit } : {}),
      ...(l.flag ? { flag: l.flag } : {}),
      time: l.time,
      source: 'lab',
      provenance: {
        kind: 'lab',
        ref: l.id,
        text: `检验 ${l.item} ${l.value}${l.unit ?? ''}${l.flag ? ` ${l.flag}` : ''}（${l.time}）`,
        data: { item: l.item, value: l.value, ...(l.unit ? { unit: l.unit } : {}), time: l.time },
      },
    });
  }
  const vitals: VitalFact[] = [];
  for (const [i, v] of record.vitals.entries()) {
    if (!inWindow(v.time)) continue;
    const numeric = typeof v.value === 'number' ? v.value : Number.parseFloat(v.value);
    vitals.push({
      kind: v.kind,
      value: v.value,
      ...(Number.isFinite(numeric) ? { numeric } : {}),
      ...(v.unit ? { unit: v.unit } : {}),
      time: v.time,
      ...(v.onOxygen !== undefined ? { onOxygen: v.onOxygen } : {}),
      provenance: {
        kind: 'vital',
        ref: `vitals[${i}]`,
        text: `生命体征 ${v.kind} ${v.value}${v.unit ?? ''}（${v.time}）`,
      },
    });
  }

  // Text-derived facts --------------------------------------------------------------------------
  const documents = record.documents.filter((d) => inWindow(d.createdTime));
  const docIds = new Set(documents.map((d) => d.id));
  for (const { documentId, annotation } of input.annotations ?? []) {
    if (!docIds.has(documentId) && record.documents.some((d) => d.id === documentId)) continue;
    const text = annotation.text;
    const doc = record.documents.find((d) => d.id === documentId);
    const docTime = doc ? (doc.eventTime ?? doc.createdTime) : undefined;
    for (const v of annotation.vitals) {
      // 胎心率142次/分 is the fetus's heart rate, not the patient's pulse.
      if (/胎(心)?$/.test(text.slice(Math.max(0, v.start - 2), v.start))) continue;
      const provenance: Evidence = {
        kind: 'text',
        ref: documentId,
        documentId,
        span: { start: v.start, end: v.end },
        text: `文本生命体征「${v.text}」`,
      };
      const parts: [string, number | undefined, string][] =
        v.kind === 'bloodPressure'
          ? [
              ['systolicBP', v.systolic ?? v.value, 'mmHg'],
              ['diastolicBP', v.diastolic, 'mmHg'],
            ]
          : [[v.kind, v.value, v.unit]];
      for (const [kind, value, unit] of parts) {
        if (value === undefined) continue;
        vitals.push({ kind, value, numeric: value, unit, ...(docTime ? { time: docTime } : {}), provenance });
      }
    }
    for (const m of annotation.mentions) {
      if (isSuspectAbbreviation(text, m)) continue;
      const status = STATUS_OF[m.assertion.status] ?? 'present';
      if (m.type === 'disease' || m.type === 'symptom') {
        const linked = await resolver.resolve(m.text, ['Disease', 'Symptom'], m.conceptId);
        conditions.push({
          name: m.text,
          ...(linked ? { conceptId: linked.id } : {}),
          conceptName: linked?.name ?? m.text,
          ancestorIds: linked ? [linked.id, ...linked.ancestors.map((a) => a.id)] : [],
          status,
          source: 'text',
          provenance: mentionEvidence(documentId, m, m.type === 'disease' ? '文本诊断' : '文本症状'),
        });
      } else if (m.type === 'drug') {
        const after = text.slice(m.end, m.end + 8);
        const before = text.slice(Math.max(0, m.start - 2), m.start);
        const isAllergy =
          ALLERGY_AFTER.test(after) || (ALLERGY_BEFORE.test(before) && /^\s*过敏/.test(after));
        if (!isAllergy || status === 'negated' || status === 'family' || status === 'hypothetical') continue;
        const linked = await resolver.resolve(m.text, ['Drug', 'DrugClass'], m.conceptId);
        allergies.push({
          substance: m.text,
          ...(linked ? { conceptId: linked.id } : {}),
          conceptName: linked?.name ?? m.text,
          source: 'text',
          provenance: mentionEvidence(documentId, m, '文本过敏史'),
        });
      } else if (m.type === 'lab' && status !== 'negated' && status !== 'hypothetical') {
        const attrs = m.attributes ?? {};
        const value = attrs.value;
        if (typeof value !== 'number' && typeof value !== 'string') continue;
        const key = labKey(m.text);
        const unit = typeof attrs.unit === 'string' ? attrs.unit : undefined;
        const numeric = key ? labNumeric(key, value, unit) : undefined;
        labs.push({
          id: `${documentId}:${m.start}`,
          ...(key ? { key } : {}),
          item: m.text,
          value,
          ...(numeric !== undefined ? { numeric } : {}),
          ...(unit ? { unit } : {}),
          ...(typeof attrs.flag === 'string' ? { flag: attrs.flag } : {}),
          ...(doc ? { time: doc.eventTime ?? doc.createdTime } : {}),
          source: 'text',
          provenance: mentionEvidence(documentId, m, '文本检验'),
        });
      }
    }
  }
  // A coded diagnosis that the documents only ever mention as past history (十二指肠球部溃疡（已愈合）,
  // 既往史) is history, not a current condition.
  for (const c of conditions) {
    if (c.source !== 'diagnosis' || !c.conceptId) continue;
    const mentions = conditions.filter((t) => t.source === 'text' && t.conceptId === c.conceptId);
    if (mentions.length > 0 && mentions.every((t) => t.status === 'historical')) {
      c.status = 'historical';
      c.provenance = {
        ...c.provenance,
        text: `${c.provenance.text}（病历文本均记为既往史：${mentions[0]!.provenance.text}）`,
        data: { ...c.provenance.data, statusFromText: 'historical' },
      };
    }
  }
  if (mode === 'stay') assignConditionPeriods(conditions, record);
  labs.sort((a, b) => (a.time ? toEpochMs(a.time) : 0) - (b.time ? toEpochMs(b.time) : 0));
  vitals.sort((a, b) => (a.time ? toEpochMs(a.time) : 0) - (b.time ? toEpochMs(b.time) : 0));

  // Patient -------------------------------------------------------------------------------------
  const patientEvidence: Evidence[] = [];
  const age = ageInYears(record.patient.birthDate, at);
  const ageDays = daysBetweenDates(record.patient.birthDate, at);
  patientEvidence.push({
    kind: 'patient',
    ref: 'patient.birthDate',
    text: `出生日期 ${record.patient.birthDate}，评估时 ${age < 1 && Number.isFinite(ageDays) ? `${ageDays} 天` : `${age} 岁`}`,
  });
  const sex =
    record.patient.sex === 'male' || record.patient.sex === 'female' ? record.patient.sex : undefined;
  if (sex)
    patientEvidence.push({
      kind: 'patient',
      ref: 'patient.sex',
      text: `性别 ${sex === 'male' ? '男' : '女'}`,
    });
  const weightVital = [...vitals].reverse().find((v) => v.kind === 'weight' && v.numeric !== undefined);
  const weightKg = record.patient.weightKg ?? weightVital?.numeric;
  const heightVital = [...vitals].reverse().find((v) => v.kind === 'height' && v.numeric !== undefined);
  const heightCm = record.patient.heightCm ?? heightVital?.numeric;
  if (weightKg !== undefined)
    patientEvidence.push({ kind: 'patient', ref: 'patient.weightKg', text: `体重 ${weightKg} kg` });
  const presentNames = conditions.filter((c) => c.status === 'present').map((c) => c.conceptName + c.name);
  const pregnant =
    record.patient.pregnant ??
    (sex === 'female' && presentNames.some((n) => /妊娠|孕\d+周|怀孕|早孕|中孕|晚孕/.test(n)));
  const lactating =
    record.patient.lactating ?? (sex === 'female' && presentNames.some((n) => /哺乳/.test(n)));
  if (pregnant) patientEvidence.push({ kind: 'patient', ref: 'patient.pregnant', text: '妊娠状态' });
  if (lactating) patientEvidence.push({ kind: 'patient', ref: 'patient.lactating', text: '哺乳期' });

  let egfr: PatientFacts['egfr'];
  const creat = [...labs]
    .reverse()
    .find((l) => l.key === 'creatinine' && l.numeric !== undefined && l.source === 'lab');
  if (creat && sex && Number.isFinite(age)) {
    const value = ckdEpi2021(creat.numeric!, age, sex);
    if (value !== undefined) {
      egfr = {
        value,
        method: 'CKD-EPI 2021',
        provenance: {
          kind: 'lab',
          ref: creat.id,
          text: `eGFR ${value} mL/min/1.73m²（CKD-EPI 2021，肌酐 ${creat.value}${creat.unit ?? ''}，${age} 岁，${sex === 'male' ? '男' : '女'}）`,
          data: { creatinineUmolL: creat.numeric, age, sex },
        },
      };
    }
  }

  return {
    patientId: record.patient.id,
    encounterId: record.encounter.id,
    evaluation: { mode, at },
    ...(Number.isFinite(age) ? { age } : {}),
    ...(Number.isFinite(ageDays) ? { ageDays } : {}),
    ...(sex ? { sex } : {}),
    ...(weightKg !== undefined ? { weightKg } : {}),
    ...(heightCm !== undefined ? { heightCm } : {}),
    ...(weightKg !== undefined && heightCm !== undefined
      ? { bmi: Math.round((weightKg / (heightCm / 100) ** 2) * 10) / 10 }
      : {}),
    pregnant: Boolean(pregnant),
    lactating: Boolean(lactating),
    ...(egfr ? { egfr } : {}),
    medications,
    conditions,
    allergies,
    labs,
    vitals,
    procedures: record.procedures.map((p, i) => {
      const anesthesia = anesthesiaOf(record, p);
      return {
        name: p.name,
        ...(p.code ? { code: p.code } : {}),
        ...(p.time ? { time: p.time } : {}),
        ...(anesthesia ? { anesthesia } : {}),
        provenance: {
          kind: 'field' as const,
          ref: `procedures[${i}]`,
          text: `手术/操作：${p.name}${p.time ? `（${p.time}）` : ''}${anesthesia ? `，${anesthesia}` : ''}`,
        },
      };
    }),
    department: record.encounter.department,
    admissionTime: record.encounter.admissionTime,
    documents: documents.map((d) => ({
      id: d.id,
      type: d.type,
      time: d.createdTime,
      text: d.text,
      annotated: (input.annotations ?? []).some((a) => a.documentId === d.id),
    })),
    patientEvidence,
  };
}

// ---------------------------------------------------------------------------------------------
// Ad-hoc lists (the `yijian check` command, pharmacists, tests)
// ---------------------------------------------------------------------------------------------

export interface AdHocInput {
  /** Drug names as physicians write them; each may carry `dose unit`, route and frequency: `阿莫西林 500mg po tid`. */
  drugs: string[];
  conditions?: string[];
  /** Conditions recorded as past history (既往史). */
  history?: string[];
  allergies?: string[];
  age?: number;
  /** Age in days, for neonates and infants (age-conditioned interactions); derived from `age` when ≥ 1 year. */
  ageDays?: number;
  sex?: 'male' | 'female';
  egfr?: number;
  weightKg?: number;
  pregnant?: boolean;
  lactating?: boolean;
  /** Lab results, e.g. `{ item: '血钾', value: 6.1, unit: 'mmol/L' }`. */
  labs?: { item: string; value: number | string; unit?: string }[];
}

/** An ad-hoc drug entry's fact without its per-request id and provenance (shared, frozen). */
type DrugTemplate = Omit<MedicationFact, 'id' | 'provenance'>;

const MAX_DRUG_TEMPLATES = 20_000;

/**
 * Facts of ad-hoc drug entries (`华法林钠片 2.5mg 口服 qd`), remembered per graph and linker: order
 * entry sends the same few thousand strings all day, and parsing, linking and classifying one was a
 * third of a medication check. Only for a graph held in memory (it has the synchronous reads and
 * does not change under a running engine); a database-backed store is asked every time.
 */
const templatesByGraph = memoOn(
  (_graph: GraphStore) => new Map<Linker | undefined, Map<string, DrugTemplate>>(),
);
function drugTemplates(graph: GraphStore, linker: Linker | undefined): Map<string, DrugTemplate> | undefined {
  if (!holdsGraphInMemory(graph)) return undefined;
  const byLinker = templatesByGraph(graph);
  let templates = byLinker.get(linker);
  if (!templates) {
    templates = new Map();
    byLinker.set(linker, templates);
  }
  return templates;
}
function rememberTemplate(templates: Map<string, DrugTemplate>, raw: string, m: MedicationFact): void {
  if (templates.size >= MAX_DRUG_TEMPLATES) templates.clear();
  const { id: _id, provenance: _provenance, ...rest } = m;
  Object.freeze(rest.classIds);
  Object.freeze(rest.classNames);
  if (rest.doseClasses) Object.freeze(rest.doseClasses);
  Object.freeze(rest.interval);
  templates.set(raw, Object.freeze(rest));
}

/** Parse `阿莫西林 500mg po tid` into its parts; unknown words are kept in the name. */
export function parseDrugEntry(entry: string): {
  name: string;
  dose?: number;
  doseUnit?: string;
  route?: string;
  frequency?: string;
} {
  const tokens = entry.trim().split(/\s+/);
  const name: string[] = [];
  const out: { dose?: number; doseUnit?: string; route?: string; frequency?: string } = {};
  for (const [i, t] of tokens.entries()) {
    const m = /^(\d+(?:\.\d+)?)(mg|g|μg|ug|mcg|µg|毫克|克|ml|mL|U|IU|单位|万U|片|粒|支)$/.exec(t);
    if (i > 0 && m) {
      out.dose = Number(m[1]);
      out.doseUnit = m[2]!;
    } else if (i > 0 && routeKind(t) !== 'other') out.route = t;
    else if (i > 0 && (timesPerDay(t) !== undefined || /^(st|prn|once)$/i.test(t))) out.frequency = t;
    else name.push(t);
  }
  return { name: name.join(''), ...out };
}

/** Facts from a plain list of drugs, conditions and allergies. */
export async function buildFactsFromLists(
  input: AdHocInput,
  deps: { graph: GraphStore; linker?: Linker },
): Promise<PatientFacts> {
  const resolver = new ConceptResolver(deps.graph, deps.linker);
  const medications: MedicationFact[] = [];
  const templates = drugTemplates(deps.graph, deps.linker);
  for (const [i, raw] of input.drugs.entries()) {
    const id = `input-${i + 1}`;
    const provenance: Evidence = { kind: 'field', ref: `input.drugs[${i}]`, text: `药品：${raw}` };
    const known = templates?.get(raw);
    if (known) {
      medications.push({ ...known, id, provenance });
      continue;
    }
    const d = parseDrugEntry(raw);
    const linked = await resolver.resolve(d.name, ['Drug', 'DrugClass']);
    const tpd = timesPerDay(d.frequency);
    const m = await enrichMedication(
      {
        id,
        name: d.name,
        ...(linked ? { conceptId: linked.id } : {}),
        conceptName: linked?.name ?? d.name,
        classIds: linked?.ancestors.map((a) => a.id) ?? [],
        classNames: linked?.ancestors.map((a) => a.name) ?? [],
        ...(d.dose !== undefined ? { dose: d.dose } : {}),
        ...(d.doseUnit ? { doseUnit: d.doseUnit } : {}),
        ...(d.route ? { route: d.route, routeKind: routeKind(d.route)! } : {}),
        ...(d.frequency ? { frequency: d.frequency } : {}),
        ...(tpd !== undefined ? { timesPerDay: tpd } : {}),
        once: /^(st|once)$/i.test(d.frequency ?? ''),
        systemic: true,
        status: 'active',
        interval: { start: 0, end: Number.POSITIVE_INFINITY },
        provenance,
      },
      deps.graph,
    );
    medications.push(m);
    if (templates) rememberTemplate(templates, raw, m);
  }
  const conditions: ConditionFact[] = [];
  const addConditions = async (names: string[], status: ConditionStatus, field: string) => {
    for (const [i, name] of names.entries()) {
      const linked = await resolver.resolve(name, ['Disease', 'Symptom']);
      conditions.push({
        name,
        ...(linked ? { conceptId: linked.id } : {}),
        conceptName: linked?.name ?? name,
        ancestorIds: linked ? [linked.id, ...linked.ancestors.map((a) => a.id)] : [],
        status,
        source: 'input',
        provenance: {
          kind: 'field',
          ref: `input.${field}[${i}]`,
          text: `${status === 'present' ? '诊断' : '既往史'}：${name}`,
        },
      });
    }
  };
  await addConditions(input.conditions ?? [], 'present', 'conditions');
  await addConditions(input.history ?? [], 'historical', 'history');
  const allergies: AllergyFact[] = [];
  for (const [i, name] of (input.allergies ?? []).entries()) {
    const linked = await resolver.resolve(name.replace(/过敏(史)?$/, ''), ['Drug', 'DrugClass']);
    allergies.push({
      substance: name,
      ...(linked ? { conceptId: linked.id } : {}),
      conceptName: linked?.name ?? name,
      source: 'input',
      provenance: { kind: 'field', ref: `input.allergies[${i}]`, text: `过敏史：${name}` },
    });
  }
  const labs: LabFact[] = (input.labs ?? []).map((l, i) => {
    const key = labKey(l.item);
    const numeric = key ? labNumeric(key, l.value, l.unit) : undefined;
    return {
      id: `input-lab-${i + 1}`,
      ...(key ? { key } : {}),
      item: l.item,
      value: l.value,
      ...(numeric !== undefined ? { numeric } : {}),
      ...(l.unit ? { unit: l.unit } : {}),
      source: 'input' as const,
      provenance: {
        kind: 'field' as const,
        ref: `input.labs[${i}]`,
        text: `检验 ${l.item} ${l.value}${l.unit ?? ''}`,
      },
    };
  });
  const presentNames = conditions.filter((c) => c.status === 'present').map((c) => c.conceptName + c.name);
  const patientEvidence: Evidence[] = [];
  if (input.age !== undefined)
    patientEvidence.push({ kind: 'patient', ref: 'input.age', text: `年龄 ${input.age} 岁` });
  if (input.ageDays !== undefined)
    patientEvidence.push({ kind: 'patient', ref: 'input.ageDays', text: `日龄 ${input.ageDays} 天` });
  if (input.sex)
    patientEvidence.push({
      kind: 'patient',
      ref: 'input.sex',
      text: `性别 ${input.sex === 'male' ? '男' : '女'}`,
    });
  if (input.weightKg !== undefined)
    patientEvidence.push({ kind: 'patient', ref: 'input.weightKg', text: `体重 ${input.weightKg} kg` });
  return {
    patientId: 'ad-hoc',
    encounterId: 'ad-hoc',
    evaluation: { mode: 'point' },
    ...(input.age !== undefined ? { age: input.age } : {}),
    ...(input.ageDays !== undefined
      ? { ageDays: input.ageDays }
      : input.age !== undefined && input.age >= 1
        ? { ageDays: Math.floor(input.age * 365.25) }
        : {}),
    ...(input.sex ? { sex: input.sex } : {}),
    ...(input.weightKg !== undefined ? { weightKg: input.weightKg } : {}),
    pregnant: input.pregnant ?? presentNames.some((n) => /妊娠|怀孕|早孕|中孕|晚孕/.test(n)),
    lactating: input.lactating ?? presentNames.some((n) => /哺乳/.test(n)),
    ...(input.egfr !== undefined
      ? {
          egfr: {
            value: input.egfr,
            method: 'input' as const,
            provenance: {
              kind: 'field' as const,
              ref: 'input.egfr',
              text: `eGFR ${input.egfr} mL/min/1.73m²（输入）`,
            },
          },
        }
      : {}),
    medications,
    conditions,
    allergies,
    labs,
    vitals: [],
    procedures: [],
    documents: [],
    patientEvidence,
  };
}

/** Convert a dose to mg where possible (exported for the dose pack and tests). */
export function doseInMg(m: MedicationFact): number | undefined {
  return m.dose === undefined ? undefined : toMg(m.dose, m.doseUnit);
}
