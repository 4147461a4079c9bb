import { randomUUID } from 'node:crypto';

/**
 * A UUID version 7 (RFC 9562): 48 bits of Unix milliseconds, then random bits. Time-ordered keys
 * append at the end of the audit log's index instead of landing on a random page of it.
 */
export function uuidv7(now: number = Date.now()): string {
  const random = randomUUID(); // xxxxxxxx-xxxx-4xxx-Vxxx-xxxxxxxxxxxx, variant bits already set
  const ms = now.toString(16).padStart(12, '0');
  return `${ms.slice(0, 8)}-${ms.slice(8, 12)}-7${random.slice(15, 18)}-${random.slice(19)}`;
}

/** Cards that share one base uuid (the last 16 bits of it count them). */
const CARDS_PER_BASE = 0x10000;
const GROUPED = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/**
 * The uuids of one answer's cards: one version-7 uuid whose last 16 bits are replaced by the card's
 * position (RFC 9562 leaves the use of the random bits to the implementation; 58 random bits per
 * millisecond remain). Each is still a unique version-7 uuid, and the audit log keeps an answer in
 * one row found by {@link cardBase}, instead of a row and an index entry per card.
 */
export function cardUuids(count: number, now: number = Date.now()): string[] {
  const ids: string[] = [];
  let prefix = '';
  for (let i = 0; i < count; i++) {
    const n = i % CARDS_PER_BASE;
    if (n === 0) prefix = uuidv7(now).slice(0, 32);
    ids.push(prefix + n.toString(16).padStart(4, '0'));
  }
  return ids;
}

/** The base uuid of a card uuid made by {@link cardUuids} (its last 16 bits zero), else undefined. */
export function cardBase(cardId: string): string | undefined {
  return GROUPED.test(cardId) ? `${cardId.slice(0, 32)}0000` : undefined;
}
