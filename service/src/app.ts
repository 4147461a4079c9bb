import { randomUUID } from 'node:crypto';
import fastifyCors from '@fastify/cors';
import fastifyRateLimit from '@fastify/rate-limit';
import { type AdverseEvent, detectEvents } from '@yijian/adverse-events';
import { CdssError } from '@yijian/emr';
import { reviewPlugin } from '@yijian/review';
import Fastify, { type FastifyInstance, LogController } from 'fastify';
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Registry } from 'prom-client';
import { createEngine, type Engine } from 'yijian';
import { openAdverseEventService } from './adverse-events.js';
import { apiKeyOf, authenticateCdsHooks, authenticateRest } from './auth.js';
import { type AcceptedToken, createCdsJwtVerifier } from './cds-hooks/jwt.js';
import { baseUrl, isLoopback, parseConfig, type ServiceConfig, type ServiceConfigInput } from './config.js';
import type { ServiceContext } from './context.js';
import { registerDocs } from './docs.js';
import { errorHandler, notFoundHandler, resolveError } from './errors.js';
import { startLagMonitor } from './load-shedding.js';
import { type LogDestination, loggerOptions } from './logging.js';
import { createMetrics } from './metrics.js';
import { ingestAnalysis, openReviewStore, setupReviewUsers } from './review.js';
import { adverseEventRoutes } from './routes/adverse-events.js';
import { analysisRoutes } from './routes/analysis.js';
import { cdsHooksRoutes } from './routes/cds-hooks.js';
import { knowledgeRoutes } from './routes/knowledge.js';
import { operationsRoutes } from './routes/operations.js';
import { SECURITY_HEADERS } from './security-headers.js';
import { openStore } from './store.js';
import { ANONYMOUS_TENANT, createTenantRegistry, hashApiKey, type Tenant } from './tenants.js';

export interface BuildAppOptions {
  /** Parsed or raw config; defaults apply to what is missing. */
  config?: ServiceConfigInput | ServiceConfig;
  /** An engine to use (shared, not closed with the app); by default the app creates its own. */
  engine?: Engine;
  /** Where log lines go instead of stdout. */
  logStream?: LogDestination;
  /** Register default process metrics (default true; tests building many apps turn it off). */
  defaultMetrics?: boolean;
  /**
   * Set when this app runs as one worker of several (main.ts with `workers` > 1): its index goes
   * on every log line, and /metrics serves what `metricsText` returns (all workers summed).
   */
  worker?: {
    index: number;
    metricsText(registry: Registry): () => Promise<string>;
    /** Share accepted CDS Hooks token ids with the other workers; returns the callback for each one. */
    shareTokens(remember: (tokens: readonly AcceptedToken[]) => void): (token: AcceptedToken) => void;
  };
}

export type YijianApp = FastifyInstance & { yijian: ServiceContext };

const REQUEST_ID_RE = /^[A-Za-z0-9._:-]{1,64}$/;
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/**
 * Build the fastify app: config validated, engine loading, store open, every route registered.
 * It does not listen; main.ts does. Tests call `app.inject()`.
 */
export async function buildApp(options: BuildAppOptions = {}): Promise<YijianApp> {
  const config = parseConfig(options.config as ServiceConfigInput);
  const tenants = createTenantRegistry(config.apiKeysFile);
  if (!tenants.enabled && !isLoopback(config.host) && !config.allowAnonymous) {
    throw new CdssError(
      'CDSS_ERR_INVALID_CONFIG',
      `Refusing to serve ${config.host} without API keys: set API_KEYS_FILE (or ALLOW_ANONYMOUS=true for a closed network)`,
    );
  }
  if (!config.cdsHooksJwks && !isLoopback(config.host) && !config.allowAnonymous) {
    throw new CdssError(
      'CDSS_ERR_INVALID_CONFIG',
      `Refusing to serve CDS Hooks on ${config.host} without JWT verification: set CDS_HOOKS_JWKS and CDS_HOOKS_ISSUERS`,
    );
  }
  // Cluster workers tell each other the token ids they accept (replays are refused by all of them).
  const shareToken =
    config.cdsHooksJwks && options.worker
      ? options.worker.shareTokens((tokens) => jwt?.rememberAccepted(tokens))
      : undefined;
  const jwt = config.cdsHooksJwks
    ? createCdsJwtVerifier({
        jwks: config.cdsHooksJwks,
        issuers: config.cdsHooksIssuers,
        ...(shareToken ? { onAccepted: shareToken } : {}),
      })
    : undefined;

  const app = Fastify({
    logger: loggerOptions(config, options.logStream, options.worker?.index),
    bodyLimit: config.bodyLimit,
    trustProxy: config.trustProxy,
    // One line per request is written by our onResponse hook instead (route template, no URL).
    logController: new LogController({ disableRequestLogging: true }),
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    requestIdHeader: false,
    genReqId: (req) => {
      const incoming = req.headers['x-request-id'];
      return typeof incoming === 'string' && REQUEST_ID_RE.test(incoming) ? incoming : randomUUID();
    },
    routerOptions: { maxParamLength: 200 },
    // Router-level refusals (bad URL encoding, over-long path parameters) get the same error body.
    frameworkErrors: errorHandler,
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler(notFoundHandler);
  app.decorateRequest('tenant', null as unknown as Tenant);

  // JSON only: plain text is refused with 415 rather than parsed into a string.
  app.removeContentTypeParser('text/plain');
  // FHIR clients send application/fhir+json; parse it like JSON (same prototype-poisoning guards).
  app.addContentTypeParser(
    'application/fhir+json',
    { parseAs: 'string' },
    app.getDefaultJsonParser('error', 'error') as Parameters<typeof app.addContentTypeParser>[2],
  );

  const metrics = createMetrics({
    defaultMetrics: options.defaultMetrics ?? true,
    ...(options.worker ? { text: options.worker.metricsText } : {}),
  });
  const store = openStore(config.dataDir, config.dbFile);
  const reviewUsers = setupReviewUsers(config);
  const reviewStore = openReviewStore(config);
  const adverseEvents = openAdverseEventService(config, {
    reviewBaseUrl: baseUrl(config),
    registry: metrics.registry,
    log: app.log,
  });

  let engine: Engine | undefined = options.engine;
  let engineError: unknown;
  let closing = false;
  const enginePromise: Promise<Engine> = engine
    ? Promise.resolve(engine)
    : createEngine().then(
        (e) => {
          engine = e;
          return e;
        },
        (error: unknown) => {
          engineError = error;
          throw error;
        },
      );
  enginePromise.catch(() => {});

  let listeningPort: number | undefined;
  const ctx: ServiceContext = {
    config,
    engine: () => enginePromise,
    isReady: () => engine !== undefined && !closing && engineError === undefined,
    store,
    metrics,
    tenants,
    jwt,
    baseUrl: () => baseUrl(config, listeningPort ?? config.port),
    reviewStore,
    reviewUsers,
    adverseEvents,
    afterAnalysis(record, result, tenant) {
      const events: AdverseEvent[] = detectEvents({ record });
      for (const e of events) metrics.adverseEvents.inc({ origin: e.origin, category: e.category });
      // The outbox write is the durable report: if it fails the request fails (the caller retries).
      adverseEvents.enqueueDetected(events, record.patient.name ? [record.patient.name] : [], tenant);
      if (config.reviewIngest) {
        try {
          ingestAnalysis(reviewStore, record, result, events, { tenant });
        } catch (error) {
          // The caller still gets its analysis; the queue misses this record until it is analysed again.
          app.log.error(
            { err: { type: (error as Error).name, code: (error as { code?: string }).code } },
            'review ingest failed',
          );
        }
      }
      return events;
    },
    recordShown(audit, alerts) {
      // One increment per rule and severity (a conflict-heavy answer has ~30 cards of 2-3 rules).
      const counts = new Map<string, { rule_id: string; severity: string; n: number }>();
      for (const a of alerts) {
        const key = `${a.ruleId}\u0000${a.severity}`;
        const c = counts.get(key);
        if (c) c.n++;
        else counts.set(key, { rule_id: a.ruleId, severity: a.severity, n: 1 });
      }
      for (const { rule_id, severity, n } of counts.values())
        metrics.alerts.inc({ rule_id, severity, channel: audit.channel }, n);
      store.recordShown(audit, alerts);
    },
  };
  app.decorate('yijian', ctx);
  app.addHook('onListen', async () => {
    const address = app.server.address();
    if (address && typeof address === 'object') listeningPort = address.port;
  });

  // Request id and helmet's security headers (computed once) on every answer; latency per route
  // template; one log line per request.
  app.addHook('onRequest', async (request, reply) => {
    request.tenant = ANONYMOUS_TENANT;
    void reply.headers(SECURITY_HEADERS).header('x-request-id', request.id);
  });
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    const seconds = reply.elapsedTime / 1000;
    metrics.httpDuration.observe(
      { method: request.method, route, status_code: String(reply.statusCode) },
      seconds,
    );
    request.log.info(
      {
        method: request.method,
        route,
        statusCode: reply.statusCode,
        ms: Math.round(reply.elapsedTime * 10) / 10,
        tenant: request.tenant?.id,
      },
      'request',
    );
  });
  app.addHook('onError', async (_request, _reply, error) => {
    const resolved = resolveError(error);
    if (resolved.status < 500) metrics.refused.inc({ code: resolved.body.error.code });
  });

  // CORS is closed unless origins are configured: then no CORS header is ever sent (a preflight is
  // answered like any unknown route), and no request pays for the plugin's hook.
  if (config.corsOrigins.length) {
    await app.register(fastifyCors, {
      origin: config.corsOrigins,
      methods: ['GET', 'POST', 'PATCH', 'DELETE'],
      allowedHeaders: ['content-type', 'authorization', 'x-api-key', 'x-request-id'],
      exposedHeaders: ['x-request-id'],
      maxAge: 600,
    });
  }
  if (config.rateLimitMax > 0) {
    await app.register(fastifyRateLimit, {
      global: true,
      max: config.rateLimitMax,
      timeWindow: config.rateLimitWindowMs,
      // Per credential when one is sent (each tenant has its own budget), else per client address.
      keyGenerator: (request) => {
        const key = apiKeyOf(request);
        // A CDS Hooks JWT is new on every call (and not yet verified here): count those per address.
        return key && !JWT_SHAPE.test(key) ? hashApiKey(key) : request.ip;
      },
      allowList: (request) => /^\/(health|ready|metrics)$/.test(request.url.split('?')[0] ?? ''),
      errorResponseBuilder: (_request, context) =>
        new CdssError(
          'CDSS_ERR_RATE_LIMITED',
          `Rate limit of ${context.max} requests per ${context.after} exceeded`,
        ),
    });
  }
  if (config.docs) await registerDocs(app, baseUrl(config));

  // Load shedding, CDS Hooks calls only: while the event loop is too far behind, a hook call would be
  // answered after the EHR stopped waiting, and working through stale calls keeps the queue long. So it
  // is refused at once (503, Retry-After), before its JWT is checked. REST callers wait as long as they like.
  const lag = config.cdsHooksMaxLagMs > 0 ? startLagMonitor() : undefined;
  if (lag) app.addHook('onClose', async () => lag.stop());

  // Authentication: /v1 by API key, /cds-services by signed JWT. Decided on the matched route
  // template, not the raw URL, so no spelling of a path (percent-encoding, dot segments) skips it.
  app.addHook('onRequest', async (request, reply) => {
    const route = request.routeOptions.url ?? '';
    if (route.startsWith('/v1/')) authenticateRest(ctx, request);
    else if (route === '/cds-services' || route.startsWith('/cds-services/')) {
      const behind = lag && route === '/cds-services/:id' && request.method === 'POST' ? lag.lagMs() : 0;
      if (behind > config.cdsHooksMaxLagMs) {
        metrics.shed.inc({ route });
        void reply.header('retry-after', '1');
        throw new CdssError(
          'CDSS_ERR_OVERLOADED',
          `The service is ${Math.round(behind)} ms behind (limit ${config.cdsHooksMaxLagMs} ms): call refused unprocessed`,
        );
      }
      await authenticateCdsHooks(ctx, request);
    }
  });

  await app.register(async (scope) => operationsRoutes(scope.withTypeProvider<ZodTypeProvider>(), ctx));
  await app.register(async (scope) => analysisRoutes(scope.withTypeProvider<ZodTypeProvider>(), ctx));
  await app.register(async (scope) => knowledgeRoutes(scope.withTypeProvider<ZodTypeProvider>(), ctx));
  await app.register(async (scope) => cdsHooksRoutes(scope.withTypeProvider<ZodTypeProvider>(), ctx));
  await app.register(async (scope) => adverseEventRoutes(scope.withTypeProvider<ZodTypeProvider>(), ctx));
  // Review page for the quality department: its own SQLite file beside the service store, users by hashed token.
  await app.register(reviewPlugin, {
    store: reviewStore,
    ...(reviewUsers.usersFile ? { usersFile: reviewUsers.usersFile } : {}),
  });

  // The DingTalk dispatcher delivers the outbox while the service runs (it holds the outbox lease).
  app.addHook('onReady', async () => {
    adverseEvents.start();
  });
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onClose', async () => {
    // Stop after the DingTalk request in flight has its answer, so its job is acknowledged, not replayed.
    await adverseEvents.stop();
    adverseEvents.close();
    reviewStore.close();
    if (!options.engine && engine) await engine.close();
    store.close();
  });
  return app as unknown as YijianApp;
}
