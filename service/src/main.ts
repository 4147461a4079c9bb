import { isCdssError } from '@yijian/emr';
import { buildApp } from './app.js';
import { baseUrl, configFromEnv, ENV_VARS } from './config.js';
import { createBufferedStdout } from './logging.js';

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
  const app = await buildApp({ config, logStream: createBufferedStdout() });
  const ctx = app.yijian;

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
  const review = ctx.reviewUsers;
  if (review.adminTokenFile)
    app.log.info(
      { review: `${base}/review`, tokenFile: review.adminTokenFile, generated: review.generated },
      `review page: open ${base}/review and log in with the admin token in ${review.adminTokenFile} (cat it; keep it secret, delete the file once you have added real users)`,
    );
  else if (review.usersFile)
    app.log.info({ review: `${base}/review` }, `review page: open ${base}/review and log in with your token`);
  else
    app.log.warn(
      { review: `${base}/review` },
      'review page: no users configured (set REVIEW_USERS_FILE); its API refuses every login',
    );
  app.log.info(
    {
      url: base,
      startupMs: Math.round(performance.now()),
      docs: config.docs ? `${base}/docs` : undefined,
      apiKeys: ctx.tenants.enabled ? 'required' : 'off (loopback, tenant default)',
      cdsHooksJwt: ctx.jwt ? 'required' : 'off (loopback)',
      dingtalkRobots: ctx.adverseEvents.robots.length
        ? ctx.adverseEvents.robots
        : 'none (events stored only)',
      dingtalkCallback: config.dingtalkAppSecret ? `${base}/dingtalk/callback` : 'off',
    },
    `ready: try  curl -s -X POST ${base}/v1/analyze -H 'content-type: application/json' --data @corpora/samples/cardiology-01.json`,
  );
}

main().catch((error: unknown) => {
  const message = isCdssError(error)
    ? `${error.code}: ${error.message}`
    : String((error as Error)?.stack ?? error);
  process.stderr.write(`yijian service failed to start: ${message}\n`);
  process.exit(1);
});
