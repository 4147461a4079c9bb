import cluster from 'node:cluster';
import { CdssError, isCdssError } from '@yijian/emr';
import { type DestinationStream, type LoggerOptions, pino } from 'pino';
import { prepareAdverseEventStore } from './adverse-events.js';
import { buildApp } from './app.js';
import {
  clusterMetricsText,
  reportReady,
  shareAcceptedTokens,
  superviseWorkers,
  workerCount,
  workerExecArgv,
  workerIndex,
} from './cluster.js';
import { baseUrl, configFromEnv, ENV_VARS, type ServiceConfig } from './config.js';
import { createBufferedStdout, loggerOptions } from './logging.js';
import { openReviewStore, type ReviewUsersSetup, setupReviewUsers } from './review.js';
import { openStore } from './store.js';

type Log = (level: 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>) => void;

/**
 * Start the service: config from the environment, listen, say where to send a request, and on
 * SIGINT / SIGTERM stop taking new requests, drain the ones in flight, then exit.
 */
async function main(): Promise<void> {
  if (process.argv.includes('--help')) {
    process.stdout.write(
      `Usage: node service/dist/main.js\nEnvironment: ${ENV_VARS.join(', ')} (see docs/service.md)\n`,
    );
    return;
  }
  const config = configFromEnv();
  const workers = workerCount(config);
  if (workers > 1 && cluster.isPrimary) return runPrimary(config, workers);
  await runServer(config);
}

/**
 * With `workers` > 1: create and migrate the data files and the review admin once, then fork the
 * workers (cluster.ts) and announce the service when all of them are ready.
 */
function runPrimary(config: ServiceConfig, workers: number): void {
  if (config.dbFile === ':memory:')
    throw new CdssError(
      'CDSS_ERR_INVALID_CONFIG',
      'WORKERS > 1 needs a store file (DB_FILE is :memory:, which each worker would keep to itself)',
    );
  // The primary has no fastify app: a pino logger with the workers' options (level, redaction, scrubbing).
  const { stream, ...options } = loggerOptions(config, createBufferedStdout()) as LoggerOptions & {
    stream: DestinationStream;
  };
  const logger = pino(options, stream);
  const log: Log = (level, msg, fields = {}) => logger[level](fields, msg);
  openStore(config.dataDir, config.dbFile).close();
  openReviewStore(config).close();
  prepareAdverseEventStore(config);
  const review = setupReviewUsers(config);
  superviseWorkers({
    workers,
    shutdownTimeoutMs: config.shutdownTimeoutMs,
    execArgv: workerExecArgv(process.execArgv, process.env.NODE_OPTIONS, config.semiSpaceMb),
    log,
    onReady(url, fields) {
      logReviewSetup(log, url, review);
      announce(log, url, { ...fields, workers });
    },
  });
}

/** One service process: the whole service alone, or one cluster worker. */
async function runServer(config: ServiceConfig): Promise<void> {
  const index = workerIndex();
  const app = await buildApp({
    config,
    logStream: createBufferedStdout(),
    ...(index !== undefined
      ? { worker: { index, metricsText: clusterMetricsText, shareTokens: shareAcceptedTokens } }
      : {}),
  });
  const ctx = app.yijian;
  const log: Log = (level, msg, fields = {}) => app.log[level](fields, msg);

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    app.log.info({ signal }, 'shutting down: draining in-flight requests');
    const timer = setTimeout(() => {
      app.log.error({ timeoutMs: config.shutdownTimeoutMs }, 'shutdown timed out; exiting');
      process.exit(1);
    }, config.shutdownTimeoutMs);
    timer.unref();
    app.close().then(
      () => {
        app.log.info('stopped');
        process.exit(0);
      },
      (error: unknown) => {
        app.log.error({ err: { type: (error as Error).name } }, 'error while stopping');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('unhandledRejection', (reason) => {
    app.log.error(
      { err: { type: (reason as Error)?.name, stack: (reason as Error)?.stack } },
      'unhandled rejection',
    );
  });

  await app.listen({ port: config.port, host: config.host });
  const address = app.server.address();
  const port = address && typeof address === 'object' ? address.port : config.port;
  const base = baseUrl(config, port);
  await ctx.engine();
  const fields = {
    startupMs: Math.round(performance.now()),
    docs: config.docs ? `${base}/docs` : undefined,
    apiKeys: ctx.tenants.enabled ? 'required' : 'off (loopback, tenant default)',
    cdsHooksJwt: ctx.jwt ? 'required' : 'off (loopback)',
    dingtalkRobots: ctx.adverseEvents.robots.length ? ctx.adverseEvents.robots : 'none (events stored only)',
    dingtalkCallback: config.dingtalkAppSecret ? `${base}/dingtalk/callback` : 'off',
  };
  if (index !== undefined) {
    // The primary announces the service once every worker is ready.
    app.log.info({ url: base, startupMs: fields.startupMs, pid: process.pid }, 'worker ready');
    reportReady(base, fields);
    return;
  }
  logReviewSetup(log, base, ctx.reviewUsers);
  announce(log, base, fields);
}

function logReviewSetup(log: Log, base: string, review: ReviewUsersSetup): void {
  if (review.adminTokenFile)
    log(
      'info',
      `review page: open ${base}/review and log in with the admin token in ${review.adminTokenFile} (cat it; keep it secret, delete the file once you have added real users)`,
      { review: `${base}/review`, tokenFile: review.adminTokenFile, generated: review.generated },
    );
  else if (review.usersFile)
    log('info', `review page: open ${base}/review and log in with your token`, { review: `${base}/review` });
  else
    log('warn', 'review page: no users configured (set REVIEW_USERS_FILE); its API refuses every login', {
      review: `${base}/review`,
    });
}

function announce(log: Log, base: string, fields: Record<string, unknown>): void {
  log(
    'info',
    `ready: try  curl -s -X POST ${base}/v1/analyze -H 'content-type: application/json' --data @corpora/samples/cardiology-01.json`,
    { url: base, ...fields },
  );
}

main().catch((error: unknown) => {
  const message = isCdssError(error)
    ? `${error.code}: ${error.message}`
    : String((error as Error)?.stack ?? error);
  process.stderr.write(`yijian service failed to start: ${message}\n`);
  process.exit(1);
});
