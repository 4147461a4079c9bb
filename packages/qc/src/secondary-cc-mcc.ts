import {
  fromZodIssues,
  type LabResult,
  type MedicationOrder,
  type PatientRecord,
  toEpochMs,
} from '@yijian/emr';
import { labKey, type PatientFacts } from '@yijian/rules';
import { z } from 'zod';
import { readResource } from './catalog.js';
import { type CcMccLevel, type CcMccTable, higherLevel } from './cc-mcc-table.js';
import { consistencyData } from './consistency.js';
import { isBlank } from './fields.js';
import type { Emit } from './findings.js';
import { matchesAny, normaliseCode } from './icd.js';
import type { Evidence } from './types.js';

/**
 * fp.secondary.cc-mcc-missing (qc-standards.md §1.6 "CC/MCC-relevant secondary diagnoses missing"): the
 * record proves a condition (a lab result past a threshold, a creatinine rise, an order, a front-page
 * field), no front-page diagnosis codes it, and the hospital's CC/MCC table lists one of the codes that
 * would apply as MCC or CC, so the missing code changes the DRG group's weight. Without a CC/MCC table the
 * check does not run. The conditions are data: resources/cc-mcc-evidence.yaml.
 */

// --- data --------------------------------------------------------------------------------------------------

const conversionSchema = z.strictObject({ unit: z.string().min(1), factor: z.number().positive() });
const labKeySchema = z.string().regex(/^[a-z0-9-]+$/, 'a lab key of @yijian/rules labs.yaml');

const labEvidenceSchema = z
  .strictObject({
    lab: labKeySchema,
    below: z.number().optional(),
    above: z.number().optional(),
    unit: z.string().min(1),
    conversions: z.array(conversionSchema).default([]),
    /** Read a value without a unit as the canonical unit (only where no other unit is in use). */
    assumeUnit: z.boolean().default(false),
    /** Results that must pass the threshold. */
    minResults: z.number().int().min(1).default(1),
    excludeSpecimens: z.array(z.string().min(1)).default([]),
    codes: z.array(z.string().min(1)).min(1).optional(),
  })
  .refine((e) => (e.below === undefined) !== (e.above === undefined), {
    message: 'a lab evidence needs exactly one of below and above',
  });

const riseEvidenceSchema = z.strictObject({
  rise: labKeySchema,
  unit: z.string().min(1),
  conversions: z.array(conversionSchema).default([]),
  /** Rise of at least this much (canonical unit) within withinHours. */
  absolute: z.number().positive(),
  withinHours: z.number().positive(),
  /** Or a later value at least ratio × an earlier one within ratioWithinDays. */
  ratio: z.number().gt(1),
  ratioWithinDays: z.number().positive(),
  codes: z.array(z.string().min(1)).min(1).optional(),
});

const treatedEvidenceSchema = z.strictObject({
  /** A label of resources/consistency.yaml treatedConditions. */
  treated: z.string().min(1),
  codes: z.array(z.string().min(1)).min(1).optional(),
});

const frontPageEvidenceSchema = z.strictObject({
  frontPage: z.enum(['red-cell-transfusion']),
  /** The treated-condition label (cs.treated-uncoded) this evidence's finding replaces. */
  supersedes: z.string().min(1).optional(),
  codes: z.array(z.string().min(1)).min(1).optional(),
});

const conditionSchema = z.strictObject({
  id: z.string().regex(/^[a-z0-9-]+$/),
  name: z.string().min(1),
  aliases: z.array(z.string().min(1)).default([]),
  coded: z.array(z.string().min(1)).min(1),
  exceptWhenCoded: z.array(z.string().min(1)).default([]),
  minAgeDays: z.number().int().min(0).optional(),
  codes: z.array(z.strictObject({ code: z.string().min(1), name: z.string().min(1) })).min(1),
  evidence: z
    .array(z.union([labEvidenceSchema, riseEvidenceSchema, treatedEvidenceSchema, frontPageEvidenceSchema]))
    .min(1),
});

export const ccMccEvidenceFileSchema = z.strictObject({
  version: z.string(),
  /** Specimens that are not blood (urine, CSF, drains …): their results are never evidence. */
  nonBloodSpecimens: z.array(z.string().min(1)).default([]),
  conditions: z.array(conditionSchema).min(1),
});
export type CcMccEvidenceFile = z.infer<typeof ccMccEvidenceFileSchema>;
type Condition = CcMccEvidenceFile['conditions'][number];
type LabSpec = z.infer<typeof labEvidenceSchema>;
type RiseSpec = z.infer<typeof riseEvidenceSchema>;

interface Compiled {
  data: CcMccEvidenceFile;
  /** Condition indices that read a lab key. */
  labConditions: Map<string, number[]>;
  /** Treated-condition specs by label (order regex and the codes that explain the order). */
  treated: Map<string, { re: RegExp; codes: string[]; label: string }>;
}

/**
 * Validate an evidence file's content: the schema, plus every `treated` label naming a treated condition
 * of consistency.yaml and every evidence `codes` entry being one of the condition's codes.
 */
export function parseCcMccEvidence(content: unknown, file = 'resources/cc-mcc-evidence.yaml'): Compiled {
  const parsed = ccMccEvidenceFileSchema.safeParse(content);
  if (!parsed.success) throw fromZodIssues('CDSS_ERR_INVALID_DATA', `Invalid ${file}`, parsed.error.issues);
  const data = parsed.data;
  const cons = consistencyData();
  const treated = new Map<string, { re: RegExp; codes: string[]; label: string }>();
  cons.treatedConditions.forEach((t, k) => {
    treated.set(t.label, { re: cons.orderRes[k]!, codes: t.codes, label: t.label });
  });
  const labConditions = new Map<string, number[]>();
  const issues: { path: (string | number)[]; message: string }[] = [];
  const norm = (xs: string[]) => xs.map((x) => normaliseCode(x));
  data.conditions.forEach((c, i) => {
    c.coded = norm(c.coded);
    c.exceptWhenCoded = norm(c.exceptWhenCoded);
    // Codes keep their spelling for display (D62.x00); comparisons normalise.
    const known = new Set(c.codes.map((x) => normaliseCode(x.code)));
    c.evidence.forEach((e, j) => {
      if ('codes' in e && e.codes) {
        e.codes = norm(e.codes);
        for (const code of e.codes)
          if (!known.has(code))
            issues.push({
              path: ['conditions', i, 'evidence', j, 'codes'],
              message: `${code} is not one of the condition's codes`,
            });
      }
      const key = 'lab' in e ? e.lab : 'rise' in e ? e.rise : undefined;
      if (key !== undefined) {
        const list = labConditions.get(key) ?? [];
        if (!list.includes(i)) list.push(i);
        labConditions.set(key, list);
      }
      if ('treated' in e && !treated.has(e.treated))
        issues.push({
          path: ['conditions', i, 'evidence', j, 'treated'],
          message: `unknown treated condition ${e.treated} (resources/consistency.yaml treatedConditions)`,
        });
    });
  });
  if (issues.length) throw fromZodIssues('CDSS_ERR_INVALID_DATA', `Invalid ${file}`, issues);
  return { data, labConditions, treated };
}

let cached: Compiled | undefined;

/** The shipped evidence file, validated once. */
export function ccMccEvidence(): Compiled {
  cached ??= parseCcMccEvidence(readResource('cc-mcc-evidence.yaml'));
  return cached;
}

// --- reading labs --------------------------------------------------------------------------------------------

const keyCache = new Map<string, string | null>();

function keyOf(item: string): string | undefined {
  let k = keyCache.get(item);
  if (k === undefined) {
    k = labKey(item) ?? null;
    if (keyCache.size > 10_000) keyCache.clear();
    keyCache.set(item, k);
  }
  return k ?? undefined;
}

function foldUnit(unit: string): string {
  let out = '';
  for (const ch of unit) {
    const c = ch.charCodeAt(0);
    if (c >= 0xff01 && c <= 0xff5e) out += String.fromCharCode(c - 0xfee0);
    else if (ch !== ' ' && ch !== '\u3000') out += ch;
  }
  return out
    .replace(/µ/g, 'μ')
    .replace(/^u(?=mol)/i, 'μ')
    .toLowerCase();
}

interface Reading {
  lab: LabResult;
  /** In the canonical unit. */
  value: number;
  /** The printed value was `<x` / `>x`: the true value lies below / above. */
  bound: '<' | '>' | undefined;
  ms: number;
}

/** A lab result's value in the spec's canonical unit, or undefined when it cannot be read safely. */
function read(
  lab: LabResult,
  spec: { unit: string; conversions: { unit: string; factor: number }[]; assumeUnit?: boolean },
): Reading | undefined {
  let n: number;
  let bound: Reading['bound'];
  if (typeof lab.value === 'number') n = lab.value;
  else {
    const m = /^\s*([<>≤≥＜＞]?)\s*(-?\d+(?:\.\d+)?)/.exec(
      lab.value.replace(/[０-９．]/g, (ch) => String.fromCharCode(ch.charCodeAt(0) - 0xfee0)),
    );
    if (!m) return undefined;
    n = Number(m[2]);
    bound = /[<≤＜]/.test(m[1]!) ? '<' : /[>≥＞]/.test(m[1]!) ? '>' : undefined;
  }
  if (!Number.isFinite(n)) return undefined;
  let factor: number | undefined;
  if (isBlank(lab.unit)) factor = spec.assumeUnit ? 1 : undefined;
  else {
    const u = foldUnit(lab.unit!);
    if (u === foldUnit(spec.unit)) factor = 1;
    else factor = spec.conversions.find((c) => foldUnit(c.unit) === u)?.factor;
  }
  if (factor === undefined) return undefined;
  const ms = toEpochMs(lab.time);
  if (Number.isNaN(ms)) return undefined;
  return { lab, value: n * factor, bound, ms };
}

function isBloodSpecimen(lab: LabResult, excluded: readonly string[]): boolean {
  const s = lab.specimen;
  if (!s) return true;
  return !excluded.some((x) => s.includes(x));
}

function round(n: number): string {
  return String(Math.round(n * 100) / 100);
}

function labEvidence(r: Reading, note: string): Evidence {
  const { lab } = r;
  return {
    kind: 'lab',
    ref: lab.id,
    text: `检验：${lab.item} ${lab.value}${lab.unit ?? ''}（${lab.time}，${note}）`,
    data: {
      item: lab.item,
      value: lab.value,
      unit: lab.unit ?? null,
      time: lab.time,
      ...(lab.specimen ? { specimen: lab.specimen } : {}),
    },
  };
}

function passes(r: Reading, spec: LabSpec): boolean {
  if (spec.below !== undefined) return r.bound === '>' ? false : r.value < spec.below;
  return r.bound === '<' ? false : r.value > spec.above!;
}

// --- evidence per kind ---------------------------------------------------------------------------------------

interface Found {
  evidence: Evidence[];
  /** Short Chinese description for the summary. */
  what: string;
  codes: string[] | undefined;
  supersedes?: string;
}

function labFinding(readings: readonly Reading[], spec: LabSpec): Found | undefined {
  const hits = readings.filter((r) => passes(r, spec));
  if (hits.length < spec.minResults) return undefined;
  // The most extreme results first (lowest for `below`, highest for `above`), at most three cited.
  const sorted = [...hits].sort((a, b) => (spec.below !== undefined ? a.value - b.value : b.value - a.value));
  const shown = sorted.slice(0, Math.max(spec.minResults, 1)).concat(sorted.slice(spec.minResults, 3));
  const threshold = `${spec.below !== undefined ? '<' : '>'} ${spec.below ?? spec.above} ${spec.unit}`;
  const first = sorted[0]!;
  return {
    evidence: shown.map((r) => labEvidence(r, threshold)),
    what: `${first.lab.item} ${first.lab.value}${first.lab.unit ?? ''}（${first.lab.time.slice(0, 16)}）`,
    codes: spec.codes,
  };
}

function riseFinding(readings: readonly Reading[], spec: RiseSpec): Found | undefined {
  const exact = readings.filter((r) => r.bound === undefined).sort((a, b) => a.ms - b.ms);
  const hourMs = 3_600_000;
  for (let j = 1; j < exact.length; j++) {
    const later = exact[j]!;
    for (let i = 0; i < j; i++) {
      const earlier = exact[i]!;
      const gap = later.ms - earlier.ms;
      if (gap <= 0) continue;
      const byAbsolute = gap <= spec.withinHours * hourMs && later.value - earlier.value >= spec.absolute;
      const byRatio =
        gap <= spec.ratioWithinDays * 24 * hourMs &&
        earlier.value > 0 &&
        later.value / earlier.value >= spec.ratio;
      if (!byAbsolute && !byRatio) continue;
      const how = byAbsolute
        ? `${spec.withinHours}小时内升高 ${round(later.value - earlier.value)} ${spec.unit}（≥ ${spec.absolute}）`
        : `${spec.ratioWithinDays}天内升至 ${round(later.value / earlier.value)} 倍（≥ ${spec.ratio}）`;
      return {
        evidence: [labEvidence(earlier, '基线'), labEvidence(later, how)],
        what: `${later.lab.item}由${earlier.lab.value}升至${later.lab.value}${later.lab.unit ?? ''}（${how.replace(/（.*$/, '')}）`,
        codes: spec.codes,
      };
    }
  }
  return undefined;
}

function activeOrders(record: PatientRecord): MedicationOrder[] {
  return record.medications.filter((m) => m.status !== 'cancelled' && m.status !== 'draft');
}

// --- the check -----------------------------------------------------------------------------------------------

export interface CcMccCheckInput {
  table: CcMccTable;
  /** Facts from @yijian/rules: orders linked to graph concepts (brand names) count by their concept. */
  facts?: PatientFacts;
}

function ageInDays(record: PatientRecord): number {
  const b = record.patient.birthDate;
  if (!b) return Number.NaN;
  return (toEpochMs(record.encounter.admissionTime) - toEpochMs(b)) / 86_400_000;
}

/**
 * Run the check; returns the treated-condition labels (cs.treated-uncoded) whose evidence a CC/MCC finding
 * already reported, so that the same orders are not reported twice.
 */
export function runCcMccCheck(record: PatientRecord, input: CcMccCheckInput, emit: Emit): Set<string> {
  const superseded = new Set<string>();
  const fp = record.frontPage;
  if (!fp) return superseded;
  const t = fp.transfusion;
  const redCells = (t?.redCellsU ?? 0) > 0 || (t?.wholeBloodMl ?? 0) > 0;
  const orders = record.medications.length ? activeOrders(record) : [];
  // Fast exit: nothing in the record can be evidence.
  if (record.labs.length === 0 && orders.length === 0 && !redCells) return superseded;

  const { data, labConditions, treated } = ccMccEvidence();
  const coded: { code: string; path: string; name: string }[] = [];
  if (fp.principalDiagnosis && !(isBlank(fp.principalDiagnosis.code) && isBlank(fp.principalDiagnosis.name)))
    coded.push({
      code: fp.principalDiagnosis.code ?? '',
      name: fp.principalDiagnosis.name ?? '',
      path: 'principalDiagnosis',
    });
  (fp.otherDiagnoses ?? []).forEach((d, i) => {
    if (!(isBlank(d.code) && isBlank(d.name)))
      coded.push({ code: d.code ?? '', name: d.name ?? '', path: `otherDiagnoses[${i}]` });
  });
  const anyCoded = (ranges: readonly string[]) =>
    ranges.length > 0 && coded.some((c) => c.code && matchesAny(c.code, ranges));

  // Blood results by lab key, read lazily per spec (units differ per spec).
  const labsByKey = new Map<string, LabResult[]>();
  const admission = toEpochMs(record.encounter.admissionTime);
  const end = toEpochMs(fp.dischargeTime ?? record.encounter.dischargeTime ?? '');
  for (const lab of record.labs) {
    const key = keyOf(lab.item);
    if (!key || !labConditions.has(key)) continue;
    if (!isBloodSpecimen(lab, data.nonBloodSpecimens)) continue;
    // Results of this stay: from 24 hours before admission (emergency department) to discharge.
    const ms = toEpochMs(lab.time);
    if (!Number.isNaN(admission) && ms < admission - 24 * 3_600_000) continue;
    if (!Number.isNaN(end) && ms > end) continue;
    const list = labsByKey.get(key) ?? [];
    list.push(lab);
    labsByKey.set(key, list);
  }
  const age = ageInDays(record);

  data.conditions.forEach((c: Condition) => {
    if (c.minAgeDays !== undefined && !Number.isNaN(age) && age < c.minAgeDays) return;
    if (anyCoded(c.coded) || anyCoded(c.exceptWhenCoded)) return;
    if (coded.some((x) => x.name && c.aliases.some((a) => x.name.includes(a)))) return;
    const found: Found[] = [];
    for (const e of c.evidence) {
      if ('lab' in e) {
        const labs = labsByKey.get(e.lab);
        if (!labs) continue;
        const readings = labs
          .filter((l) => isBloodSpecimen(l, e.excludeSpecimens))
          .map((l) => read(l, e))
          .filter((r): r is Reading => r !== undefined);
        const f = labFinding(readings, e);
        if (f) found.push(f);
      } else if ('rise' in e) {
        const labs = labsByKey.get(e.rise);
        if (!labs || labs.length < 2) continue;
        const f = riseFinding(
          labs.map((l) => read(l, e)).filter((r): r is Reading => r !== undefined),
          e,
        );
        if (f) found.push(f);
      } else if ('treated' in e) {
        const spec = treated.get(e.treated)!;
        if (orders.length === 0 || anyCoded(spec.codes)) continue;
        const linked = new Set(
          (input.facts?.medications ?? [])
            .filter((m) => m.conceptId && spec.re.test(m.conceptName))
            .map((m) => m.id),
        );
        const hits = orders.filter((m) => spec.re.test(m.drugName) || linked.has(m.id));
        if (hits.length === 0) continue;
        found.push({
          evidence: hits.map((m) => ({
            kind: 'order' as const,
            ref: m.id,
            text: `医嘱：${m.drugName}（${m.startTime}）`,
            data: { drugName: m.drugName, startTime: m.startTime, status: m.status },
          })),
          what: `医嘱${hits[0]!.drugName}`,
          codes: e.codes,
          supersedes: spec.label,
        });
      } else if (e.frontPage === 'red-cell-transfusion' && redCells) {
        const parts = [
          (t?.redCellsU ?? 0) > 0 ? `红细胞${t!.redCellsU}单位` : '',
          (t?.wholeBloodMl ?? 0) > 0 ? `全血${t!.wholeBloodMl}ml` : '',
        ].filter(Boolean);
        found.push({
          evidence: [],
          what: `首页输血（${parts.join('、')}）`,
          codes: e.codes,
          ...(e.supersedes ? { supersedes: e.supersedes } : {}),
        });
      }
    }
    if (found.length === 0) return;
    // The codes the evidence supports, with their levels in the hospital's table.
    const supported = new Set(found.flatMap((f) => f.codes ?? c.codes.map((x) => normaliseCode(x.code))));
    let level: CcMccLevel | undefined;
    const listed: { text: string; level: CcMccLevel }[] = [];
    const notes: string[] = [];
    for (const code of c.codes) {
      if (!supported.has(normaliseCode(code.code))) continue;
      const entry = input.table.lookup(code.code);
      if (entry) {
        level = higherLevel(level, entry.level);
        listed.push({ text: `${code.code} ${code.name}`, level: entry.level });
        notes.push(
          `${code.code} ${code.name}：CC/MCC表列为${entry.level}（${entry.code}${entry.name ? ` ${entry.name}` : ''}）`,
        );
      } else notes.push(`${code.code} ${code.name}：CC/MCC表未列出`);
    }
    if (!level) return;
    for (const f of found) if (f.supersedes) superseded.add(f.supersedes);
    const transfusionFields = found.some((f) => f.what.startsWith('首页输血'))
      ? [
          ...((t?.redCellsU ?? 0) > 0 ? ['transfusion.redCellsU'] : []),
          ...((t?.wholeBloodMl ?? 0) > 0 ? ['transfusion.wholeBloodMl'] : []),
        ]
      : [];
    emit('fp.secondary.cc-mcc-missing', {
      fields: [
        ...transfusionFields,
        'principalDiagnosis.code',
        ...(fp.otherDiagnoses ?? []).map((_d, i) => `otherDiagnoses[${i}].code`),
      ],
      evidence: found.flatMap((f) => f.evidence),
      params: {
        condition: c.name,
        evidence: found.map((f) => f.what).join('、'),
        level,
        // One level for all: "E87.600 低钾血症为CC"; mixed levels name each code's.
        codes: listed
          .map((x) => (listed.every((y) => y.level === level) ? x.text : `${x.text}（${x.level}）`))
          .join('、'),
      },
      notes: [
        `证据：${found.map((f) => f.what).join('；')}`,
        ...notes,
        `已编码诊断中没有${c.name}（${c.coded.join('、')}）`,
        `${level === 'MCC' ? '严重并发症或合并症（MCC）' : '一般并发症或合并症（CC）'}可改变DRG细分组及权重（CHS-DRG）`,
      ],
      key: c.id,
      target: 'frontPage.otherDiagnoses',
    });
  });
  return superseded;
}
