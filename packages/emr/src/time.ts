/**
 * Clinical times. Chinese EMRs write local clock time without an offset; we read such a time as
 * China Standard Time (UTC+08:00, no daylight saving) so results never depend on the machine's zone.
 */
const CST_OFFSET_MS = 8 * 3_600_000;
const TIME_RE =
  /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?(Z|([+-])(\d{2}):?(\d{2}))?)?$/;

/**
 * A pure function of a time's text, remembered by text: records repeat the same times many times
 * over (orders, results, notes, the front page), and rules and QC read them again for every check.
 * Bounded; emptied when full.
 */
function memoByText<T>(compute: (text: string) => T, max = 8192): (text: string) => T {
  const seen = new Map<string, T>();
  return (text) => {
    const hit = seen.get(text);
    if (hit !== undefined) return hit;
    const value = compute(text);
    if (seen.size >= max) seen.clear();
    seen.set(text, value);
    return value;
  };
}

const epochOf = memoByText(parseEpochMs);

/** Milliseconds since the epoch, or NaN when the text is not a time we accept. */
export function toEpochMs(value: string): number {
  return epochOf(value);
}

function parseEpochMs(value: string): number {
  const m = TIME_RE.exec(value.trim());
  if (!m) return Number.NaN;
  const [, y, mo, d, h = '0', mi = '0', s = '0', ms = '0', zone, sign, zh, zm] = m;
  const utc = Date.UTC(
    Number(y),
    Number(mo) - 1,
    Number(d),
    Number(h),
    Number(mi),
    Number(s),
    Number(ms.padEnd(3, '0')),
  );
  if (zone === undefined) return utc - CST_OFFSET_MS;
  if (zone === 'Z') return utc;
  const offset = (Number(zh) * 60 + Number(zm)) * 60_000 * (sign === '-' ? -1 : 1);
  return utc - offset;
}

/** Hours from a to b (negative when b is earlier). */
export function hoursBetween(a: string, b: string): number {
  return (toEpochMs(b) - toEpochMs(a)) / 3_600_000;
}

const dateOf = memoByText((value) => {
  const ms = toEpochMs(value);
  if (Number.isNaN(ms)) return '';
  return new Date(ms + CST_OFFSET_MS).toISOString().slice(0, 10);
});

/** The local (CST) calendar date `YYYY-MM-DD` of a time, or '' when the text is not a time. */
export function localDate(value: string): string {
  return dateOf(value);
}

/** Completed years between a birth date and a time (age at that time). */
export function ageInYears(birthDate: string, at: string): number {
  const b = localDate(birthDate);
  const t = localDate(at);
  if (!b || !t) return Number.NaN;
  let age = Number(t.slice(0, 4)) - Number(b.slice(0, 4));
  if (t.slice(5) < b.slice(5)) age -= 1;
  return age;
}

/** Whole days between two calendar dates (b − a). */
export function daysBetweenDates(a: string, b: string): number {
  const da = localDate(a);
  const db = localDate(b);
  if (!da || !db) return Number.NaN;
  return Math.round((Date.parse(`${db}T00:00:00Z`) - Date.parse(`${da}T00:00:00Z`)) / 86_400_000);
}
