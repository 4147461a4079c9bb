import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Clock } from './clock.js';
import { createDispatcher } from './dispatcher.js';
import { Outbox } from './outbox.js';
import { syntheticEvent } from './scenario.js';
import {
  type DingTalkTestServer,
  type DingTalkTestServerOptions,
  startDingTalkTestServer,
} from './test-server.js';

const SECRET = 'SECtest-secret';

function manualClock(start = 1_760_000_000_000): Clock & { advance(ms: number): void } {
  let t = start;
  return {
    now: () => t,
    sleep: async (ms) => {
      t += ms;
    },
    advance(ms) {
      t += ms;
    },
  };
}

const open: { close(): unknown }[] = [];
afterEach(async () => {
  for (const x of open.splice(0)) await x.close();
});

async function setup(
  serverOptions: Partial<DingTalkTestServerOptions> = {},
  robot: Record<string, unknown> = {},
  config = {},
) {
  const clock = manualClock();
  const server: DingTalkTestServer = await startDingTalkTestServer({
    accessToken: 'tok',
    secret: SECRET,
    clock,
    ...serverOptions,
  });
  const outbox = new Outbox({ path: ':memory:', clock });
  open.push(server, outbox);
  const dispatcher = createDispatcher({
    outbox,
    clock,
    random: () => 0.5,
    robots: [
      {
        name: 'quality',
        webhook: server.webhook,
        secret: SECRET,
        reviewBaseUrl: 'https://yijian.test',
        timeoutMs: 300,
        ...robot,
      },
    ],
    config: { baseDelayMs: 1_000, maxDelayMs: 8_000, maxAttempts: 3, ...config },
  });
  return { clock, server, outbox, dispatcher };
}

describe('dispatcher against the loopback DingTalk server', () => {
  it('delivers a signed message and marks the job delivered', async () => {
    const { server, outbox, dispatcher } = await setup();
    outbox.enqueue(syntheticEvent(1), { robots: ['quality'] });
    expect(await dispatcher.tick()).toBe(1);
    expect(server.received).toHaveLength(1);
    expect(server.received[0]!.keys).toEqual(['ae-00001.quality']);
    expect(outbox.counts()).toMatchObject({ delivered: 1, pending: 0 });
    expect(dispatcher.metrics().messages.delivered).toBe(1);
  });

  it('retries 5xx, busy, reset and stalled requests with backoff, then delivers', async () => {
    const { clock, server, outbox, dispatcher } = await setup({ stallMs: 2_000 });
    outbox.enqueue(syntheticEvent(2), { robots: ['quality'] });
    const key = 'ae-00002.quality';
    for (const mode of ['http-500', 'busy', 'reset', 'stall'] as const) {
      server.failNext(mode);
      const before = clock.now();
      await dispatcher.tick();
      const job = outbox.job(key)!;
      expect(job.status, mode).toBe('pending');
      expect(job.nextAttemptAt).toBeGreaterThan(before);
      expect(await dispatcher.tick()).toBe(0); // not due yet
      clock.advance(job.nextAttemptAt - clock.now());
      if (mode === 'busy') outbox.db.prepare('UPDATE ae_jobs SET attempts = 0').run(); // stay under maxAttempts
    }
    expect(outbox.job(key)!.lastError).toMatch(/timeout/);
    await dispatcher.tick();
    expect(outbox.job(key)!.status).toBe('delivered');
    expect(server.deliveredKeys().get(key)).toBe(1);
  });

  it('backs off exponentially with jitter and dead-letters after maxAttempts', async () => {
    const { clock, server, outbox, dispatcher } = await setup();
    outbox.enqueue(syntheticEvent(3), { robots: ['quality'] });
    server.failNext('http-503', 10);
    const delays: number[] = [];
    for (let i = 0; i < 3; i++) {
      await dispatcher.tick();
      const job = outbox.job('ae-00003.quality')!;
      if (job.status === 'dead') break;
      delays.push(job.nextAttemptAt - clock.now());
      clock.advance(job.nextAttemptAt - clock.now());
    }
    expect(delays).toEqual([750, 1_500]); // base 1000 × 2^(n-1), jitter in [½, 1] with random 0.5
    expect(outbox.job('ae-00003.quality')!.status).toBe('dead');
    expect(dispatcher.metrics()).toMatchObject({ dead: 1, messages: { transient: 3 } });
  });

  it('dead-letters at once on a permanent error (wrong secret: 310000 sign not match)', async () => {
    const { server, outbox, dispatcher } = await setup({}, { secret: 'SECwrong' });
    outbox.enqueue(syntheticEvent(4), { robots: ['quality'] });
    await dispatcher.tick();
    expect(server.rejected[0]).toMatchObject({ errcode: 310000, errmsg: 'sign not match' });
    expect(outbox.job('ae-00004.quality')).toMatchObject({ status: 'dead', attempts: 1 });
  });

  it('pauses the robot when DingTalk throttles it (410100)', async () => {
    const { clock, server, outbox, dispatcher } = await setup({ maxPerMinute: 1 }, {}, { safetyMarginMs: 0 });
    outbox.enqueue(syntheticEvent(5), { robots: ['quality'] });
    outbox.enqueue(syntheticEvent(6), { robots: ['quality'] });
    // The client allows 20/min, this server only 1: the second request is throttled.
    await dispatcher.tick();
    await dispatcher.tick();
    expect(server.rejected.at(-1)!.errcode).toBe(410100);
    expect(outbox.pausedUntil('quality')).toBeGreaterThan(clock.now());
    expect(await dispatcher.tick()).toBe(0);
    clock.advance(600_001);
    await dispatcher.tick();
    expect(outbox.counts().delivered).toBe(2);
  });

  it('merges events into fewer messages when more are due than the minute allows, never exceeding it', async () => {
    const { clock, server, outbox, dispatcher } = await setup({}, { maxPerMinute: 2 });
    for (let i = 0; i < 30; i++) outbox.enqueue(syntheticEvent(100 + i), { robots: ['quality'] });
    expect(await dispatcher.tick()).toBe(1);
    expect(await dispatcher.tick()).toBe(1);
    expect(await dispatcher.tick()).toBe(0); // budget used
    expect(server.received.map((m) => m.keys.length)).toEqual([15, 15]);
    expect(outbox.counts().delivered).toBe(30);
    expect(dispatcher.metrics().mergedMessages).toBe(2);
    clock.advance(61_000);
    outbox.enqueue(syntheticEvent(200), { robots: ['quality'] });
    await dispatcher.tick();
    expect(server.received.at(-1)!.keys).toEqual(['ae-00200.quality']);
    expect(server.maxPerWindow(60_000)).toBeLessThanOrEqual(2);
  });

  it('includes the keyword a robot requires', async () => {
    const { server, outbox, dispatcher } = await setup(
      { keyword: '不良事件' },
      { keyword: '不良事件', format: 'actionCard' },
    );
    outbox.enqueue(syntheticEvent(7), { robots: ['quality'] });
    await dispatcher.tick();
    expect(server.received[0]!.body.msgtype).toBe('actionCard');
    expect(outbox.counts().delivered).toBe(1);
  });

  it('lets only the lease holder send; another dispatcher takes over after expiry and re-sends what was mid-send', async () => {
    const clock = manualClock();
    const dir = mkdtempSync(join(tmpdir(), 'yijian-lease-'));
    const server = await startDingTalkTestServer({ accessToken: 'tok', secret: SECRET, clock });
    const a = new Outbox({ path: join(dir, 'o.db'), clock });
    const b = new Outbox({ path: join(dir, 'o.db'), clock });
    open.push(server, a, b, { close: () => rmSync(dir, { recursive: true, force: true }) });
    const robots = [
      { name: 'quality', webhook: server.webhook, secret: SECRET, reviewBaseUrl: 'https://yijian.test' },
    ];
    const da = createDispatcher({ outbox: a, clock, robots, owner: 'a' });
    const db = createDispatcher({ outbox: b, clock, robots, owner: 'b' });
    a.enqueue(syntheticEvent(20), { robots: ['quality'] });
    expect(await da.tick()).toBe(1);
    b.enqueue(syntheticEvent(21), { robots: ['quality'] });
    expect(await db.tick()).toBe(0); // a holds the lease
    // a dies mid-send: its job stays in `sending`.
    const job = a.due('quality', clock.now(), 1)[0]!;
    a.beginSend('quality', [job.id], clock.now());
    expect(await db.tick()).toBe(0);
    clock.advance(30_001);
    expect(await db.tick()).toBe(1);
    expect(b.job(job.key)).toMatchObject({ status: 'delivered', inFlightRecoveries: 1 });
    expect(server.received.map((m) => m.keys)).toEqual([['ae-00020.quality'], ['ae-00021.quality']]);
  });

  it('runs as a loop: start, wake after enqueue, stop', async () => {
    const server = await startDingTalkTestServer({ accessToken: 'tok', secret: SECRET });
    const outbox = new Outbox({ path: ':memory:' });
    open.push(server, outbox);
    const d = createDispatcher({
      outbox,
      robots: [{ webhook: server.webhook, secret: SECRET, reviewBaseUrl: 'https://yijian.test' }],
      config: { pollIntervalMs: 5_000 },
    });
    d.start();
    outbox.enqueue(syntheticEvent(8), { robots: ['default'] });
    d.wake();
    for (let i = 0; i < 100 && outbox.counts().delivered < 1; i++)
      await new Promise((r) => setTimeout(r, 20));
    await d.stop();
    expect(outbox.counts().delivered).toBe(1);
  });

  it('rejects bad configuration with a coded error', async () => {
    const outbox = new Outbox({ path: ':memory:' });
    open.push(outbox);
    expect(() =>
      createDispatcher({ outbox, robots: [{ webhook: 'https://x/robot/send', reviewBaseUrl: 'https://y' }] }),
    ).toThrow(expect.objectContaining({ code: 'CDSS_ERR_INVALID_CONFIG' }));
    expect(() =>
      createDispatcher({
        outbox,
        robots: [
          { webhook: 'https://x/robot/send?access_token=a', reviewBaseUrl: 'https://y', maxPerMinute: 30 },
        ],
      }),
    ).toThrow(/maxPerMinute/);
  });
});
