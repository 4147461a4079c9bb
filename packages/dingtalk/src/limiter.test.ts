import { describe, expect, it } from 'vitest';
import { maxInWindow, SlidingWindowLimiter } from './limiter.js';

function lcg(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    return s / 2 ** 31;
  };
}

describe('SlidingWindowLimiter', () => {
  it('never lets more than max sends into any window, whatever the request pattern', () => {
    for (let seed = 1; seed <= 30; seed++) {
      const rnd = lcg(seed);
      const l = new SlidingWindowLimiter({ max: 20, windowMs: 60_000, marginMs: 500 });
      const sends: number[] = [];
      let now = 0;
      for (let i = 0; i < 400; i++) {
        now += Math.floor(rnd() * 8_000);
        if (l.available(now) > 0) {
          l.record(now);
          sends.push(now);
        } else {
          expect(l.nextAllowedAt(now)).toBeGreaterThan(now);
        }
      }
      expect(maxInWindow(sends, 60_000)).toBeLessThanOrEqual(20);
      expect(sends.length).toBeGreaterThan(20);
    }
  });

  it('waits for the oldest of the last max sends plus the window and margin', () => {
    const l = new SlidingWindowLimiter({ max: 3, windowMs: 1_000, marginMs: 100 });
    for (const t of [0, 10, 20]) l.record(t);
    expect(l.available(500)).toBe(0);
    expect(l.nextAllowedAt(500)).toBe(1_100);
    expect(l.available(1_100)).toBe(1);
    expect(l.nextAllowedAt(2_000)).toBe(2_000);
  });

  it('is seeded from the send history, so a restart keeps the budget', () => {
    const l = new SlidingWindowLimiter({
      max: 20,
      windowMs: 60_000,
      history: Array.from({ length: 25 }, (_, i) => 1_000 + i),
    });
    expect(l.available(30_000)).toBe(0);
    expect(l.nextAllowedAt(30_000)).toBe(61_005);
  });

  it('maxInWindow counts half-open windows', () => {
    expect(maxInWindow([0, 59_999, 60_000], 60_000)).toBe(2);
    expect(maxInWindow([], 60_000)).toBe(0);
  });
});
