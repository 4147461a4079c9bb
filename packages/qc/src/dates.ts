/**
 * Whole days between two `YYYY-MM-DD` dates (b − a), read from the date prefixes as written. (Parsing
 * times and their local dates is `toEpochMs` / `localDate` of `@yijian/emr`, remembered by text there.)
 */
export function dayDiff(a: string, b: string): number {
  const n = (v: string) =>
    Date.UTC(Number(v.slice(0, 4)), Number(v.slice(5, 7)) - 1, Number(v.slice(8, 10))) / 86_400_000;
  return Math.round(n(b) - n(a));
}
