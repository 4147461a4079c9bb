import { z } from 'zod';
import { RESOURCES_DIR, readYamlFile } from './resources.js';

const NEEDS_FOLD = /[\uFF01-\uFF5E\s\u3000]/;

/** Full-width ASCII to half-width, drop spaces, for matching names and units. */
export function foldText(text: string): string {
  // Most names and units need no change: one test instead of two replaces and a trim (this runs
  // several times per medication on the order-sign path).
  if (!NEEDS_FOLD.test(text)) return text;
  return text
    .replace(/[\uFF01-\uFF5E]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0xfee0))
    .replace(/[\s\u3000]+/g, '');
}

const ROUTES: [RegExp, string][] = [
  [/^(po|p\.o\.?|口服|口含|舌下|鼻饲|含服|嚼服|oral)$/i, 'oral'],
  [
    /^(iv|ivgtt|ivd|iv\.?gtt|静滴|静推|静注|静脉|静脉滴注|静脉注射|静脉推注|静脉泵入|泵入|微泵|intravenous)$/i,
    'iv',
  ],
  [/^(im|肌注|肌内注射|肌肉注射|intramuscular)$/i, 'im'],
  [/^(ih|sc|s\.c\.?|皮下|皮下注射|subcutaneous)$/i, 'sc'],
  [/^(外用|局部|滴眼|滴耳|滴鼻|涂抹|皮肤|眼用|topical|外敷|贴敷|阴道)$/i, 'topical'],
  [/^(吸入|雾化|雾化吸入|inh|inhaled)$/i, 'inhaled'],
  [/^(直肠|塞肛|纳肛|pr|rectal)$/i, 'rectal'],
];

/** Normalise a written route (po, 口服, ivgtt, 静滴, ih, …) to oral|iv|im|sc|topical|inhaled|rectal|other. */
export function routeKind(route: string | undefined): string | undefined {
  if (!route) return undefined;
  const r = foldText(route);
  for (const [re, kind] of ROUTES) if (re.test(r)) return kind;
  if (/静/.test(r)) return 'iv';
  if (/口/.test(r)) return 'oral';
  if (/皮下/.test(r)) return 'sc';
  if (/肌/.test(r)) return 'im';
  return 'other';
}

const ZH_NUM: Record<string, number> = { 一: 1, 二: 2, 两: 2, 三: 3, 四: 4, 五: 5, 六: 6, 八: 8, 十二: 12 };
function zhNumber(s: string): number {
  const n = Number(s);
  return Number.isFinite(n) ? n : (ZH_NUM[s] ?? Number.NaN);
}

/** Written frequencies with a fixed number of administrations per day (a Map: no inherited keys). */
const TIMES_PER_DAY = new Map<string, number>(
  Object.entries({
    qd: 1,
    qn: 1,
    qm: 1,
    qam: 1,
    qpm: 1,
    qhs: 1,
    hs: 1,
    od: 1,
    '1/d': 1,
    'once daily': 1,
    bid: 2,
    q12h: 2,
    '2/d': 2,
    tid: 3,
    q8h: 3,
    '3/d': 3,
    qid: 4,
    q6h: 4,
    '4/d': 4,
    q4h: 6,
    q3h: 8,
    q2h: 12,
    q1h: 24,
    qh: 24,
    qod: 0.5,
    q48h: 0.5,
    q72h: 1 / 3,
    qw: 1 / 7,
    '1/w': 1 / 7,
    biw: 2 / 7,
    tiw: 3 / 7,
    '2/w': 2 / 7,
    '3/w': 3 / 7,
    q24h: 1,
  }),
);

/**
 * Administrations per day from a written frequency. Returns undefined for prn / st / once (no daily
 * total can be derived) or when the text is not understood.
 */
export function timesPerDay(frequency: string | undefined): number | undefined {
  if (!frequency) return undefined;
  const f = foldText(frequency).toLowerCase();
  const known = TIMES_PER_DAY.get(f);
  if (known !== undefined) return known;
  if (/^(st|stat|once|prn|sos|立即|必要时|临时|即刻)$/.test(f)) return undefined;
  let m = /^q(\d+)h$/.exec(f);
  if (m) return 24 / Number(m[1]);
  m = /^(?:每日|每天|一日|1日)([一二两三四五六八]|\d+)次$/.exec(f);
  if (m) return zhNumber(m[1]!);
  m = /^(?:每|q)([一二两三四六八十二]+|\d+)(?:小时|h)(?:一次|1次)?$/.exec(f);
  if (m) return 24 / zhNumber(m[1]!);
  m = /^(?:每周|每星期|一周)([一二两三]|\d+)次$/.exec(f);
  if (m) return zhNumber(m[1]!) / 7;
  if (/^(每晚|睡前|每早|晨起|每晚一次|每日一次|每天一次)$/.test(f)) return 1;
  if (/^隔日(一次)?$/.test(f)) return 0.5;
  return undefined;
}

/** Convert an amount to mg (or to the same unit family the caller asks for). */
export function toMg(value: number, unit: string | undefined): number | undefined {
  if (unit === undefined) return undefined;
  const u = foldText(unit).toLowerCase();
  if (u === 'mg' || u === '毫克') return value;
  if (u === 'g' || u === '克') return value * 1000;
  if (u === 'μg' || u === 'ug' || u === 'mcg' || u === 'µg' || u === '微克') return value / 1000;
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Lab names and units
// ---------------------------------------------------------------------------------------------

const labFileSchema = z.strictObject({
  version: z.string(),
  tests: z.array(
    z.strictObject({
      key: z.string().regex(/^[a-z0-9-]+$/),
      name: z.string(),
      unit: z.string(),
      aliases: z.array(z.string()).min(1),
      conversions: z.array(z.strictObject({ unit: z.string(), factor: z.number().positive() })).optional(),
    }),
  ),
});
export type LabCatalogue = z.infer<typeof labFileSchema>;

let catalogue:
  | { byAlias: Map<string, LabCatalogue['tests'][number]>; byKey: Map<string, LabCatalogue['tests'][number]> }
  | undefined;

function labCatalogue() {
  if (!catalogue) {
    const data = readYamlFile(new URL('labs.yaml', RESOURCES_DIR), labFileSchema);
    const byAlias = new Map<string, LabCatalogue['tests'][number]>();
    const byKey = new Map<string, LabCatalogue['tests'][number]>();
    for (const t of data.tests) {
      byKey.set(t.key, t);
      for (const a of [t.name, ...t.aliases]) byAlias.set(foldText(a).toLowerCase(), t);
    }
    catalogue = { byAlias, byKey };
  }
  return catalogue;
}

/** Canonical lab key for a printed item name (血钾, K+, 钾(K), PLT…), or undefined. */
export function labKey(item: string): string | undefined {
  const { byAlias } = labCatalogue();
  const folded = foldText(item).toLowerCase();
  const direct = byAlias.get(folded);
  if (direct) return direct.key;
  // 钾(K), 血小板计数(PLT), K+(血钾)
  const parts = folded.split(/[()（）[\]【】]/).filter(Boolean);
  for (const p of parts) {
    const hit = byAlias.get(p);
    if (hit) return hit.key;
  }
  return undefined;
}

export function labInfo(key: string): { name: string; unit: string } | undefined {
  const t = labCatalogue().byKey.get(key);
  return t ? { name: t.name, unit: t.unit } : undefined;
}

/** A lab value in the canonical unit of its key; undefined when the value or unit cannot be read. */
export function labNumeric(
  key: string,
  value: number | string,
  unit: string | undefined,
): number | undefined {
  const t = labCatalogue().byKey.get(key);
  if (!t) return undefined;
  let n: number;
  if (typeof value === 'number') n = value;
  else {
    const m = /^[<>≤≥]?\s*(-?\d+(?:\.\d+)?)/.exec(foldText(value));
    if (!m) return undefined;
    n = Number(m[1]);
  }
  if (!Number.isFinite(n)) return undefined;
  if (!unit || t.unit === '') return n;
  const u = foldText(unit).replace('µ', 'μ').toLowerCase();
  if (u === foldText(t.unit).toLowerCase()) return n;
  const conv = t.conversions?.find((c) => foldText(c.unit).replace('µ', 'μ').toLowerCase() === u);
  if (conv) return n * conv.factor;
  // Unknown unit: only trust it when it looks like the canonical one with cosmetic differences.
  if (
    u.replace(/[×x*^]/g, '') ===
    foldText(t.unit)
      .toLowerCase()
      .replace(/[×x*^]/g, '')
  )
    return n;
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// eGFR
// ---------------------------------------------------------------------------------------------

/**
 * eGFR by the CKD-EPI 2021 creatinine equation (race-free), mL/min/1.73m².
 * creatinine in μmol/L; age in years (adults only: returns undefined under 18).
 */
export function ckdEpi2021(creatinineUmolL: number, age: number, sex: 'male' | 'female'): number | undefined {
  if (!(creatinineUmolL > 0) || !(age >= 18)) return undefined;
  const scr = creatinineUmolL / 88.4;
  const kappa = sex === 'female' ? 0.7 : 0.9;
  const alpha = sex === 'female' ? -0.241 : -0.302;
  const ratio = scr / kappa;
  const egfr =
    142 *
    Math.min(ratio, 1) ** alpha *
    Math.max(ratio, 1) ** -1.2 *
    0.9938 ** age *
    (sex === 'female' ? 1.012 : 1);
  return Math.round(egfr * 10) / 10;
}
