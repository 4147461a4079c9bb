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
  const valid = mentions.filter((m) => m.start >= 0 && m.end > m.start);
  if (valid.length <= 1) return valid.slice();
  const ranked = valid.slice().sort(prefer);
  // Characters already taken by a preferred mention: linear in the total span length.
  let maxEnd = 0;
  for (const m of valid) if (m.end > maxEnd) maxEnd = m.end;
  const taken = new Uint8Array(maxEnd);
  const kept: RawMention[] = [];
  for (const m of ranked) {
    let free = true;
    for (let i = m.start; i < m.end; i++) {
      if (taken[i] === 1) {
        free = false;
        break;
      }
    }
    if (!free) continue;
    taken.fill(1, m.start, m.end);
    kept.push(m);
  }
  return kept.sort((a, b) => a.start - b.start);
}
