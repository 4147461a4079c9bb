/** Chinese numerals and decimal numbers as they appear in doses (一片, 两粒, 半支, 十二, 0.25). */

const DIGITS: Record<string, number> = {
  零: 0,
  〇: 0,
  一: 1,
  壹: 1,
  二: 2,
  两: 2,
  贰: 2,
  三: 3,
  叁: 3,
  四: 4,
  五: 5,
  六: 6,
  七: 7,
  八: 8,
  九: 9,
};
const UNITS: Record<string, number> = { 十: 10, 百: 100, 千: 1000 };

/** Characters that can form a Chinese numeral (for scanners). */
export const CHINESE_NUMERAL_CHARS = '零〇一壹二两贰三叁四五六七八九十百千半点';

/**
 * Parse a Chinese numeral: 一 → 1, 十二 → 12, 二十五 → 25, 一百五十 → 150, 半 → 0.5,
 * 一点五 → 1.5, 两 → 2. Returns undefined when `s` is not a numeral.
 */
export function parseChineseNumber(s: string): number | undefined {
  if (s.length === 0) return undefined;
  if (s === '半') return 0.5;
  const dot = s.indexOf('点');
  if (dot >= 0) {
    const whole = parseChineseNumber(s.slice(0, dot));
    const frac = s.slice(dot + 1);
    if (whole === undefined || frac.length === 0) return undefined;
    let digits = '';
    for (const ch of frac) {
      const d = DIGITS[ch];
      if (d === undefined) return undefined;
      digits += String(d);
    }
    return Number(`${whole}.${digits}`);
  }
  let total = 0;
  let current = -1;
  for (const ch of s) {
    const d = DIGITS[ch];
    if (d !== undefined) {
      current = current < 0 ? d : current * 10 + d;
      continue;
    }
    const u = UNITS[ch];
    if (u !== undefined) {
      total += (current < 0 ? 1 : current) * u;
      current = -1;
      continue;
    }
    return undefined;
  }
  return total + Math.max(current, 0);
}

/** Parse an Arabic (1, 0.25, .5, 1/2) or Chinese (一, 半, 十二) number. */
export function parseNumber(s: string): number | undefined {
  const t = s.trim();
  if (/^\d+(?:\.\d+)?$|^\.\d+$/.test(t)) return Number(t);
  const frac = /^(\d+)\/(\d+)$/.exec(t);
  if (frac) {
    const den = Number(frac[2]);
    return den === 0 ? undefined : Number(frac[1]) / den;
  }
  return parseChineseNumber(t);
}
