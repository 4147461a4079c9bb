import { MENTION_TYPES, type RawMention } from './types.js';

const typeRank = new Map<string, number>(MENTION_TYPES.map((t, i) => [t, i]));

/** Deterministic order of preference: longer, then higher score, then earlier, then type order, then source. */
function prefer(a: RawMention, b: RawMention): number {
  return (
    b.end - b.start - (a.end - a.start) ||
    b.score - a.score ||
    a.start - b.start ||
    (typeRank.get(a.type) ?? 99) - (typeRank.get(b.type) ?? 99) ||
    (a.source < b.source ? -1 : a.source > b.source ? 1 : 0)
  );
}

/**
 * Merge mentions from several taggers into one non-overlapping list sorted by start: among
 * overlapping mentions the longer one wins, then the higher score; ties are broken by position,
 * type and source so the result never depends on tagger order.
 */
export function mergeMentions(mentions: readonly RawMention[]): RawMention[] {
  const valid = mentions.filter((m) => m.end > m.start);
  if (valid.length <= 1) return valid.slice();
  const ranked = valid.slice().sort(prefer);
  const kept: RawMention[] = [];
  // Accepted spans sorted by start, for an overlap check by binary search.
  const starts: number[] = [];
  const ends: number[] = [];
  for (const m of ranked) {
    let lo = 0;
    let hi = starts.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (starts[mid]! < m.end) lo = mid + 1;
      else hi = mid;
    }
    // lo = first accepted span starting at or after m.end; the one before it is the only candidate overlap.
    if (lo > 0 && ends[lo - 1]! > m.start) continue;
    starts.splice(lo, 0, m.start);
    ends.splice(lo, 0, m.end);
    kept.push(m);
  }
  return kept.sort((a, b) => a.start - b.start);
}
