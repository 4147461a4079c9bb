/**
 * ICD-10 / ICD-9-CM-3 code helpers. Codes arrive in many spellings (`i10.x00`, `I10.X00 `,
 * `A17.0†G01*`); every comparison goes through {@link normaliseCode}.
 */

const primaryCache = new Map<string, string>();

/** Upper-case, trim, drop spaces, full-width to half-width, keep dagger/asterisk marks. */
export function normaliseCode(code: string): string {
  let out = '';
  for (const ch of code) {
    const c = ch.charCodeAt(0);
    if (c >= 0xff01 && c <= 0xff5e) out += String.fromCharCode(c - 0xfee0);
    else if (ch !== ' ' && ch !== '\t' && ch !== '\u3000') out += ch;
  }
  return out.toUpperCase();
}

/** The aetiology (dagger) part of a dagger/asterisk pair, or the code itself (memoised: codes repeat). */
export function primaryCode(code: string): string {
  let hit = primaryCache.get(code);
  if (hit === undefined) {
    hit = computePrimary(code);
    if (primaryCache.size > 100_000) primaryCache.clear();
    primaryCache.set(code, hit);
  }
  return hit;
}

function computePrimary(code: string): string {
  const n = normaliseCode(code);
  const dagger = n.indexOf('†');
  if (dagger >= 0) return n.slice(0, dagger).replace(/\+$/, '');
  const plus = n.indexOf('+');
  if (plus > 0) return n.slice(0, plus);
  return n.replace(/\*$/, '');
}

/** A manifestation (asterisk) code written alone, e.g. `G01*`, with no dagger code. */
export function isAsteriskOnly(code: string): boolean {
  const n = normaliseCode(code);
  return n.endsWith('*') && !n.includes('†') && !n.includes('+');
}

/** ICD-O morphology code such as M8140/3. */
export function isMorphologyCode(code: string): boolean {
  return /^M\d{4}\/\d/.test(normaliseCode(code));
}

/** Three-character category (`I10`, `O9A`) of a diagnosis code. */
export function category3(code: string): string {
  return primaryCode(code).slice(0, 3);
}

/** Is the code's category within [from, to] (inclusive, three-character categories)? */
export function inCategories(code: string, from: string, to: string): boolean {
  const c = category3(code);
  return c.length === 3 && c >= from && c <= to;
}

type CompiledRange = { from: string; to: string } | { prefix: string };
const compiledRanges = new WeakMap<readonly string[], CompiledRange[]>();

function compile(ranges: readonly string[]): CompiledRange[] {
  let c = compiledRanges.get(ranges);
  if (!c) {
    c = ranges.map((r) => {
      const dash = r.indexOf('-');
      return dash > 0 ? { from: r.slice(0, dash), to: r.slice(dash + 1) } : { prefix: r };
    });
    compiledRanges.set(ranges, c);
  }
  return c;
}

/** Does the code fall under any of the ranges, written `A00-B99` or a prefix `I25.2`? */
export function matchesAny(code: string, ranges: readonly string[]): boolean {
  const p = primaryCode(code);
  const c3 = p.slice(0, 3);
  for (const r of compile(ranges)) {
    if ('prefix' in r) {
      if (p.startsWith(r.prefix)) return true;
    } else if (c3.length === 3 && c3 >= r.from && c3 <= r.to) return true;
  }
  return false;
}

/** ICD-9-CM-3 chapter number (the two digits before the point), or NaN. */
export function procedureChapter(code: string): number {
  const m = /^(\d{2})/.exec(normaliseCode(code));
  return m ? Number(m[1]) : Number.NaN;
}

/** Does a procedure code's chapter fall in any `60-64` style range? */
export function procedureInChapters(code: string, ranges: readonly string[]): boolean {
  const ch = procedureChapter(code);
  if (Number.isNaN(ch)) return false;
  for (const r of ranges) {
    const [a, b] = r.split('-');
    if (ch >= Number(a) && ch <= Number(b ?? a)) return true;
  }
  return false;
}
