import { toEpochMs } from '@yijian/emr';
import type { GraphStore } from '@yijian/knowledge-graph';
import { doseInMg } from './facts.js';
import { memoOn } from './memo.js';
import { foldText } from './normalise.js';
import type { Condition, DrugSelector, Range } from './schema.js';
import type { ConditionFact, LabFact, MedicationFact, PatientFacts } from './types.js';

/** A drug selector with its names resolved to graph concept ids. */
export interface CompiledDrugSelector {
  ids: Set<string>;
  names: string[];
  nameSet: Set<string>;
  routes?: Set<string>;
  excludeName?: RegExp;
  dailyDoseMgAbove?: number;
}

export interface CompiledNames {
  ids: Set<string>;
  names: string[];
}

/** Resolves names to concept ids once per engine (graph queries are async). */
export class NameIndex {
  private readonly cache = new Map<string, Promise<string[]>>();
  /** Names that matched nothing in the graph (reported by `engine.diagnostics()`). */
  readonly unresolved = new Set<string>();
  constructor(private readonly graph: GraphStore) {}

  ids(name: string, kinds: 'drug' | 'condition'): Promise<string[]> {
    const key = `${kinds}:${name}`;
    let hit = this.cache.get(key);
    if (!hit) {
      hit = (async () => {
        const found =
          kinds === 'drug'
            ? [
                ...(await this.graph.findByName(name, 'Drug')),
                ...(await this.graph.findByName(name, 'DrugClass')),
              ]
            : [
                ...(await this.graph.findByName(name, 'Disease')),
                ...(await this.graph.findByName(name, 'Symptom')),
              ];
        if (found.length === 0) this.unresolved.add(`${kinds}:${name}`);
        return found.map((c) => c.id);
      })();
      this.cache.set(key, hit);
    }
    return hit;
  }

  async drugSelector(sel: DrugSelector): Promise<CompiledDrugSelector> {
    const names = [...(sel.drugs ?? []), ...(sel.classes ?? [])];
    const ids = new Set<string>();
    for (const n of names) for (const id of await this.ids(n, 'drug')) ids.add(id);
    return {
      ids,
      names: names.map(foldText),
      nameSet: new Set(names.map(foldText)),
      ...(sel.routes ? { routes: new Set(sel.routes) } : {}),
      ...(sel.excludeName ? { excludeName: new RegExp(sel.excludeName) } : {}),
      ...(sel.dailyDoseMgAbove !== undefined ? { dailyDoseMgAbove: sel.dailyDoseMgAbove } : {}),
    };
  }

  async conditionNames(names: string[]): Promise<CompiledNames> {
    const ids = new Set<string>();
    for (const n of names) for (const id of await this.ids(n, 'condition')) ids.add(id);
    return { ids, names: names.map(foldText) };
  }

  async allergyNames(names: string[]): Promise<CompiledNames> {
    const ids = new Set<string>();
    for (const n of names) for (const id of await this.ids(n, 'drug')) ids.add(id);
    return { ids, names: names.map(foldText) };
  }
}

export function dailyDoseMg(m: MedicationFact): number | undefined {
  const mg = doseInMg(m);
  if (mg === undefined) return undefined;
  if (m.once) return mg;
  return m.timesPerDay === undefined ? undefined : mg * m.timesPerDay;
}

/** Folded written and canonical names of a fact, computed once per fact object. */
export const foldedNames: (m: { name: string; conceptName: string }) => { name: string; canonical: string } =
  memoOn((m: { name: string; conceptName: string }) => ({
    name: foldText(m.name),
    canonical: foldText(m.conceptName),
  }));

export function matchesDrug(sel: CompiledDrugSelector, m: MedicationFact): boolean {
  if (sel.routes && m.routeKind && !sel.routes.has(m.routeKind)) return false;
  // A local eye/ear/skin preparation matches only selectors that ask for topical use.
  if (m.systemic === false && !sel.routes?.has('topical')) return false;
  if (sel.excludeName?.test(m.name)) return false;
  let hit = false;
  if (m.conceptId && sel.ids.has(m.conceptId)) hit = true;
  else {
    for (const c of m.classIds)
      if (sel.ids.has(c)) {
        hit = true;
        break;
      }
    if (!hit) {
      const { name, canonical } = foldedNames(m);
      hit =
        sel.nameSet.has(name) ||
        sel.nameSet.has(canonical) ||
        (!m.conceptId && sel.names.some((n) => n.length >= 2 && name.includes(n)));
    }
  }
  if (!hit) return false;
  if (sel.dailyDoseMgAbove !== undefined) {
    const daily = dailyDoseMg(m);
    if (daily === undefined || !(daily > sel.dailyDoseMgAbove)) return false;
  }
  return true;
}

/** Orders of a list by the keys a selector can hit: concept and class ids, folded names; and the unlinked ones. */
interface MedIndex {
  byId: Map<string, number[]>;
  byName: Map<string, number[]>;
  unlinked: number[];
}

function push(map: Map<string, number[]>, key: string, i: number): void {
  const list = map.get(key);
  if (!list) map.set(key, [i]);
  else if (list[list.length - 1] !== i) list.push(i);
}

const medIndexOf = memoOn((meds: readonly MedicationFact[]): MedIndex => {
  const index: MedIndex = { byId: new Map(), byName: new Map(), unlinked: [] };
  for (let i = 0; i < meds.length; i++) {
    const m = meds[i]!;
    if (m.conceptId) push(index.byId, m.conceptId, i);
    else index.unlinked.push(i);
    for (const c of m.classIds) push(index.byId, c, i);
    const { name, canonical } = foldedNames(m);
    push(index.byName, name, i);
    push(index.byName, canonical, i);
  }
  return index;
});

/** Marks of the orders a selector reaches; reused across calls (the function runs to completion). */
let hitScratch = new Uint8Array(64);

/**
 * The orders of `meds` that `sel` matches, in list order: the same as `meds.filter((m) =>
 * matchesDrug(sel, m))`, but only the orders an id or name of the selector can reach are tested
 * (a selector names a few drugs and classes; a record has tens of orders and many selectors run).
 */
export function medsMatching(sel: CompiledDrugSelector, meds: readonly MedicationFact[]): MedicationFact[] {
  if (meds.length === 0) return [];
  const index = medIndexOf(meds);
  if (hitScratch.length < meds.length) hitScratch = new Uint8Array(meds.length * 2);
  const hit = hitScratch;
  hit.fill(0, 0, meds.length);
  let any = false;
  for (const id of sel.ids) {
    const list = index.byId.get(id);
    if (list) for (const i of list) hit[i] = 1;
    any ||= list !== undefined;
  }
  for (const n of sel.nameSet) {
    const list = index.byName.get(n);
    if (list) for (const i of list) hit[i] = 1;
    any ||= list !== undefined;
  }
  if (!any && index.unlinked.length === 0) return [];
  const out: MedicationFact[] = [];
  for (let i = 0; i < meds.length; i++) {
    const m = meds[i]!;
    if ((hit[i] === 1 || !m.conceptId) && matchesDrug(sel, m)) out.push(m);
  }
  return out;
}

export function matchesCondition(sel: CompiledNames, c: ConditionFact, history: boolean): boolean {
  if (!(c.status === 'present' || (history && c.status === 'historical'))) return false;
  if (c.ancestorIds.some((id) => sel.ids.has(id))) return true;
  const { name, canonical } = foldedNames(c);
  return sel.names.some((n) => name.includes(n) || canonical.includes(n));
}

export function inRange(value: number, r: Range): boolean {
  if (r.gt !== undefined && !(value > r.gt)) return false;
  if (r.gte !== undefined && !(value >= r.gte)) return false;
  if (r.lt !== undefined && !(value < r.lt)) return false;
  if (r.lte !== undefined && !(value <= r.lte)) return false;
  return true;
}

/** Latest numeric result of a lab key (at or before the evaluation time). */
export function latestLab(facts: PatientFacts, key: string, withinHours?: number): LabFact | undefined {
  for (let i = facts.labs.length - 1; i >= 0; i--) {
    const l = facts.labs[i]!;
    if (l.key !== key || l.numeric === undefined) continue;
    if (withinHours !== undefined && facts.evaluation.at && l.time) {
      const age = (toEpochMs(facts.evaluation.at) - toEpochMs(l.time)) / 3_600_000;
      if (age > withinHours) return undefined;
    }
    return l;
  }
  return undefined;
}

/**
 * The latest numeric result of a test and the lowest result in the `withinHours` before it (the
 * baseline a rise is measured from); undefined with fewer than two results.
 */
export function labTrend(
  facts: PatientFacts,
  key: string,
  withinHours: number,
): { latest: LabFact; lowest: LabFact; delta: number } | undefined {
  const series = facts.labs.filter(
    (l) => l.key === key && l.numeric !== undefined && l.time && l.source !== 'text',
  );
  const latest = series.at(-1);
  if (!latest || series.length < 2) return undefined;
  const end = toEpochMs(latest.time!);
  let lowest: LabFact | undefined;
  for (const l of series.slice(0, -1)) {
    if (end - toEpochMs(l.time!) > withinHours * 3_600_000) continue;
    if (!lowest || l.numeric! < lowest.numeric!) lowest = l;
  }
  return lowest ? { latest, lowest, delta: latest.numeric! - lowest.numeric! } : undefined;
}

export type Binding = Record<
  string,
  MedicationFact | ConditionFact | LabFact | PatientFacts['allergies'][number]
>;

/** A `when` tree with every selector compiled. */
export type CompiledCondition =
  | { op: 'all'; items: CompiledCondition[] }
  | { op: 'any'; items: CompiledCondition[] }
  | { op: 'not'; item: CompiledCondition }
  | { op: 'drug'; sel: CompiledDrugSelector; as: string }
  | { op: 'condition'; sel: CompiledNames; history: boolean; as: string }
  | { op: 'allergy'; sel: CompiledNames; as: string }
  | { op: 'lab'; test: string; range: Range; as: string; withinHours?: number }
  | { op: 'labRise'; test: string; by?: number; ratio?: number; withinHours: number; as: string }
  | { op: 'test'; fn: (f: PatientFacts) => boolean };

export async function compileCondition(c: Condition, index: NameIndex): Promise<CompiledCondition> {
  if ('all' in c)
    return { op: 'all', items: await Promise.all(c.all.map((x) => compileCondition(x, index))) };
  if ('any' in c)
    return { op: 'any', items: await Promise.all(c.any.map((x) => compileCondition(x, index))) };
  if ('not' in c) return { op: 'not', item: await compileCondition(c.not, index) };
  if ('drug' in c) return { op: 'drug', sel: await index.drugSelector(c.drug), as: c.drug.as ?? 'drug' };
  if ('condition' in c)
    return {
      op: 'condition',
      sel: await index.conditionNames(c.condition.names),
      history: c.condition.history ?? false,
      as: c.condition.as ?? 'condition',
    };
  if ('allergy' in c)
    return { op: 'allergy', sel: await index.allergyNames(c.allergy.names), as: c.allergy.as ?? 'allergy' };
  if ('lab' in c) {
    const { test, as, withinHours, ...range } = c.lab;
    return { op: 'lab', test, range, as: as ?? 'lab', ...(withinHours !== undefined ? { withinHours } : {}) };
  }
  if ('labRise' in c) return { op: 'labRise', ...c.labRise, as: c.labRise.as ?? 'lab' };
  if ('age' in c) return { op: 'test', fn: (f) => f.age !== undefined && inRange(f.age, c.age) };
  if ('sex' in c) return { op: 'test', fn: (f) => f.sex === c.sex };
  if ('pregnant' in c) return { op: 'test', fn: (f) => f.pregnant === c.pregnant };
  if ('lactating' in c) return { op: 'test', fn: (f) => f.lactating === c.lactating };
  if ('egfr' in c) return { op: 'test', fn: (f) => f.egfr !== undefined && inRange(f.egfr.value, c.egfr) };
  return { op: 'test', fn: (f) => f.weightKg !== undefined && inRange(f.weightKg, c.weight) };
}

const MAX_BINDINGS = 64;

/** Every way the facts satisfy the condition; each binding names the facts it used. */
export function evaluateCondition(c: CompiledCondition, facts: PatientFacts): Binding[] {
  switch (c.op) {
    case 'all': {
      let acc: Binding[] = [{}];
      for (const item of c.items) {
        const next = evaluateCondition(item, facts);
        if (next.length === 0) return [];
        const combined: Binding[] = [];
        for (const a of acc)
          for (const b of next) if (combined.length < MAX_BINDINGS) combined.push({ ...a, ...b });
        acc = combined;
      }
      return acc;
    }
    case 'any': {
      const out: Binding[] = [];
      for (const item of c.items) out.push(...evaluateCondition(item, facts));
      return out.slice(0, MAX_BINDINGS);
    }
    case 'not':
      return evaluateCondition(c.item, facts).length === 0 ? [{}] : [];
    case 'drug':
      return medsMatching(c.sel, facts.medications).map((m) => ({ [c.as]: m }));
    case 'condition':
      return facts.conditions
        .filter((x) => matchesCondition(c.sel, x, c.history))
        .map((x) => ({ [c.as]: x }));
    case 'allergy':
      return facts.allergies
        .filter(
          (a) =>
            (a.conceptId !== undefined && c.sel.ids.has(a.conceptId)) ||
            c.sel.names.some((n) => foldText(a.substance).includes(n)),
        )
        .map((a) => ({ [c.as]: a }));
    case 'lab': {
      const lab = latestLab(facts, c.test, c.withinHours);
      return lab && inRange(lab.numeric!, c.range) ? [{ [c.as]: lab }] : [];
    }
    case 'labRise': {
      const t = labTrend(facts, c.test, c.withinHours);
      if (!t) return [];
      const rise = t.latest.numeric! - t.lowest.numeric!;
      const ratio = t.lowest.numeric! > 0 ? t.latest.numeric! / t.lowest.numeric! : 0;
      // Either threshold suffices (KDIGO: +26.5 μmol/L within 48 h, or ×1.5); none given: any rise.
      const hit =
        c.by === undefined && c.ratio === undefined
          ? rise > 0
          : (c.by !== undefined && rise >= c.by) || (c.ratio !== undefined && ratio >= c.ratio);
      return hit ? [{ [c.as]: t.latest, [`${c.as}Baseline`]: t.lowest }] : [];
    }
    case 'test':
      return c.fn(facts) ? [{}] : [];
  }
}
