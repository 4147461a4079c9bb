import { describe, expect, it } from 'vitest';
import { cardBase, cardUuids, uuidv7 } from './uuid.js';

const V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('uuidv7', () => {
  it('is an RFC 9562 version-7 UUID carrying the time in its first 48 bits', () => {
    const now = Date.UTC(2026, 10, 29, 9, 30);
    const id = uuidv7(now);
    expect(id).toMatch(V7);
    expect(Number.parseInt(id.slice(0, 8) + id.slice(9, 13), 16)).toBe(now);
  });

  it('sorts by time and does not repeat', () => {
    const ids = Array.from({ length: 2000 }, (_, i) => uuidv7(1_700_000_000_000 + Math.floor(i / 10)));
    expect(new Set(ids).size).toBe(ids.length);
    for (let i = 10; i < ids.length; i += 10)
      expect(ids[i - 1]!.slice(0, 13) < ids[i]!.slice(0, 13)).toBe(true);
    for (const id of ids) expect(id).toMatch(V7);
  });
});

describe('cardUuids', () => {
  it("gives an answer's cards distinct version-7 uuids that share one base", () => {
    const now = Date.UTC(2026, 10, 29, 12);
    const ids = cardUuids(29, now);
    expect(new Set(ids).size).toBe(29);
    for (const id of ids) {
      expect(id).toMatch(V7);
      expect(Number.parseInt(id.slice(0, 8) + id.slice(9, 13), 16)).toBe(now);
      expect(cardBase(id)).toBe(cardBase(ids[0]!));
    }
    expect(ids[0]!.endsWith('0000')).toBe(true);
    expect(ids[28]!.endsWith('001c')).toBe(true);
    expect(cardUuids(0)).toEqual([]);
  });

  it('starts a new base every 65,536 cards, and answers never share one', () => {
    const ids = cardUuids(0x10000 + 2);
    expect(new Set(ids).size).toBe(ids.length);
    expect(cardBase(ids[0x10000]!)).not.toBe(cardBase(ids[0]!));
    expect(cardBase(ids[0x10001]!)).toBe(cardBase(ids[0x10000]!));
    const bases = new Set(Array.from({ length: 1000 }, () => cardBase(cardUuids(1)[0]!)));
    expect(bases.size).toBe(1000);
  });

  it('cardBase refuses what is not a version-7 uuid', () => {
    expect(cardBase('3f2504e0-4f89-41d3-9a0c-0305e82c3301')).toBeUndefined(); // version 4
    expect(cardBase('a1b2c3d4e5f60718')).toBeUndefined(); // a REST alert id
    expect(cardBase('c1')).toBeUndefined();
  });
});
