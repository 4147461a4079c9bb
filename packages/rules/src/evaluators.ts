import type { Concept, GraphStore, Interaction } from '@yijian/knowledge-graph';
import type { Hit } from './alert.js';
import { renderPath, sortedKey } from './alert.js';
import { areCoActive, conceptOf, doseInMg } from './facts.js';
import {
  type Binding,
  type CompiledCondition,
  type CompiledDrugSelector,
  type CompiledNames,
  dailyDoseMg,
  evaluateCondition,
  latestLab,
  matchesCondition,
  matchesDrug,
  medsMatching,
} from './match.js';
import { memoOn } from './memo.js';
import { foldText, labInfo, toMg } from './normalise.js';
import type {
  AllergyRule,
  ContraindicationRule,
  CriticalValueRule,
  DoseEntry,
  DoseRule,
  DrugPropertyRule,
  DuplicateRule,
  InteractionRule,
  MatchRule,
} from './schema.js';
import type { ConditionFact, Evidence, LabFact, MedicationFact, PatientFacts, Severity } from './types.js';
import { SEVERITY_RANK } from './types.js';

const LOWER: Record<Severity, Severity> = { critical: 'warning', warning: 'info', info: 'info' };
const TIER_ZH = { major: '严重', moderate: '中度', minor: '轻度' } as const;

/** The rendered text of a graph path; paths come from the long-lived graph, so it is kept per path. */
const pathTextOf = memoOn((path: Interaction['path']) => renderPath(path));

function graphEvidence(
  ref: string,
  path: Interaction['path'],
  text: string,
  data: Record<string, unknown>,
): Evidence {
  return { kind: 'graph', ref, text, path, data };
}

function medVars(m: MedicationFact) {
  return {
    name: m.name,
    conceptName: m.conceptName,
    dose: m.dose,
    doseUnit: m.doseUnit ?? '',
    route: m.route ?? '',
    frequency: m.frequency ?? '',
    orderId: m.id,
  };
}

/**
 * Orders by linked concept id (those `use` keeps); with `doseClasses`, an order is also listed under
 * each dose-dependent class it joins at its dose, so graph queries reach class-level facts.
 */
function byConcept(
  facts: PatientFacts,
  use: (m: MedicationFact) => boolean = () => true,
  doseClasses = false,
): Map<string, MedicationFact[]> {
  const map = new Map<string, MedicationFact[]>();
  const put = (id: string, m: MedicationFact) => {
    const list = map.get(id);
    if (list) list.push(m);
    else map.set(id, [m]);
  };
  for (const m of facts.medications) {
    if (!m.conceptId || !use(m)) continue;
    put(m.conceptId, m);
    if (doseClasses) for (const c of m.doseClasses ?? []) put(c.id, m);
  }
  return map;
}

// Drug–drug interactions ------------------------------------------------------------------------

export interface PairOverride {
  a: CompiledDrugSelector;
  b: CompiledDrugSelector;
  severity: Severity;
  presentation?: 'interruptive' | 'passive';
  minAge?: number;
  note: string;
}

const matchesPair = (
  side: { a: Set<MedicationFact>; b: Set<MedicationFact> },
  x: MedicationFact,
  y: MedicationFact,
) => (side.a.has(x) && side.b.has(y)) || (side.a.has(y) && side.b.has(x));

export async function evaluateInteractions(
  rule: InteractionRule,
  pairOverrides: PairOverride[],
  facts: PatientFacts,
  graph: GraphStore,
): Promise<Hit[]> {
  // Local eye/ear/skin preparations take no part in systemic interactions.
  const meds = byConcept(facts, (m) => m.systemic !== false, true);
  if (meds.size < 2) return [];
  const interactions = await graph.interactionsAmong([...meds.keys()].sort());
  // Which orders each override side matches, computed once, when the first interaction needs it.
  let sideSets: { a: Set<MedicationFact>; b: Set<MedicationFact> }[] | undefined;
  const overrideSides = () =>
    (sideSets ??= pairOverrides.map((o) => ({
      a: new Set(medsMatching(o.a, facts.medications)),
      b: new Set(medsMatching(o.b, facts.medications)),
    })));
  // One alert per pair of orders: the most severe interaction found for them (a drug pair and its
  // dose-dependent class can both match, e.g. aspirin 3 g/d and ibuprofen).
  const best = new Map<string, { hit: Hit; rank: number }>();
  const seen = new Set<string>();
  for (const ix of interactions) {
    const [da, db] = ix.drugs;
    const pairKey = sortedKey([da.id, db.id]);
    if (seen.has(pairKey)) continue;
    const as = meds.get(da.id) ?? [];
    const bs = meds.get(db.id) ?? [];
    const pairs: [MedicationFact, MedicationFact][] = [];
    for (const a of as)
      for (const b of bs)
        if (a.id !== b.id && a.conceptId !== b.conceptId && areCoActive(a, b)) pairs.push([a, b]);
    if (pairs.length === 0) continue;
    seen.add(pairKey);
    const orders: MedicationFact[] = [];
    for (const pair of pairs) for (const m of pair) if (!orders.some((o) => o.id === m.id)) orders.push(m);
    const a = pairs[0]![0];
    const b = pairs[0]![1];
    // Age-conditioned edges (ceftriaxone + calcium: major up to 28 days): older patients get
    // severityOtherwise; without an age the edge keeps its severity (the safe reading).
    let tier = ix.severity;
    let aboveAge = false;
    let ageNote = '';
    const ageEvidence: Evidence[] = [];
    if (ix.ageMaxDays !== undefined && ix.severityOtherwise !== undefined) {
      ageEvidence.push(...facts.patientEvidence.filter((e) => /birthDate|input\.age/.test(e.ref ?? '')));
      if (facts.ageDays !== undefined && facts.ageDays > ix.ageMaxDays) {
        tier = ix.severityOtherwise;
        aboveAge = true;
        ageNote = `患者日龄 ${facts.ageDays} 天 > ${ix.ageMaxDays} 天：按${TIER_ZH[tier]}处理（${ix.ageMaxDays} 天以内为${TIER_ZH[ix.severity]}）。`;
      } else
        ageNote =
          facts.ageDays === undefined
            ? `年龄未知：按 ${ix.ageMaxDays} 天以内的${TIER_ZH[ix.severity]}等级处理。`
            : `患者日龄 ${facts.ageDays} 天 ≤ ${ix.ageMaxDays} 天：${TIER_ZH[ix.severity]}。`;
    }
    let severity = (aboveAge ? rule.severityMapAboveAge[tier] : undefined) ?? rule.severityMap[tier];
    let presentation: 'interruptive' | 'passive' | undefined;
    // A dose-dependent class side (aspirin at analgesic dose as a salicylate) is not the low-dose
    // combination the low-priority overrides were written for.
    const doseClassSide = (side: string, m: MedicationFact) => m.doseClasses?.some((c) => c.id === side);
    const viaDoseClass = orders.some((m) => doseClassSide(da.id, m) || doseClassSide(db.id, m));
    const low = viaDoseClass
      ? undefined
      : pairOverrides.find(
          (o, k) =>
            (o.minAge === undefined || (facts.age !== undefined && facts.age >= o.minAge)) &&
            matchesPair(overrideSides()[k]!, a, b),
        );
    if (low) {
      severity = low.severity;
      presentation = low.presentation;
    }
    const doseEvidence: Evidence[] = [];
    for (const m of orders)
      for (const c of m.doseClasses ?? [])
        if (c.id === da.id || c.id === db.id)
          doseEvidence.push({ kind: 'graph', ref: `${m.conceptId}>${c.id}`, text: c.basis });
    const pathText = pathTextOf(ix.path);
    const hit: Hit = {
      severity,
      ...(presentation ? { presentation } : {}),
      vars: {
        a: medVars(a),
        b: medVars(b),
        interaction: {
          severity: TIER_ZH[tier],
          mechanism: ix.mechanism,
          // The effect an age-conditioned edge names (neonatal precipitates) is not this patient's.
          effect: aboveAge ? `${ix.ageMaxDays} 天以内新生儿${ix.effect}；本患者${ix.management}` : ix.effect,
          management: ix.management,
          level: ix.level === 'class' ? '类别级' : '药物对',
          source: ix.source,
          note: [ageNote, ...doseEvidence.map((e) => e.text), low?.note ?? ''].filter(Boolean).join(' '),
        },
        path: pathText,
      },
      evidence: [
        ...orders.map((m) => m.provenance),
        ...doseEvidence,
        ...ageEvidence,
        graphEvidence(ix.ruleId, ix.path, pathText, {
          severity: ix.severity,
          ...(tier !== ix.severity ? { appliedSeverity: tier, ageMaxDays: ix.ageMaxDays } : {}),
          level: ix.level,
          mechanism: ix.mechanism,
          effect: ix.effect,
          source: ix.source,
        }),
      ],
      key: [a.conceptId!, b.conceptId!],
    };
    const orderKey = sortedKey([a.conceptId!, b.conceptId!]);
    const rank = SEVERITY_RANK[severity];
    const prev = best.get(orderKey);
    if (!prev || rank > prev.rank) best.set(orderKey, { hit, rank });
  }
  return [...best.values()].map((v) => v.hit);
}

// Drug–disease ----------------------------------------------------------------------------------

export interface ContraindicationException {
  sel: CompiledDrugSelector;
  viaClasses: Set<string>;
  maxDailyDoseMg?: number;
  note: string;
}

function overlapsCondition(m: MedicationFact, c: ConditionFact): boolean {
  return !c.period || (m.interval.start < c.period.end && c.period.start < m.interval.end);
}

export async function evaluateContraindications(
  rule: ContraindicationRule,
  exceptions: ContraindicationException[],
  facts: PatientFacts,
  graph: GraphStore,
): Promise<Hit[]> {
  // Local eye/ear/skin orders of a systemic drug (地塞米松滴眼液) take no part; a drug that is itself a
  // local preparation keeps its own relations. Dose-dependent classes (aspirin ≥ 500 mg/d) count.
  const meds = byConcept(facts, (m) => m.systemic !== false || m.localProduct === true, true);
  const usable = facts.conditions.filter(
    (c) => c.conceptId && (c.status === 'present' || (rule.history && c.status === 'historical')),
  );
  if (meds.size === 0 || usable.length === 0) return [];
  const conditionIds = [...new Set(usable.map((c) => c.conceptId!))].sort();
  const found = await graph.contraindicationsOf([...meds.keys()].sort(), conditionIds);
  const hits: Hit[] = [];
  const seen = new Set<string>();
  const alertedConditions = new Map<string, Set<ConditionFact>>();
  for (const ci of found) {
    const key = `${ci.drug.id}+${ci.condition.id}`;
    if (seen.has(key)) continue;
    const matched = usable.filter(
      (c) => c.ancestorIds.includes(ci.condition.id) || c.conceptId === ci.condition.id,
    );
    // Whole-stay review: the order must overlap the time the condition was documented.
    const orders = (meds.get(ci.drug.id) ?? []).filter((m) => matched.some((c) => overlapsCondition(m, c)));
    const conds = matched.filter((c) => orders.some((m) => overlapsCondition(m, c)));
    if (orders.length === 0 || conds.length === 0) continue;
    const via = new Set(ci.path.flatMap((st) => [st.from.name, st.to.name]));
    const excepted = exceptions.some(
      (ex) =>
        [...ex.viaClasses].some((c) => via.has(c)) &&
        orders.every((m) => {
          if (!matchesDrug(ex.sel, m)) return false;
          const daily = dailyDoseMg(m);
          return ex.maxDailyDoseMg === undefined || daily === undefined || daily <= ex.maxDailyDoseMg;
        }),
    );
    if (excepted) continue;
    seen.add(key);
    const present = conds.filter((c) => c.status === 'present');
    const historyOnly = present.length === 0;
    // The graph may reach one patient condition through several ancestors (脓毒性休克 IS_A 休克, 脓毒症):
    // one alert per drug and patient condition, the most severe first (the graph sorts by severity).
    const patientConds = historyOnly ? conds : present;
    // A dose-dependent class (class:salicylates) stands for the orders that joined it: key by drug.
    const drugId = orders[0]!.conceptId!;
    const alerted = alertedConditions.get(drugId) ?? new Set<ConditionFact>();
    if (patientConds.some((c) => alerted.has(c))) continue;
    for (const c of patientConds) alerted.add(c);
    alertedConditions.set(drugId, alerted);
    const doseEvidence: Evidence[] = orders.flatMap((m) =>
      (m.doseClasses ?? [])
        .filter((c) => c.id === ci.drug.id)
        .map((c) => ({ kind: 'graph' as const, ref: `${m.conceptId}>${c.id}`, text: c.basis })),
    );
    let severity = rule.severityMap[ci.relation][ci.severity];
    if (historyOnly && rule.historySeverity === 'downgrade') severity = LOWER[severity];
    // 慎用 is about exposure: a one-off (临时) dose, e.g. midazolam for intubation, is one tier lower.
    if (ci.relation === 'CAUTION_IN' && orders.every((m) => m.once)) severity = LOWER[severity];
    const used = historyOnly ? conds : present;
    const pathText = pathTextOf(ci.path);
    hits.push({
      severity,
      vars: {
        drug: medVars(orders[0]!),
        condition: {
          name: used[0]!.name,
          conceptName: ci.condition.name,
          status: historyOnly ? '既往' : '当前',
        },
        relation: ci.relation === 'CONTRAINDICATED_IN' ? '禁忌' : '慎用',
        reason: ci.reason,
        tier: TIER_ZH[ci.severity],
        path: pathText,
      },
      evidence: [
        ...orders.map((m) => m.provenance),
        ...doseEvidence,
        ...used.map((c) => c.provenance),
        graphEvidence(ci.ruleId, ci.path, pathText, {
          relation: ci.relation,
          severity: ci.severity,
          source: ci.source,
        }),
      ],
      key: [drugId, ci.condition.id],
    });
  }
  return hits;
}

// Allergy ---------------------------------------------------------------------------------------

export async function evaluateAllergies(
  rule: AllergyRule,
  facts: PatientFacts,
  graph: GraphStore,
): Promise<Hit[]> {
  if (facts.allergies.length === 0 || facts.medications.length === 0) return [];
  const meds = byConcept(facts);
  const allergenIds = [
    ...new Set(facts.allergies.filter((a) => a.conceptId).map((a) => a.conceptId!)),
  ].sort();
  const hits: Hit[] = [];
  const seen = new Set<string>();
  if (allergenIds.length && meds.size) {
    const conflicts = await graph.allergyConflicts(allergenIds, [...meds.keys()].sort());
    const rank = (c: (typeof conflicts)[number]) => SEVERITY_RANK[rule.severityMap[c.kind][c.severity]];
    const ordered = [...conflicts].sort((a, b) => rank(b) - rank(a));
    for (const c of ordered) {
      // One alert per ordered drug: the most severe conflict, whichever allergy entry it came from.
      if (seen.has(c.drug.id)) continue;
      seen.add(c.drug.id);
      const orders = meds.get(c.drug.id) ?? [];
      const allergy = facts.allergies.filter((a) => a.conceptId === c.allergen.id);
      if (orders.length === 0) continue;
      hits.push({
        severity: rule.severityMap[c.kind][c.severity],
        vars: {
          drug: medVars(orders[0]!),
          allergen: { name: allergy[0]?.substance ?? c.allergen.name, conceptName: c.allergen.name },
          kind: c.kind === 'direct' ? '直接过敏（同成分/同类）' : '交叉过敏',
          reason: c.reason,
          path: renderPath(c.path),
        },
        evidence: [
          ...allergy.map((a) => a.provenance),
          ...orders.map((m) => m.provenance),
          graphEvidence(`${c.allergen.id}>${c.drug.id}`, c.path, pathTextOf(c.path), {
            kind: c.kind,
            severity: c.severity,
            source: c.source,
          }),
        ],
        key: [c.allergen.id, c.drug.id],
      });
    }
  }
  // Same written name, when the graph knows neither (a local drug name).
  for (const a of facts.allergies) {
    if (a.conceptId) continue;
    const sub = foldText(a.substance).replace(/过敏(史)?$/, '');
    for (const m of facts.medications) {
      if (m.conceptId || sub.length < 2 || !foldText(m.name).includes(sub)) continue;
      hits.push({
        severity: rule.severityMap.direct.major,
        vars: {
          drug: medVars(m),
          allergen: { name: a.substance, conceptName: a.substance },
          kind: '直接过敏（名称相同）',
          reason: '医嘱药品名称包含过敏药物名称',
          path: '',
        },
        evidence: [a.provenance, m.provenance],
        key: [`name:${sub}`, `name:${foldText(m.name)}`],
      });
    }
  }
  return hits;
}

// Match rules -----------------------------------------------------------------------------------

function bindingVars(b: Binding): Record<string, unknown> {
  const vars: Record<string, unknown> = {};
  for (const [name, fact] of Object.entries(b)) {
    if ('interval' in fact) vars[name] = medVars(fact);
    else if ('ancestorIds' in fact) vars[name] = { name: fact.name, conceptName: fact.conceptName };
    else if ('numeric' in fact || 'item' in fact) {
      const lab = fact as LabFact;
      vars[name] = {
        item: lab.item,
        value: lab.value,
        unit: lab.unit ?? labInfo(lab.key ?? '')?.unit ?? '',
        time: lab.time ?? '',
      };
    } else vars[name] = { name: fact.substance, conceptName: fact.conceptName };
  }
  return vars;
}

function bindingKey(b: Binding): string[] {
  return Object.entries(b).map(([name, f]) => {
    if ('interval' in f) return `${name}=${f.conceptId ?? foldText(f.name)}`;
    if ('ancestorIds' in f) return `${name}=${f.conceptId ?? foldText(f.name)}`;
    if ('item' in f) return `${name}=${(f as LabFact).key ?? (f as LabFact).item}`;
    return `${name}=${f.conceptId ?? foldText(f.substance)}`;
  });
}

const usageCache = new WeakMap<MatchRule, { usesAge: boolean; usesEgfr: boolean; usesPatient: boolean }>();
function usage(rule: MatchRule) {
  let u = usageCache.get(rule);
  if (!u) {
    const json = JSON.stringify(rule.when);
    u = {
      usesAge: json.includes('"age"'),
      usesEgfr: json.includes('"egfr"'),
      usesPatient: /"(pregnant|lactating|sex|weight)"/.test(json),
    };
    usageCache.set(rule, u);
  }
  return u;
}

export function evaluateMatch(rule: MatchRule, when: CompiledCondition, facts: PatientFacts): Hit[] {
  const bindings = evaluateCondition(when, facts);
  const hits: Hit[] = [];
  const seen = new Set<string>();
  for (const b of bindings) {
    const meds = Object.values(b).filter((f): f is MedicationFact => 'interval' in f);
    let coActive = true;
    for (let i = 0; i < meds.length && coActive; i++)
      for (let j = i + 1; j < meds.length; j++) if (!areCoActive(meds[i]!, meds[j]!)) coActive = false;
    if (!coActive) continue;
    // Two bindings of one rule are two different drugs: never the same order or the same ingredient.
    const ingredients = meds.map((m) => m.conceptId ?? foldText(m.name));
    if (new Set(ingredients).size < ingredients.length) continue;
    const key = bindingKey(b);
    // Symmetric rules (QT drug + QT drug) bind the same facts under swapped names: one alert.
    const k = key
      .map((x) => x.slice(x.indexOf('=') + 1))
      .sort()
      .join('|');
    if (seen.has(k)) continue;
    seen.add(k);
    const vars = {
      ...bindingVars(b),
      age: facts.age ?? '',
      egfr: facts.egfr?.value ?? '',
      weight: facts.weightKg ?? '',
    };
    const evidence: Evidence[] = Object.values(b).map((f) => f.provenance);
    const { usesAge, usesEgfr, usesPatient } = usage(rule);
    if (usesAge || usesPatient)
      evidence.push(
        ...facts.patientEvidence.filter(
          (e) => usesPatient || e.ref?.endsWith('birthDate') || e.ref === 'input.age',
        ),
      );
    if (usesEgfr && facts.egfr) evidence.push(facts.egfr.provenance);
    hits.push({ severity: rule.severity, vars, evidence, key });
  }
  return hits;
}

// Dose range ------------------------------------------------------------------------------------

export interface CompiledDoseEntry {
  entry: DoseEntry;
  sel: CompiledDrugSelector;
}

const doseIndex = new WeakMap<CompiledDoseEntry[], Map<string, CompiledDoseEntry[]>>();

/** The curated entry for an order: by concept id through an index, by name for unlinked orders. */
function findDoseEntry(entries: CompiledDoseEntry[], m: MedicationFact): DoseEntry | undefined {
  let index = doseIndex.get(entries);
  if (!index) {
    index = new Map();
    for (const e of entries)
      for (const id of e.sel.ids) {
        const list = index.get(id);
        if (list) list.push(e);
        else index.set(id, [e]);
      }
    doseIndex.set(entries, index);
  }
  const candidates = m.conceptId ? (index.get(m.conceptId) ?? []) : entries;
  return candidates.find((e) => matchesDrug(e.sel, m))?.entry;
}

function fmt(n: number): string {
  return String(Math.round(n * 100) / 100);
}

const KG_ROUTE: Record<string, string> = {
  po: 'oral',
  sl: 'oral',
  iv: 'iv',
  im: 'im',
  sc: 'sc',
  inh: 'inhaled',
  neb: 'inhaled',
  rectal: 'rectal',
  topical: 'topical',
  ophthalmic: 'topical',
  otic: 'topical',
  nasal: 'topical',
  transdermal: 'topical',
  vaginal: 'topical',
};

type GraphDoseLimit = { route: string; unit: string; maxSingle?: number; maxDaily?: number; note?: string };
type GraphPediatricLimit = { route: string; unit: string; maxSinglePerKg?: number; maxDailyPerKg?: number };

/** A dose entry from the drug concept's props (doseLimits, pediatricDoseLimits), for the order's route. */
function graphDoseEntry(m: MedicationFact, concept: Concept | undefined): DoseEntry | undefined {
  const props = (concept?.props ?? {}) as Record<string, unknown>;
  const limits = (props.doseLimits as GraphDoseLimit[] | undefined) ?? [];
  const ped = (props.pediatricDoseLimits as GraphPediatricLimit[] | undefined) ?? [];
  const fits = (route: string) => !m.routeKind || KG_ROUTE[route] === m.routeKind;
  // A limit whose daily maximum is below its single maximum is a data error (e.g. 500mg/2g read as mg): skip it.
  const sane = (l: GraphDoseLimit) =>
    l.maxSingle === undefined || l.maxDaily === undefined || l.maxDaily >= l.maxSingle;
  const adult = limits.find((l) => fits(l.route) && toMg(1, l.unit) !== undefined && sane(l));
  const child = ped.find((l) => fits(l.route) && l.unit === 'mg/kg');
  if (!adult && !child) return undefined;
  const factor = adult ? toMg(1, adult.unit)! : 1;
  return {
    drug: m.conceptName,
    ...(adult
      ? {
          adult: {
            ...(adult.maxSingle !== undefined ? { single: adult.maxSingle * factor } : {}),
            ...(adult.maxDaily !== undefined ? { daily: adult.maxDaily * factor } : {}),
          },
        }
      : {}),
    ...(child
      ? {
          pediatric: {
            ...(child.maxSinglePerKg !== undefined ? { singlePerKg: child.maxSinglePerKg } : {}),
            ...(child.maxDailyPerKg !== undefined ? { dailyPerKg: child.maxDailyPerKg } : {}),
            ...(adult?.maxSingle !== undefined ? { single: adult.maxSingle * factor } : {}),
            ...(adult?.maxDaily !== undefined ? { daily: adult.maxDaily * factor } : {}),
          },
        }
      : {}),
    ...(adult?.note ? { note: `${adult.note}（知识图谱）` } : { note: '剂量上限来自知识图谱药物属性' }),
  };
}

export async function evaluateDoses(
  rule: DoseRule,
  entries: CompiledDoseEntry[],
  facts: PatientFacts,
  graph: GraphStore,
): Promise<Hit[]> {
  const hits: Hit[] = [];
  for (const m of facts.medications) {
    // Systemic dose limits do not apply to eye/ear/skin preparations (0.1% 地塞米松滴眼液).
    if (m.systemic === false) continue;
    const curated = findDoseEntry(entries, m);
    let e = curated;
    if (!e && rule.useGraphLimits && m.conceptId) {
      const concept = conceptOf(graph, m.conceptId);
      e = graphDoseEntry(m, concept instanceof Promise ? await concept : concept);
    }
    if (!e) continue;
    if (e.routes && m.routeKind && !e.routes.includes(m.routeKind as never)) continue;
    const single = doseInMg(m);
    const daily = dailyDoseMg(m);
    const problems: { severity: Severity; text: string; kind: string }[] = [];
    const check = (value: number | undefined, limit: number | undefined, label: string, kind: string) => {
      if (value === undefined || limit === undefined || !(value > limit * 1.0001)) return;
      const severity: Severity =
        value >= limit * rule.criticalFactor
          ? 'critical'
          : rule.severity === 'critical'
            ? 'warning'
            : rule.severity;
      problems.push({ severity, kind, text: `${label}${fmt(value)} mg 超过上限 ${fmt(limit)} mg` });
    };
    const pediatric = facts.age !== undefined && facts.age < 18;
    const elderly = facts.age !== undefined && facts.age >= 65;
    const limits = pediatric ? e.pediatric : elderly && e.elderly ? { ...e.adult, ...e.elderly } : e.adult;
    const who = pediatric ? '儿童' : elderly && e.elderly ? '老年人' : '成人';
    if (limits) {
      check(single, limits.single, `${who}单次剂量 `, 'single');
      check(daily, limits.daily, `${who}日剂量 `, 'daily');
      if (facts.weightKg !== undefined) {
        const w = facts.weightKg;
        if (limits.singlePerKg !== undefined && single !== undefined)
          check(
            single,
            limits.singlePerKg * w,
            `${who}单次剂量（${fmt(limits.singlePerKg)} mg/kg × ${w} kg）`,
            'single-kg',
          );
        if (limits.dailyPerKg !== undefined && daily !== undefined)
          check(
            daily,
            limits.dailyPerKg * w,
            `${who}日剂量（${fmt(limits.dailyPerKg)} mg/kg × ${w} kg）`,
            'daily-kg',
          );
      }
    }
    if (e.weeklyOnly && m.timesPerDay !== undefined && m.timesPerDay >= 0.5 && !m.once) {
      problems.push({
        severity: 'critical',
        kind: 'weekly',
        text: `该药为每周给药，医嘱频次「${m.frequency}」为每日给药`,
      });
    }
    let renalNote = '';
    if (facts.egfr && e.renal) {
      const band = [...e.renal].sort((a, b) => a.below - b.below).find((r) => facts.egfr!.value < r.below);
      if (band) {
        renalNote = band.note;
        if (band.avoid)
          problems.push({
            severity: 'critical',
            kind: 'renal-avoid',
            text: `eGFR ${facts.egfr.value} < ${band.below}：${band.note}`,
          });
        else {
          const before = problems.length;
          check(single, band.single, `肾功能（eGFR ${facts.egfr.value}）下单次剂量 `, 'renal-single');
          check(daily, band.daily, `肾功能（eGFR ${facts.egfr.value}）下日剂量 `, 'renal-daily');
          for (const p of problems.slice(before)) p.text += `；${band.note}`;
        }
      }
    }
    if (problems.length === 0) continue;
    const severity = problems.reduce<Severity>(
      (s, p) => (SEVERITY_RANK[p.severity] > SEVERITY_RANK[s] ? p.severity : s),
      'info',
    );
    const evidence: Evidence[] = [m.provenance];
    if (pediatric || elderly) evidence.push(...facts.patientEvidence);
    if (renalNote && facts.egfr) evidence.push(facts.egfr.provenance);
    hits.push({
      severity,
      vars: {
        drug: medVars(m),
        problems: problems.map((p) => p.text).join('；'),
        note: e.note ?? '',
        single: single === undefined ? '' : fmt(single),
        daily: daily === undefined ? '' : fmt(daily),
      },
      evidence,
      key: [m.conceptId ?? foldText(m.name), ...problems.map((p) => p.kind)],
    });
  }
  return hits;
}

// Duplicate therapy -----------------------------------------------------------------------------

const NON_SYSTEMIC = new Set(['topical', 'inhaled']);

export function evaluateDuplicates(
  rule: DuplicateRule,
  groups: { label: string; sel: CompiledDrugSelector; allow: [string, string][] }[],
  facts: PatientFacts,
): Hit[] {
  const hits: Hit[] = [];
  const meds = facts.medications.filter((m) => !m.once && !NON_SYSTEMIC.has(m.routeKind ?? ''));
  if (rule.sameIngredient) {
    const byId = new Map<string, MedicationFact[]>();
    for (const m of meds) {
      const k = m.conceptId ?? `name:${foldText(m.name)}`;
      byId.set(k, [...(byId.get(k) ?? []), m]);
    }
    for (const [k, list] of byId) {
      const overlapping = list.filter((m) => list.some((o) => o !== m && areCoActive(m, o)));
      if (overlapping.length < 2) continue;
      hits.push({
        severity: rule.severity,
        vars: {
          label: `同一成分（${overlapping[0]!.conceptName}）`,
          drugs: overlapping.map((m) => m.name),
          drug: medVars(overlapping[0]!),
        },
        evidence: overlapping.map((m) => m.provenance),
        key: ['same', k],
      });
    }
  }
  for (const g of groups) {
    const members = medsMatching(g.sel, meds);
    const distinct = new Map<string, MedicationFact>();
    for (const m of members)
      distinct.set(m.conceptId ?? foldText(m.name), distinct.get(m.conceptId ?? foldText(m.name)) ?? m);
    if (distinct.size < 2) continue;
    const list = [...distinct.values()];
    const allowed = (a: MedicationFact, b: MedicationFact) =>
      g.allow.some(
        ([x, y]) =>
          (a.conceptName.includes(x) && b.conceptName.includes(y)) ||
          (a.conceptName.includes(y) && b.conceptName.includes(x)),
      );
    const involved = new Set<MedicationFact>();
    for (let i = 0; i < list.length; i++)
      for (let j = i + 1; j < list.length; j++) {
        const a = list[i]!;
        const b = list[j]!;
        if (areCoActive(a, b) && !allowed(a, b)) {
          involved.add(a);
          involved.add(b);
        }
      }
    if (involved.size < 2) continue;
    const inv = [...involved];
    hits.push({
      severity: rule.severity,
      vars: { label: g.label, drugs: inv.map((m) => m.conceptName), drug: medVars(inv[0]!) },
      evidence: inv.map((m) => m.provenance),
      key: ['class', g.label, ...inv.map((m) => m.conceptId ?? foldText(m.name)).sort()],
    });
  }
  return hits;
}

// Critical values -------------------------------------------------------------------------------

export function evaluateCriticalValues(
  rule: CriticalValueRule,
  findings: { sel: CompiledNames; action: string }[],
  facts: PatientFacts,
): Hit[] {
  const hits: Hit[] = [];
  for (const t of rule.thresholds) {
    const candidates: LabFact[] =
      facts.evaluation.mode === 'stay'
        ? facts.labs.filter((l) => l.key === t.test && l.numeric !== undefined)
        : [
            latestLab(facts, t.test),
            ...facts.labs.filter((l) => l.key === t.test && l.source === 'text' && l.numeric !== undefined),
          ].filter((l): l is LabFact => l !== undefined);
    const seen = new Set<string>();
    for (const lab of candidates) {
      // A value quoted in the notes that repeats a structured result is the same result.
      const same = `${lab.key}|${lab.numeric}`;
      if (seen.has(lab.id) || seen.has(same)) continue;
      seen.add(lab.id);
      seen.add(same);
      const v = lab.numeric!;
      const low = t.low !== undefined && v < t.low;
      const high = t.high !== undefined && v > t.high;
      if (!low && !high) continue;
      const info = labInfo(t.test);
      hits.push({
        severity: rule.severity,
        vars: {
          lab: { item: lab.item, value: lab.value, unit: lab.unit ?? info?.unit ?? '', time: lab.time ?? '' },
          direction: low ? '过低' : '过高',
          limit: low ? `< ${t.low}` : `> ${t.high}`,
          action: t.action,
          test: info?.name ?? t.test,
        },
        evidence: [lab.provenance],
        key: [t.test, low ? 'low' : 'high', lab.id],
      });
    }
  }
  const reported = new Set<string>();
  for (const f of findings) {
    for (const c of facts.conditions) {
      if (c.source !== 'text' || !matchesCondition(f.sel, c, false)) continue;
      const k = c.conceptId ?? foldText(c.name);
      if (reported.has(k)) continue;
      reported.add(k);
      hits.push({
        severity: rule.severity,
        vars: {
          lab: { item: c.name, value: '', unit: '', time: '' },
          direction: '',
          limit: '',
          action: f.action,
          test: c.name,
        },
        evidence: [c.provenance],
        key: ['text', c.conceptId ?? foldText(c.name)],
        summary: `危急值（病历记载）：${c.conceptName}：${f.action}`,
      });
    }
  }
  return hits;
}

export type { ConditionFact };

// Drug properties from the graph ----------------------------------------------------------------

const PROPERTY_ZH = {
  pregnancy: '妊娠期',
  lactation: '哺乳期',
  elderly: '老年人',
  renal: '肾功能不全',
} as const;

export async function evaluateDrugProperties(
  rule: DrugPropertyRule,
  facts: PatientFacts,
  graph: GraphStore,
): Promise<Hit[]> {
  const applies =
    rule.property === 'pregnancy'
      ? facts.pregnant
      : rule.property === 'lactation'
        ? facts.lactating
        : rule.property === 'elderly'
          ? facts.age !== undefined && facts.age >= rule.minAge
          : facts.egfr !== undefined;
  if (!applies) return [];
  const hits: Hit[] = [];
  const seen = new Set<string>();
  for (const m of facts.medications) {
    if (!m.conceptId || seen.has(m.conceptId)) continue;
    // Pregnancy, lactation, elderly and renal properties describe systemic exposure.
    if (m.systemic === false && !m.localProduct) continue;
    seen.add(m.conceptId);
    const found = conceptOf(graph, m.conceptId);
    const concept = found instanceof Promise ? await found : found;
    const props = (concept?.props ?? {}) as Record<string, unknown>;
    let value: string | undefined;
    let note = '';
    let band = '';
    if (rule.property === 'pregnancy') {
      const p = props.pregnancy as { category?: string; note?: string } | undefined;
      value = p?.category;
      note = p?.note ?? '';
    } else if (rule.property === 'lactation') {
      const p = props.lactation as { risk?: string; note?: string } | undefined;
      value = p?.risk;
      note = p?.note ?? '';
    } else if (rule.property === 'elderly') {
      const p = props.elderly as { action?: string; note?: string } | undefined;
      value = p?.action;
      note = p?.note ?? '';
    } else {
      const bands = (props.renal as { egfrBelow: number; action: string; note: string }[] | undefined) ?? [];
      const hit = [...bands]
        .sort((a, b) => a.egfrBelow - b.egfrBelow)
        .find((b) => facts.egfr!.value < b.egfrBelow);
      value = hit?.action;
      note = hit?.note ?? '';
      band = hit ? `eGFR ${facts.egfr!.value} < ${hit.egfrBelow}` : '';
    }
    if (value === undefined) continue;
    const severity = rule.severityMap[value];
    if (!severity) continue;
    const evidence: Evidence[] = facts.medications
      .filter((x) => x.conceptId === m.conceptId)
      .map((x) => x.provenance);
    evidence.push({
      kind: 'graph',
      ref: m.conceptId,
      text: `${m.conceptName}（${m.conceptId}）${rule.property}=${value}${note ? `：${note}` : ''}`,
      data: { property: rule.property, value, source: concept?.source ?? '' },
    });
    if (rule.property === 'renal') evidence.push(facts.egfr!.provenance);
    else
      evidence.push(
        ...facts.patientEvidence.filter(
          (e) => rule.property !== 'elderly' || /birthDate|input\.age/.test(e.ref ?? ''),
        ),
      );
    hits.push({
      severity,
      vars: {
        drug: medVars(m),
        value,
        note,
        band,
        who: PROPERTY_ZH[rule.property],
        age: facts.age ?? '',
        egfr: facts.egfr?.value ?? '',
      },
      evidence,
      key: [m.conceptId, rule.property, value],
    });
  }
  return hits;
}
