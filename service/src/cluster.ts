import cluster, { type Worker } from 'node:cluster';
import { availableParallelism } from 'node:os';
import { CdssError } from '@yijian/emr';
import { AggregatorRegistry, type Registry } from 'prom-client';
import type { AcceptedToken } from './cds-hooks/jwt.js';
import type { ServiceConfig } from './config.js';

/**
 * Several service processes on one port (node:cluster). The primary only supervises: it forks the
 * workers, restarts one that dies, answers /metrics for all of them together, and on SIGTERM lets
 * every worker drain its in-flight requests. Each worker is a whole service (its own engine, its
 * own SQLite connections in WAL mode); the kernel-side round-robin of the primary hands each new
 * connection to the next worker.
 *
 * What the workers share goes through SQLite: the audit log, feedback, tenant rule settings (each
 * worker's cache is checked against a version row), the review queue and the DingTalk outbox (one
 * dispatcher holds the outbox lease, so the 20-messages-a-minute limit stays per robot).
 */

/** The worker's index (0-based) in the environment of each forked process. */
export const WORKER_INDEX_ENV = 'YIJIAN_WORKER_INDEX';

const READY = 'yijian:ready';
const METRICS_REQ = 'yijian:metrics-req';
const METRICS_RES = 'yijian:metrics-res';
/** CDS Hooks token ids a worker accepted; the primary relays them to the other workers. */
const TOKENS = 'yijian:jwt-accepted';

type WorkerMessage =
  | { type: typeof READY; url: string; fields: Record<string, unknown> }
  | { type: typeof METRICS_REQ; id: number }
  | { type: typeof TOKENS; tokens: AcceptedToken[] };
type PrimaryMessage =
  | { type: typeof METRICS_RES; id: number; text?: string; error?: string }
  | { type: typeof TOKENS; tokens: AcceptedToken[] };

/** How many processes `config.workers` asks for (`auto` = the CPUs this process may use). */
export function workerCount(config: Pick<ServiceConfig, 'workers'>): number {
  return config.workers === 'auto' ? availableParallelism() : config.workers;
}

/**
 * Node flags for the workers: the primary's own, plus `--max-semi-space-size` when `semiSpaceMb` > 0
 * and neither the primary's flags nor NODE_OPTIONS set it already.
 */
export function workerExecArgv(
  execArgv: readonly string[],
  nodeOptions: string | undefined,
  semiSpaceMb: number,
): string[] {
  const given = [...execArgv, ...(nodeOptions ?? '').split(/\s+/)].some((f) =>
    /^--max[-_]semi[-_]space[-_]size(=|$)/.test(f),
  );
  return semiSpaceMb > 0 && !given ? [...execArgv, `--max-semi-space-size=${semiSpaceMb}`] : [...execArgv];
}

/** This process's worker index, or undefined when it is not a cluster worker. */
export function workerIndex(): number | undefined {
  if (!cluster.isWorker) return undefined;
  const n = Number(process.env[WORKER_INDEX_ENV]);
  return Number.isInteger(n) && n >= 0 ? n : undefined;
}

/**
 * In a worker: report this worker's registry to the primary's aggregation, and return the
 * function /metrics uses to get the text of all workers together.
 */
export function clusterMetricsText(registry: Registry, timeoutMs = 5000): () => Promise<string> {
  new AggregatorRegistry(); // registers the worker's answer to the primary's collection request
  AggregatorRegistry.setRegistries([registry]);
  let next = 0;
  const waiting = new Map<
    number,
    { resolve(text: string): void; reject(error: Error): void; timer: NodeJS.Timeout }
  >();
  process.on('message', (message: PrimaryMessage) => {
    if (message?.type !== METRICS_RES) return;
    const w = waiting.get(message.id);
    if (!w) return;
    waiting.delete(message.id);
    clearTimeout(w.timer);
    if (message.error !== undefined) w.reject(new CdssError('CDSS_ERR_INTERNAL', message.error));
    else w.resolve(message.text ?? '');
  });
  return () =>
    new Promise<string>((resolve, reject) => {
      const id = next++;
      const timer = setTimeout(() => {
        waiting.delete(id);
        reject(new CdssError('CDSS_ERR_INTERNAL', 'metrics of the other workers did not arrive in time'));
      }, timeoutMs);
      waiting.set(id, { resolve, reject, timer });
      process.send?.({ type: METRICS_REQ, id } satisfies WorkerMessage);
    });
}

/**
 * In a worker: share the CDS Hooks token ids this worker accepts with the other workers, so a
 * token replayed on a connection another worker serves is refused too. Ids go out in batches every
 * `batchMs` (one message instead of one per call) and the primary relays them; until a batch has
 * arrived (about `batchMs` plus a relay, a few milliseconds) only the worker that accepted a token
 * refuses it again. Returns the callback for the verifier's `onAccepted`.
 */
export function shareAcceptedTokens(
  remember: (tokens: readonly AcceptedToken[]) => void,
  batchMs = 20,
): (token: AcceptedToken) => void {
  process.on('message', (message: PrimaryMessage) => {
    if (message?.type === TOKENS && Array.isArray(message.tokens)) remember(message.tokens);
  });
  let pending: AcceptedToken[] = [];
  let timer: NodeJS.Timeout | undefined;
  const flush = () => {
    timer = undefined;
    const tokens = pending;
    pending = [];
    if (process.connected) process.send?.({ type: TOKENS, tokens } satisfies WorkerMessage);
  };
  return (token) => {
    pending.push(token);
    if (timer === undefined) timer = setTimeout(flush, batchMs);
  };
}

/** In a worker: tell the primary this worker listens and its engine is loaded. */
export function reportReady(url: string, fields: Record<string, unknown>): void {
  process.send?.({ type: READY, url, fields } satisfies WorkerMessage);
}

export interface SupervisorOptions {
  workers: number;
  /** How long a worker may take to drain after SIGTERM before it is killed. */
  shutdownTimeoutMs: number;
  /** One JSON log line (the primary has no fastify logger). */
  log(level: 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>): void;
  /** Called once, when every worker of the first start has reported ready. */
  onReady(url: string, fields: Record<string, unknown>): void;
  /** A worker that dies is restarted unless this many died in the last minute (default 5). */
  maxRestartsPerMinute?: number;
  /** Node flags of the workers (default: the primary's own). */
  execArgv?: string[];
}

/**
 * Run in the primary: fork the workers and keep them running until SIGINT / SIGTERM, then drain
 * them and exit (0 when every worker stopped cleanly). Workers run the same entry script.
 */
export function superviseWorkers(options: SupervisorOptions): void {
  const maxRestarts = options.maxRestartsPerMinute ?? 5;
  const aggregator = new AggregatorRegistry();
  const byIndex = new Map<number, Worker>();
  const readyOnce = new Set<number>();
  const deaths: number[] = [];
  let announced = false;
  let stopping = false;
  let exitCode = 0;

  if (options.execArgv) cluster.setupPrimary({ execArgv: options.execArgv });
  const fork = (index: number) => {
    const worker = cluster.fork({ [WORKER_INDEX_ENV]: String(index) });
    byIndex.set(index, worker);
    worker.on('message', (message: WorkerMessage) => {
      if (message?.type === READY) {
        readyOnce.add(index);
        if (!announced && readyOnce.size === options.workers) {
          announced = true;
          options.onReady(message.url, message.fields);
        }
      } else if (message?.type === TOKENS) {
        for (const [other, w] of byIndex) if (other !== index) sendTo(w, message);
      } else if (message?.type === METRICS_REQ) {
        aggregator.clusterMetrics().then(
          (text) => sendTo(worker, { type: METRICS_RES, id: message.id, text }),
          (error: unknown) =>
            sendTo(worker, { type: METRICS_RES, id: message.id, error: (error as Error).message }),
        );
      }
    });
    worker.on('exit', (code, signal) => {
      if (byIndex.get(index) === worker) byIndex.delete(index);
      if (stopping) {
        if (code !== 0) exitCode = 1;
        if (byIndex.size === 0) process.exit(exitCode);
        return;
      }
      const now = Date.now();
      deaths.push(now);
      while (deaths.length && (deaths[0] ?? 0) < now - 60_000) deaths.shift();
      if (deaths.length > maxRestarts) {
        options.log('error', 'workers keep dying; stopping the service', {
          worker: index,
          code,
          signal,
          deathsLastMinute: deaths.length,
        });
        stop('restart-limit', 1);
        return;
      }
      options.log('error', 'worker died; starting a new one', { worker: index, code, signal });
      // Not unref'd: when every worker has died, this timer is what keeps the primary alive.
      setTimeout(() => {
        if (!stopping) fork(index);
      }, 500);
    });
  };

  const stop = (reason: string, code = 0) => {
    if (stopping) return;
    stopping = true;
    exitCode = code;
    options.log('info', 'shutting down: each worker drains its in-flight requests', { reason });
    if (byIndex.size === 0) process.exit(exitCode);
    for (const worker of byIndex.values()) worker.process.kill('SIGTERM');
    setTimeout(() => {
      options.log('error', 'workers did not stop in time; killing them', { workers: byIndex.size });
      for (const worker of byIndex.values()) worker.process.kill('SIGKILL');
      process.exit(1);
    }, options.shutdownTimeoutMs + 2000).unref();
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));

  for (let i = 0; i < options.workers; i++) fork(i);
}

function sendTo(worker: Worker, message: PrimaryMessage): void {
  if (worker.isConnected()) worker.send(message);
}
