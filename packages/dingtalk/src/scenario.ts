import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type AdverseEvent, CATEGORY_LABELS, EVENT_CATEGORIES, GRADES } from '@yijian/adverse-events';
import { createCompressedClock } from './clock.js';
import type { DispatcherConfigInput } from './config.js';
import { maxInWindow } from './limiter.js';
import { Outbox } from './outbox.js';
import { type FailureMode, startDingTalkTestServer } from './test-server.js';

/**
 * The delivery torture test, shared by the unit test (short) and `bench/ae-delivery.ts` (full):
 * events are enqueued while a dispatcher runs in a child process against the loopback DingTalk
 * server, which fails a share of requests at random; the child is SIGKILLed in the middle of
 * deliveries (while the server holds an accepted message unanswered) and restarted.
 */
export interface DeliveryScenarioOptions {
  events: number;
  failureRate: number;
  kills: number;
  /** Time compression: virtual ms per wall-clock ms. */
  speed: number;
  failureModes?: FailureMode[];
  seed?: number;
  dispatcher?: DispatcherConfigInput;
  /** Wall-clock limit. */
  timeoutMs?: number;
  /** Client request timeout (wall-clock ms) and how long the server stalls. */
  requestTimeoutMs?: number;
  stallMs?: number;
}

export interface DeliveryScenarioResult {
  events: number;
  delivered: number;
  missing: string[];
  dead: number;
  /** Keys delivered more than once. */
  duplicates: string[];
  /** Duplicates of jobs that were never interrupted by a crash (must be empty). */
  unexplainedDuplicates: string[];
  /** Jobs found mid-send after a crash. */
  inFlightRecovered: number;
  kills: number;
  requests: number;
  messagesAccepted: number;
  mergedMessages: number;
  injectedFailures: number;
  /** Largest number of requests in any 60 s window, as the server saw them arrive. */
  maxPerMinute: number;
  /** The same from the dispatcher's own send log (send start times). */
  clientMaxPerMinute: number;
  limitViolations: number;
  virtualMinutes: number;
  wallMs: number;
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A synthetic event (no patient data) for delivery tests. */
export function syntheticEvent(i: number): AdverseEvent {
  const category = EVENT_CATEGORIES[i % EVENT_CATEGORIES.length]!;
  const grade = GRADES[(i * 7) % GRADES.length]!;
  return {
    id: `ae-${String(i).padStart(5, '0')}`,
    key: `syn-${i}:${category}`,
    category,
    label: CATEGORY_LABELS[category],
    grade,
    gradeReason: '合成测试事件',
    summary: `第${i}号合成事件`,
    details: {},
    evidence: [{ source: 'text', text: '合成测试证据', ruleId: 'synthetic' }],
    rules: ['synthetic@1'],
    recordId: `rec-${i}`,
    department: '测试病区',
    origin: 'detected',
  };
}

export async function runDeliveryScenario(options: DeliveryScenarioOptions): Promise<DeliveryScenarioResult> {
  const started = Date.now();
  const dir = mkdtempSync(join(tmpdir(), 'yijian-ae-'));
  const dbPath = join(dir, 'outbox.db');
  const realStart = Date.now();
  const clock = createCompressedClock({ speed: options.speed, realStart });
  const virtualStart = clock.now();
  const random = mulberry32(options.seed ?? 42);
  const secret = 'SEC0123456789abcdef-test-secret';
  const server = await startDingTalkTestServer({
    accessToken: 'loopback-token',
    secret,
    clock,
    failureRate: options.failureRate,
    ...(options.failureModes ? { failureModes: options.failureModes } : {}),
    stallMs: options.stallMs ?? 2_500,
    random,
  });
  const robot = {
    name: 'quality',
    webhook: server.webhook,
    secret,
    reviewBaseUrl: 'https://yijian.hospital.test',
    mentionMobiles: ['13800000000'],
    timeoutMs: options.requestTimeoutMs ?? 2_000,
  };
  const dispatcher: DispatcherConfigInput = {
    pollIntervalMs: 1_000,
    safetyMarginMs: 12_000,
    maxAttempts: 50,
    ...options.dispatcher,
  };
  const outbox = new Outbox({ path: dbPath, clock });
  const isTs = import.meta.url.endsWith('.ts');
  const entry = fileURLToPath(new URL(`./dispatcher-process.${isTs ? 'ts' : 'js'}`, import.meta.url));
  const pkgDir = fileURLToPath(new URL('..', import.meta.url));
  let child: ChildProcess | undefined;
  let kills = 0;
  let generation = 0;

  const spawnChild = () => {
    generation += 1;
    const cfg = JSON.stringify({
      dbPath,
      robots: [robot],
      dispatcher,
      clock: { speed: options.speed, realStart },
      seed: generation,
    });
    const c = spawn(process.execPath, [...(isTs ? ['--import', 'tsx'] : []), entry, cfg], {
      cwd: pkgDir,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    c.stdout?.resume();
    child = c;
    return c;
  };
  const exited = (c: ChildProcess) =>
    new Promise<void>((resolve) => {
      if (c.exitCode !== null || c.signalCode !== null) resolve();
      else c.once('exit', () => resolve());
    });

  try {
    const total = options.events;
    const firstBatch = Math.min(total, Math.ceil(total / 4));
    for (let i = 0; i < firstBatch; i++) outbox.enqueue(syntheticEvent(i), { robots: ['quality'] });
    let enqueued = firstBatch;
    spawnChild();
    const killAt = Array.from({ length: options.kills }, (_, k) =>
      Math.floor(((k + 1) * total) / (options.kills + 1)),
    );
    const deadline = started + (options.timeoutMs ?? 600_000);
    let pendingKill = false;
    while (Date.now() < deadline) {
      if (enqueued < total) {
        const n = Math.min(total - enqueued, Math.ceil(total / 20));
        for (let i = enqueued; i < enqueued + n; i++)
          outbox.enqueue(syntheticEvent(i), { robots: ['quality'] });
        enqueued += n;
      }
      const deliveredKeys = server.deliveredKeys().size;
      if (!pendingKill && killAt.length && deliveredKeys >= killAt[0]!) {
        killAt.shift();
        pendingKill = true;
        const victim = child!;
        server.holdNextDelivery(200, () => {
          victim.kill('SIGKILL');
        });
        exited(victim).then(() => {
          kills += 1;
          pendingKill = false;
          spawnChild();
        });
      }
      const counts = outbox.counts();
      if (enqueued === total && counts.delivered + counts.dead === total && !pendingKill) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const c = child;
    if (c && c.exitCode === null && c.signalCode === null) {
      c.kill('SIGTERM');
      await exited(c);
    }
    const counts = outbox.counts();
    const jobs = outbox.jobs();
    const delivered = server.deliveredKeys();
    const duplicates = [...delivered].filter(([, n]) => n > 1).map(([k]) => k);
    const recovered = new Set(jobs.filter((j) => j.inFlightRecoveries > 0).map((j) => j.key));
    const sends = outbox.db.prepare('SELECT COUNT(*) AS n FROM ae_sends WHERE job_count > 1').get() as {
      n: number;
    };
    return {
      events: total,
      delivered: jobs.filter((j) => delivered.has(j.key)).length,
      missing: jobs.filter((j) => !delivered.has(j.key)).map((j) => j.key),
      dead: counts.dead,
      duplicates,
      unexplainedDuplicates: duplicates.filter((k) => !recovered.has(k)),
      inFlightRecovered: recovered.size,
      kills,
      requests: server.arrivals.length,
      messagesAccepted: server.received.length,
      mergedMessages: sends.n,
      injectedFailures: Object.values(server.injected).reduce((a, b) => a + b, 0),
      maxPerMinute: server.maxPerWindow(60_000),
      clientMaxPerMinute: maxInWindow(
        (outbox.db.prepare('SELECT at FROM ae_sends').all() as { at: number }[]).map((x) => x.at),
        60_000,
      ),
      limitViolations: server.violations,
      virtualMinutes: (clock.now() - virtualStart) / 60_000,
      wallMs: Date.now() - started,
    };
  } finally {
    const c = child;
    if (c && c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    outbox.close();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
