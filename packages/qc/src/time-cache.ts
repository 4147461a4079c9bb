import { localDate, toEpochMs } from '@yijian/emr';

/**
 * Memoised time parsing. Parsing is a pure function of the text, so a bounded cache keyed by the text is
 * always correct; QC reads the same document times many times (sorting, deadlines, intervals).
 */
const epoch = new Map<string, number>();
const day = new Map<string, string>();
const LIMIT = 200_000;

export function epochMs(text: string): number {
  let v = epoch.get(text);
  if (v === undefined) {
    v = toEpochMs(text);
    if (epoch.size > LIMIT) epoch.clear();
    epoch.set(text, v);
  }
  return v;
}

export function localDay(text: string): string {
  let v = day.get(text);
  if (v === undefined) {
    v = localDate(text);
    if (day.size > LIMIT) day.clear();
    day.set(text, v);
  }
  return v;
}

/** Whole days between two `YYYY-MM-DD` dates (b − a). */
export function dayDiff(a: string, b: string): number {
  const n = (v: string) =>
    Date.UTC(Number(v.slice(0, 4)), Number(v.slice(5, 7)) - 1, Number(v.slice(8, 10))) / 86_400_000;
  return Math.round(n(b) - n(a));
}
