import { describe, expect, it } from 'vitest';
import { runDeliveryScenario } from './scenario.js';

describe('delivery under failures and SIGKILL (short version of bench/ae-delivery.ts)', () => {
  it('delivers every event at least once, duplicates only after a crash mid-send, never over 20/min', async () => {
    // Stalls (client timeouts) are covered in dispatcher.test.ts; here the failures are answered ones and
    // resets, so a slow machine cannot turn a delivered-but-late answer into an unexplained duplicate.
    const r = await runDeliveryScenario({
      events: 120,
      failureRate: 0.3,
      failureModes: ['http-500', 'http-503', 'busy', 'reset'],
      requestTimeoutMs: 10_000,
      kills: 1,
      speed: 20,
      seed: 7,
      timeoutMs: 50_000,
    });
    expect(r.missing).toEqual([]);
    expect(r.delivered).toBe(120);
    expect(r.dead).toBe(0);
    expect(r.kills).toBe(1);
    expect(r.inFlightRecovered).toBeGreaterThan(0);
    expect(r.unexplainedDuplicates).toEqual([]);
    expect(r.maxPerMinute).toBeLessThanOrEqual(20);
    expect(r.limitViolations).toBe(0);
    expect(r.injectedFailures).toBeGreaterThan(0);
    expect(r.mergedMessages).toBeGreaterThan(0);
  }, 60_000);
});
