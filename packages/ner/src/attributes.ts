import { getDefaultFolder, type TextFolder } from './normalize.js';
import { parseChineseNumber } from './numbers.js';
import { parseResource, readResourceJson } from './resources.js';
import { type AttributesFile, type AttributesFileParsed, attributesFileSchema } from './schemas.js';
import { CharTrie } from './trie.js';
import type { DrugAttributes, LabAttributes } from './types.js';

let shipped: AttributesFile | undefined;
/** The shipped attribute vocabulary (resources/zh/attributes.json), validated. */
export function loadDefaultAttributes(): AttributesFile {
  shipped ??= readResourceJson('attributes.json', attributesFileSchema);
  return shipped;
}

export interface AttributeExtractorOptions {
  attributes?: AttributesFile;
  folder?: TextFolder;
}

/** Where to look around a mention: the mention's span and the limits set by its neighbours. */
export interface AttributeWindow {
  start: number;
  end: number;
  /** End of the previous mention (or 0). */
  prevEnd: number;
  /** Start of the next mention (or the text length). */
  nextStart: number;
  /** For drugs: the drug mention just before, whose route a list shares (口服阿司匹林100mg qd及氯吡格雷75mg qd). */
  previousDrug?: { end: number; route?: string };
}

export interface AttributeExtractor {
  drug(folded: string, w: AttributeWindow): DrugAttributes | undefined;
  lab(folded: string, w: AttributeWindow): LabAttributes | undefined;
  vocabulary: AttributesFileParsed;
}

interface UnitInfo {
  unit: string;
  dose: boolean;
}

type Duration = { iso: (n: number) => string };

const SENTENCE_END = new Set([...'。;!?\n\r；！？'].map((c) => c.charCodeAt(0)));
const CLAUSE_END = new Set([...',，'].map((c) => c.charCodeAt(0)));
const CN_NUM = new Set([...'零〇一二两三四五六七八九十百千半'].map((c) => c.charCodeAt(0)));
const CN_NUM_INNER = new Set([...'零〇一二两三四五六七八九十百千点'].map((c) => c.charCodeAt(0)));

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** Format a number without float noise (0.1 + 0.2 style artefacts do not arise from parsing, but be safe). */
function num(s: string): number {
  return Number(Number(s).toPrecision(12));
}

/** Read a number at `pos`: 12, 0.25, .5, 1/2, 一, 十二, 半, 一点五. */
function readNumber(folded: string, pos: number, limit: number): { value: number; end: number } | undefined {
  const c = folded.charCodeAt(pos);
  if (isDigit(c) || (c === 46 && isDigit(folded.charCodeAt(pos + 1)))) {
    let j = pos;
    while (j < limit && isDigit(folded.charCodeAt(j))) j++;
    if (j < limit && folded.charCodeAt(j) === 46 && isDigit(folded.charCodeAt(j + 1))) {
      j++;
      while (j < limit && isDigit(folded.charCodeAt(j))) j++;
    }
    const intPart = folded.slice(pos, j);
    // 1/2 片
    if (folded.charCodeAt(j) === 47 && isDigit(folded.charCodeAt(j + 1)) && !intPart.includes('.')) {
      let k = j + 1;
      while (k < limit && isDigit(folded.charCodeAt(k))) k++;
      const den = Number(folded.slice(j + 1, k));
      // Only small fractions are doses (1/2, 1/4); 150/95 is a blood pressure, 3次/日 a frequency.
      if (den > 0 && den <= 8 && Number(intPart) < den)
        return { value: num(String(Number(intPart) / den)), end: k };
    }
    return { value: num(intPart), end: j };
  }
  if (CN_NUM.has(c)) {
    if (c === 0x534a /* 半 */) return { value: 0.5, end: pos + 1 };
    let j = pos + 1;
    while (j < limit && CN_NUM_INNER.has(folded.charCodeAt(j))) j++;
    // 一片半: a trailing 半 adds one half.
    const value = parseChineseNumber(folded.slice(pos, j));
    if (value === undefined) return undefined;
    return { value, end: j };
  }
  return undefined;
}

/**
 * Attribute extraction around drug and lab mentions, driven by resources/zh/attributes.json.
 * Drugs: dose + unit (numbers may be Chinese: 一片, 半支), route, frequency and duration, read
 * after the mention up to the next mention or sentence end; route and frequency also just before
 * it (口服阿司匹林, 每日口服). Labs: value, unit, flag (↑ ↓ H L 偏高 偏低), qualitative result.
 */
export function createAttributeExtractor(options: AttributeExtractorOptions = {}): AttributeExtractor {
  const folder = options.folder ?? getDefaultFolder();
  const vocab = parseResource(
    options.attributes ?? loadDefaultAttributes(),
    attributesFileSchema,
    'attribute vocabulary',
  );
  const routes = new CharTrie<string>();
  const freqs = new CharTrie<string>();
  const units = new CharTrie<UnitInfo>();
  for (const r of vocab.routes) for (const l of r.literals) routes.add(folder.fold(l), r.code);
  for (const f of vocab.frequencies) for (const l of f.literals) freqs.add(folder.fold(l), f.code);
  for (const u of vocab.units) {
    units.add(folder.fold(u.unit), { unit: u.unit, dose: u.dose });
    for (const l of u.literals) units.add(folder.fold(l), { unit: u.unit, dose: u.dose });
  }
  const durations = new CharTrie<Duration>();
  const day: Duration = { iso: (n) => `P${n}D` };
  const week: Duration = { iso: (n) => `P${n}W` };
  const month: Duration = { iso: (n) => `P${n}M` };
  const hour: Duration = { iso: (n) => `PT${n}H` };
  const minute: Duration = { iso: (n) => `PT${n}M` };
  const notDuration: Duration = { iso: () => '' };
  for (const [k, v] of [
    ['天', day],
    ['日', day],
    ['d', day],
    ['days', day],
    ['周', week],
    // 6周期 is six cycles, 3个疗程 three courses: not durations.
    ['周期', notDuration],
    ['星期', week],
    ['w', week],
    ['wk', week],
    ['个月', month],
    ['月', month],
    ['小时', hour],
    ['h', hour],
    ['hr', hour],
    ['分钟', minute],
    ['min', minute],
  ] as const)
    durations.add(k, v);
  const durationPrefix = new CharTrie<true>();
  for (const p of ['×', 'x', '*', '共', '连用', '连续', '疗程', '持续', '用', '服用', '使用', '维持'])
    durationPrefix.add(p, true);

  const gapWords = new CharTrie<'H' | 'L' | ''>();
  for (const w of ['升高', '增高', '偏高', '明显升高', '显著升高', '升高至', '增高至', '高达'])
    gapWords.add(w, 'H');
  for (const w of ['降低', '减低', '偏低', '下降', '明显降低', '降低至', '减低至']) gapWords.add(w, 'L');
  const fillers =
    '为 是 约 示 达 升至 降至 下降至 上升至 低至 波动于 波动在 维持在 最高 最低 结果 检测 测 空腹 随机 复查 值';
  for (const w of fillers.split(' ')) gapWords.add(w, '');
  const flags = new CharTrie<'H' | 'L'>();
  for (const w of ['↑', '↑↑', '(↑)', '(h)', 'h', '偏高', '升高', '增高', '高']) flags.add(w, 'H');
  for (const w of ['↓', '↓↓', '(↓)', '(l)', 'l', '偏低', '降低', '减低', '低']) flags.add(w, 'L');
  const qualitative = new CharTrie<'negative' | 'positive' | 'weakly-positive'>();
  for (const w of ['(-)', '( - )', '阴性', '(阴性)', '-', '(—)']) qualitative.add(w, 'negative');
  for (const w of ['(±)', '±', '弱阳性', '(弱阳性)', '(+-)']) qualitative.add(w, 'weakly-positive');
  for (const w of [
    '(+)',
    '(++)',
    '(+++)',
    '(++++)',
    '+',
    '++',
    '+++',
    '++++',
    '阳性',
    '(阳性)',
    '(1+)',
    '(2+)',
    '(3+)',
    '1+',
    '2+',
    '3+',
    '4+',
  ])
    qualitative.add(w, 'positive');

  /** A unit right after a number; a unit of two or more letters may be glued to what follows (150MGIVGTT). */
  function matchUnit(
    folded: string,
    pos: number,
    limit: number,
  ): { end: number; value: UnitInfo } | undefined {
    const u = units.match(folded, pos, limit, false);
    if (u) return u;
    const glued = units.match(folded, pos, limit, false, false);
    return glued && glued.end - pos >= 2 ? glued : undefined;
  }

  /** The drug at `start` joins the list of the drug ending at `prevEnd`: same clause, joined by 及 和 与 、 + 联合. */
  function sharesRoute(folded: string, prevEnd: number, start: number): boolean {
    for (let k = prevEnd; k < start; k++) {
      const c = folded.charCodeAt(k);
      if (SENTENCE_END.has(c) || CLAUSE_END.has(c)) return false;
    }
    const between = folded.slice(prevEnd, start).trimEnd();
    return /(?:及|和|与|、|\+|联合|加用|并用)$/.test(between);
  }

  function sentenceLimit(folded: string, from: number, limit: number): number {
    for (let k = from; k < limit; k++) if (SENTENCE_END.has(folded.charCodeAt(k))) return k;
    return limit;
  }

  /** Scan `folded[from, limit)` for drug attributes; `forward` also reads dose and duration. */
  function scanDrug(
    folded: string,
    from: number,
    limit: number,
    out: DrugAttributes,
    forward: boolean,
  ): void {
    let pos = from;
    while (pos < limit) {
      const c = folded.charCodeAt(pos);
      if (c === 32) {
        pos++;
        continue;
      }
      const f = freqs.match(folded, pos, limit);
      const r = routes.match(folded, pos, limit);
      if (f && (!r || f.end >= r.end)) {
        out.frequency ??= f.value;
        pos = f.end;
        continue;
      }
      if (r) {
        out.route ??= r.value;
        pos = r.end;
        continue;
      }
      if (forward) {
        const pre = durationPrefix.match(folded, pos, limit, true, false);
        let at = pos;
        if (pre) {
          at = pre.end;
          while (at < limit && folded.charCodeAt(at) === 32) at++;
        }
        const n = readNumber(folded, at, limit);
        if (n) {
          let k = n.end;
          // 1~2片, 0.5-1g: a range; the dose is its lower end, doseMax its upper end.
          let upper: number | undefined;
          const sep = folded.charCodeAt(k);
          if (sep === 45 || sep === 126 || sep === 0x81f3 /* 至 */) {
            const m = readNumber(folded, k + 1, limit);
            if (m && m.value > n.value) {
              upper = m.value;
              k = m.end;
            }
          }
          while (k < limit && folded.charCodeAt(k) === 32) k++;
          const u = pre ? undefined : matchUnit(folded, k, limit);
          if (u?.value.dose) {
            if (out.dose === undefined) {
              out.dose = n.value;
              out.unit = u.value.unit;
              if (upper !== undefined) out.doseMax = upper;
            }
            pos = u.end;
            continue;
          }
          const d = durations.match(folded, k, limit, false);
          if (d) {
            const iso = d.value.iso(n.value);
            if (iso) out.duration ??= iso;
            pos = d.end;
            continue;
          }
          pos = n.end;
          continue;
        }
      }
      pos++;
    }
  }

  return {
    vocabulary: vocab,
    drug(folded, w) {
      const out: DrugAttributes = {};
      const limit = sentenceLimit(folded, w.end, Math.min(w.nextStart, w.end + 48));
      scanDrug(folded, w.end, limit, out, true);
      // Just before the drug, back to the previous mention or clause: 予以静滴, 每日口服.
      let from = Math.max(w.prevEnd, w.start - 10);
      for (let k = w.start - 1; k >= from; k--) {
        const c = folded.charCodeAt(k);
        if (SENTENCE_END.has(c) || CLAUSE_END.has(c)) {
          from = k + 1;
          break;
        }
      }
      if (from < w.start) {
        const before: DrugAttributes = {};
        scanDrug(folded, from, w.start, before, false);
        out.route ??= before.route;
        out.frequency ??= before.frequency;
        if (out.route === undefined) delete out.route;
        if (out.frequency === undefined) delete out.frequency;
      }
      const prev = w.previousDrug;
      if (out.route === undefined && prev?.route && sharesRoute(folded, prev.end, w.start))
        out.route = prev.route;
      return Object.keys(out).length > 0 ? out : undefined;
    },
    lab(folded, w) {
      const out: LabAttributes = {};
      const limit = sentenceLimit(folded, w.end, Math.min(w.nextStart, w.end + 32));
      let pos = w.end;
      // Gap between the test name and its value: spaces, colon, 为, 升高至 …
      while (pos < limit) {
        const c = folded.charCodeAt(pos);
        if (c === 32 || c === 58 || c === 61 || c === 0xff1a) {
          pos++;
          continue;
        }
        const g = gapWords.match(folded, pos, limit);
        if (!g) break;
        if (g.value) out.flag ??= g.value;
        pos = g.end;
      }
      const q = qualitative.match(folded, pos, limit);
      if (q && !(q.value === 'negative' && isDigit(folded.charCodeAt(q.end)))) {
        out.qualitative = q.value;
        return out;
      }
      const cmp = folded.charCodeAt(pos);
      if (cmp === 60 || cmp === 62 || cmp === 0x2264 || cmp === 0x2265) pos++;
      const c0 = folded.charCodeAt(pos);
      if (isDigit(c0) || (c0 === 46 && isDigit(folded.charCodeAt(pos + 1)))) {
        let j = pos;
        while (j < limit && isDigit(folded.charCodeAt(j))) j++;
        if (j < limit && folded.charCodeAt(j) === 46 && isDigit(folded.charCodeAt(j + 1))) {
          j++;
          while (j < limit && isDigit(folded.charCodeAt(j))) j++;
        }
        out.value = num(folded.slice(pos, j));
        pos = j;
        while (pos < limit && folded.charCodeAt(pos) === 32) pos++;
        const u = matchUnit(folded, pos, limit);
        if (u) {
          out.unit = u.value.unit;
          pos = u.end;
        }
        while (pos < limit && folded.charCodeAt(pos) === 32) pos++;
        const fl = flags.match(folded, pos, limit, false);
        if (fl) out.flag = fl.value;
      }
      return Object.keys(out).length > 0 ? out : undefined;
    },
  };
}
