import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { createRobotClient, type RobotClient } from './client.js';
import { type Clock, systemClock } from './clock.js';
import {
  type DispatcherConfig,
  type DispatcherConfigInput,
  dispatcherConfigSchema,
  parseConfig,
  type RobotConfigInput,
} from './config.js';
import type { DeliveryOutcome } from './errcodes.js';
import { SlidingWindowLimiter } from './limiter.js';
import { buildDigestMessage, buildEventMessage } from './message.js';
import type { Outbox, OutboxCounts } from './outbox.js';

/** What the dispatcher reports as it works (for logs; never carries patient data beyond the notice). */
export type DispatchLog =
  | { type: 'recovered'; jobs: number }
  | { type: 'lease'; held: boolean; owner: string }
  | { type: 'send'; robot: string; keys: string[]; attempt: number }
  | { type: 'result'; robot: string; keys: string[]; outcome: DeliveryOutcome; dead: string[] }
  | { type: 'paused'; robot: string; until: number };

export interface DispatcherOptions {
  outbox: Outbox;
  /** Robot configs (a client is created for each) or ready clients. */
  robots: readonly (RobotConfigInput | RobotClient)[];
  config?: DispatcherConfigInput;
  clock?: Clock;
  /** Lease owner id (default: host, pid and a random suffix). */
  owner?: string;
  /** Source of jitter, [0, 1). */
  random?: () => number;
  onLog?: (entry: DispatchLog) => void;
}

export interface DispatcherMetrics extends OutboxCounts {
  /** Messages sent by this process, by outcome. */
  messages: { delivered: number; transient: number; throttled: number; permanent: number };
  /** Messages that carried more than one event. */
  mergedMessages: number;
}

export interface Dispatcher {
  /** Deliver until stopped: take the outbox lease, recover jobs interrupted by a crash, send. */
  start(): void;
  /** Stop after the request in flight (if any) has finished, and release the lease. */
  stop(): Promise<void>;
  /** Cut the current idle wait short (call after enqueueing). */
  wake(): void;
  /** Run one delivery step for every robot; returns the number of messages sent. */
  tick(): Promise<number>;
  metrics(): DispatcherMetrics;
  readonly config: DispatcherConfig;
}

function isClient(x: RobotConfigInput | RobotClient): x is RobotClient {
  return typeof (x as RobotClient).send === 'function';
}

/**
 * Delivers the outbox at least once. Per robot: a sliding-window limiter (never more than
 * `maxPerMinute` requests in any window, seeded from the outbox's send log so restarts keep the
 * budget); when more events are due than the window has room for, they are merged into digest
 * messages; failures retry with exponential backoff and jitter, throttling pauses the robot,
 * permanent errors and exhausted retries go to the dead-letter state.
 */
export function createDispatcher(options: DispatcherOptions): Dispatcher {
  const config = parseConfig(dispatcherConfigSchema, options.config ?? {}, 'dispatcher config');
  const clock = options.clock ?? systemClock;
  const random = options.random ?? Math.random;
  const { outbox } = options;
  const log = options.onLog ?? (() => {});
  const clients = options.robots.map((r) => (isClient(r) ? r : createRobotClient(r, { clock })));
  const names = new Set<string>();
  for (const c of clients) {
    if (names.has(c.config.name)) throw new RangeError(`duplicate robot name ${c.config.name}`);
    names.add(c.config.name);
  }
  const limiters = new Map<string, SlidingWindowLimiter>();
  const limiterFor = (c: RobotClient) => {
    let l = limiters.get(c.config.name);
    if (!l) {
      const now = clock.now();
      l = new SlidingWindowLimiter({
        max: c.config.maxPerMinute,
        windowMs: config.windowMs,
        marginMs: config.safetyMarginMs,
        history: outbox.sendTimes(c.config.name, now - config.windowMs - config.safetyMarginMs),
      });
      limiters.set(c.config.name, l);
    }
    return l;
  };
  const owner = options.owner ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  let leaseUntil = 0;
  /** Hold the lease (renewing it at half-life); recover crashed sends when it is newly taken. */
  function holdLease(): boolean {
    const now = clock.now();
    if (leaseUntil - now > config.leaseMs / 2) return true;
    const had = leaseUntil > now;
    if (!outbox.acquireLease(owner, now, config.leaseMs)) {
      if (had) log({ type: 'lease', held: false, owner });
      leaseUntil = 0;
      return false;
    }
    if (!had) {
      log({ type: 'lease', held: true, owner });
      const recovered = outbox.recoverInFlight();
      if (recovered) log({ type: 'recovered', jobs: recovered });
    }
    leaseUntil = now + config.leaseMs;
    return true;
  }
  const messages = { delivered: 0, transient: 0, throttled: 0, permanent: 0 };
  let merged = 0;
  let running = false;
  let loops: Promise<void>[] = [];
  let wakers: (() => void)[] = [];
  /** A wake() that came while no loop was waiting: the next idle() returns at once. */
  let wakePending = false;

  const backoff = (attempts: number): number => {
    const exp = Math.min(config.maxDelayMs, config.baseDelayMs * 2 ** Math.max(0, attempts - 1));
    return Math.round(exp / 2 + (random() * exp) / 2);
  };

  /** One step for one robot: returns the ms to wait before the next step (0 = go on). */
  async function step(client: RobotClient): Promise<{ sent: boolean; waitMs: number }> {
    const robot = client.config.name;
    if (!holdLease()) return { sent: false, waitMs: config.pollIntervalMs };
    const now = clock.now();
    const paused = outbox.pausedUntil(robot);
    if (paused > now) return { sent: false, waitMs: Math.min(paused - now, config.pollIntervalMs) };
    const dueCount = outbox.dueCount(robot, now);
    if (dueCount === 0) {
      const next = outbox.nextDueAt(robot);
      return {
        sent: false,
        waitMs:
          next === undefined
            ? config.pollIntervalMs
            : Math.min(config.pollIntervalMs, Math.max(1, next - now)),
      };
    }
    const limiter = limiterFor(client);
    const available = limiter.available(now);
    if (available === 0) return { sent: false, waitMs: Math.max(1, limiter.nextAllowedAt(now) - now) };
    // Over budget: merge so the backlog fits in the requests this window still allows.
    const perMessage =
      dueCount <= available ? 1 : Math.min(config.maxEventsPerMessage, Math.ceil(dueCount / available));
    const jobs = outbox.due(robot, now, perMessage);
    const notices = jobs.map((j) => j.notice);
    const opts = {
      reviewBaseUrl: client.config.reviewBaseUrl,
      format: client.config.format,
      mentionMobiles: client.config.mentionMobiles,
      mentionUserIds: client.config.mentionUserIds,
      ...(client.config.keyword ? { keyword: client.config.keyword } : {}),
    };
    const message =
      notices.length === 1 ? buildEventMessage(notices[0]!, opts) : buildDigestMessage(notices, opts);
    const sendId = outbox.beginSend(
      robot,
      jobs.map((j) => j.id),
      now,
    );
    // Count the send from when the request leaves (after the commit, which may wait on the disk).
    const sentAt = Math.max(now, clock.now());
    limiter.record(sentAt);
    const keys = jobs.map((j) => j.key);
    log({ type: 'send', robot, keys, attempt: Math.max(...jobs.map((j) => j.attempts)) + 1 });
    const outcome = await client.send(message);
    const done = clock.now();
    messages[outcome.kind] += 1;
    if (jobs.length > 1) merged += 1;
    const dead: string[] = [];
    outbox.finishSend(
      sendId,
      { outcome: outcome.kind, sentAt, ...(outcome.kind !== 'delivered' ? { reason: outcome.reason } : {}) },
      done,
      (job) => {
        const isDead = outcome.kind === 'permanent' || job.attempts >= config.maxAttempts;
        const retryAt =
          outcome.kind === 'throttled' ? done + config.throttlePauseMs : done + backoff(job.attempts);
        return { dead: isDead, retryAt };
      },
    );
    if (outcome.kind !== 'delivered') {
      for (const k of keys) if (outbox.job(k)?.status === 'dead') dead.push(k);
    }
    if (outcome.kind === 'throttled') {
      outbox.pauseRobot(robot, done + config.throttlePauseMs);
      log({ type: 'paused', robot, until: done + config.throttlePauseMs });
    }
    log({ type: 'result', robot, keys, outcome, dead });
    return { sent: true, waitMs: 0 };
  }

  function idle(ms: number): Promise<void> {
    if (wakePending) {
      wakePending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      let done = false;
      const finish = () => {
        if (done) return;
        done = true;
        wakers = wakers.filter((w) => w !== finish);
        resolve();
      };
      wakers.push(finish);
      clock.sleep(ms).then(finish, finish);
    });
  }

  async function loop(client: RobotClient): Promise<void> {
    while (running) {
      const { waitMs } = await step(client);
      if (waitMs > 0 && running) await idle(waitMs);
    }
  }

  return {
    config,
    start() {
      if (running) return;
      running = true;
      loops = clients.map((c) => loop(c));
    },
    async stop() {
      running = false;
      for (const w of [...wakers]) w();
      await Promise.all(loops);
      loops = [];
      if (leaseUntil > 0) outbox.releaseLease(owner);
      leaseUntil = 0;
    },
    wake() {
      if (wakers.length === 0) wakePending = true;
      for (const w of [...wakers]) w();
    },
    async tick() {
      let sent = 0;
      for (const c of clients) if ((await step(c)).sent) sent += 1;
      return sent;
    },
    metrics() {
      return { ...outbox.counts(), messages: { ...messages }, mergedMessages: merged };
    },
  };
}
