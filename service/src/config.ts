import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { GRADES } from '@yijian/adverse-events';
import { dispatcherConfigSchema, robotConfigSchema } from '@yijian/dingtalk';
import { CdssError, fromZodIssues } from '@yijian/emr';
import { z } from 'zod';

/**
 * Service configuration: one zod schema, every default in this file. Only this file reads
 * environment variables (see {@link configFromEnv}); `buildApp()` takes the parsed object so tests
 * can pass their own.
 */

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** `a,b, c` -> ['a','b','c']; empty -> []. */
const csv = z
  .string()
  .transform((s) =>
    s
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean),
  )
  .pipe(z.array(z.string()));

const bool = z.union([
  z.boolean(),
  z.enum(['true', 'false', '1', '0']).transform((s) => s === 'true' || s === '1'),
]);

const intFromEnv = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

export const DEFAULT_DATA_DIR = fileURLToPath(new URL('../data/', import.meta.url));

/**
 * A DingTalk custom robot as the service configures it: the robot schema of @yijian/dingtalk, with
 * `reviewBaseUrl` defaulting to this service's public URL.
 */
export const serviceRobotSchema = robotConfigSchema.partial({ reviewBaseUrl: true });

/** `DINGTALK_ROBOTS_FILE`: `{ "robots": [...], "dispatcher"?: {...} }`. */
export const dingtalkFileSchema = z.strictObject({
  robots: z.array(serviceRobotSchema),
  dispatcher: dispatcherConfigSchema.optional(),
});

export const serviceConfigSchema = z.strictObject({
  /** TCP port; 0 picks a free one. */
  port: intFromEnv(0, 65535).default(8080),
  /** Listen address. The default keeps the service on this machine. */
  host: z.string().min(1).default('127.0.0.1'),
  logLevel: z.enum(LOG_LEVELS).default('info'),
  /** Largest accepted request body in bytes (default 10 MiB; a whole inpatient record with notes fits). */
  bodyLimit: intFromEnv(1024, 1024 * 1024 * 1024).default(10 * 1024 * 1024),
  /**
   * The public base URL of this service (no trailing slash), e.g. https://cds.hospital.cn. CDS Hooks
   * JWTs must name `<publicUrl>/cds-services/<id>` (or `<publicUrl>/cds-services`) as `aud`.
   * Default: http://<host>:<port>.
   */
  publicUrl: z
    .string()
    .url()
    .transform((s) => s.replace(/\/+$/, ''))
    .optional(),
  /**
   * JSON file of tenants and their hashed API keys (see docs/service.md). When unset, the REST API
   * runs without API keys as tenant `default`, which is refused unless the service listens on
   * loopback only or `allowAnonymous` is set.
   */
  apiKeysFile: z.string().min(1).optional(),
  /** JWKS used to verify CDS Hooks JWTs: a file path or an http(s) URL. */
  cdsHooksJwks: z.string().min(1).optional(),
  /** Allowed `iss` values of CDS Hooks JWTs (required with cdsHooksJwks). */
  cdsHooksIssuers: z.array(z.string().min(1)).default([]),
  /** Accept unauthenticated calls off loopback (never do this in production). */
  allowAnonymous: z.boolean().default(false),
  /** Requests per rate-limit window per API key / client address; 0 turns rate limiting off. */
  rateLimitMax: intFromEnv(0, 10_000_000).default(6000),
  rateLimitWindowMs: intFromEnv(1000, 3_600_000).default(60_000),
  /** Origins allowed by CORS; empty (the default) sends no CORS headers at all. */
  corsOrigins: z.array(z.string().min(1)).default([]),
  /** Directory of the SQLite store (audit log, feedback, tenant rule settings). */
  dataDir: z.string().min(1).default(DEFAULT_DATA_DIR),
  /** SQLite file name inside dataDir, or `:memory:`. */
  dbFile: z.string().min(1).default('yijian.sqlite'),
  /**
   * Service processes on the one port (node:cluster): a number, or `auto` for one per CPU. Each
   * worker loads its own engine (~150 MB); they share the SQLite files. Rate limits count per
   * worker, so a client spread over N workers can get up to N times `rateLimitMax`.
   */
  workers: z.union([z.literal('auto'), intFromEnv(1, 256)]).default(1),
  /**
   * V8's young-generation semi-space of each cluster worker, in MB (`--max-semi-space-size`; 0: V8's
   * default, 16 on this Node). Larger means fewer scavenges: at 1,000 order-sign calls/s the p99 fell
   * from 17-27 to 9-12 ms with 64 (docs/service.md). Costs up to ~100 MB more per worker. A flag
   * given to node (command line or NODE_OPTIONS) wins; with one process, pass it to node yourself.
   */
  semiSpaceMb: intFromEnv(0, 1024).default(64),
  /**
   * Load shedding for CDS Hooks calls: while the event loop is more than this many milliseconds behind
   * (measured every 25 ms), a hook call is refused at once with 503 `CDSS_ERR_OVERLOADED` and
   * `Retry-After`, before its JWT is checked, instead of being answered after the EHR has given up
   * (the spec asks for answers within about 500 ms). 0 turns it off. REST routes are never shed.
   */
  cdsHooksMaxLagMs: intFromEnv(0, 600_000).default(1000),
  /** How long shutdown waits for in-flight requests before closing anyway. */
  shutdownTimeoutMs: intFromEnv(0, 600_000).default(10_000),
  /** Trust X-Forwarded-* from a reverse proxy (its address or `true`). */
  trustProxy: z.union([z.boolean(), z.string().min(1)]).default(false),
  /** Serve OpenAPI and swagger-ui at /docs. */
  docs: z.boolean().default(true),
  /**
   * Review users (`{ "users": [{ id, name, role, tokenSha256 }] }`, see docs/review.md). When unset
   * and the store is a file, a first admin is generated in dataDir (see `reviewBootstrap`).
   */
  reviewUsersFile: z.string().min(1).optional(),
  /**
   * Without reviewUsersFile: create `<dataDir>/review-users.json` with one admin and write its token
   * to `<dataDir>/review-admin.token` (mode 0600) on first start. Off: the review API has no users.
   */
  reviewBootstrap: z.boolean().default(true),
  /** Ingest every analyze / patient-view result (record, alerts, QC, adverse events) into the review queue. */
  reviewIngest: z.boolean().default(true),
  /** DingTalk custom robots that receive adverse events; empty = events are stored, not sent. */
  dingtalkRobots: z.array(serviceRobotSchema).default([]),
  /** Delivery settings of the outbox dispatcher (retries, backoff, merging). */
  dingtalkDispatcher: dispatcherConfigSchema.prefault({}),
  /** Lowest grade sent to DingTalk automatically (I is the most severe; IV sends everything). */
  dingtalkMinGrade: z.enum(GRADES).default('IV'),
  /**
   * AppSecret of the DingTalk outgoing robot (企业内部机器人) whose callbacks are accepted at
   * POST /dingtalk/callback; unset = that endpoint is off (404).
   */
  dingtalkAppSecret: z.string().min(1).optional(),
});

export type ServiceConfig = z.output<typeof serviceConfigSchema>;
export type ServiceConfigInput = z.input<typeof serviceConfigSchema>;

/** Validate a config object; a bad option fails here, at start, naming the option. */
export function parseConfig(input: ServiceConfigInput = {}): ServiceConfig {
  const result = serviceConfigSchema.safeParse(input);
  if (!result.success)
    throw fromZodIssues('CDSS_ERR_INVALID_CONFIG', 'Invalid service configuration', result.error.issues);
  return result.data;
}

/** Environment variable -> config key, with the parser for its text. */
const ENV: Record<string, { key: keyof ServiceConfigInput; parse?: z.ZodType }> = {
  PORT: { key: 'port' },
  HOST: { key: 'host' },
  LOG_LEVEL: { key: 'logLevel' },
  BODY_LIMIT: { key: 'bodyLimit' },
  PUBLIC_URL: { key: 'publicUrl' },
  API_KEYS_FILE: { key: 'apiKeysFile' },
  CDS_HOOKS_JWKS: { key: 'cdsHooksJwks' },
  CDS_HOOKS_ISSUERS: { key: 'cdsHooksIssuers', parse: csv },
  ALLOW_ANONYMOUS: { key: 'allowAnonymous', parse: bool },
  RATE_LIMIT_MAX: { key: 'rateLimitMax' },
  RATE_LIMIT_WINDOW_MS: { key: 'rateLimitWindowMs' },
  CORS_ORIGINS: { key: 'corsOrigins', parse: csv },
  DATA_DIR: { key: 'dataDir' },
  DB_FILE: { key: 'dbFile' },
  SHUTDOWN_TIMEOUT_MS: { key: 'shutdownTimeoutMs' },
  CDS_HOOKS_MAX_LAG_MS: { key: 'cdsHooksMaxLagMs' },
  WORKERS: { key: 'workers', parse: z.union([z.literal('auto'), z.coerce.number()]) },
  V8_SEMI_SPACE_MB: { key: 'semiSpaceMb' },
  TRUST_PROXY: { key: 'trustProxy', parse: z.union([bool, z.string()]) },
  DOCS: { key: 'docs', parse: bool },
  REVIEW_USERS_FILE: { key: 'reviewUsersFile' },
  REVIEW_BOOTSTRAP: { key: 'reviewBootstrap', parse: bool },
  REVIEW_INGEST: { key: 'reviewIngest', parse: bool },
  DINGTALK_MIN_GRADE: { key: 'dingtalkMinGrade' },
  DINGTALK_APP_SECRET: { key: 'dingtalkAppSecret' },
};

/**
 * DingTalk robots from the environment: `DINGTALK_ROBOTS_FILE` (several robots and dispatcher
 * settings), or one robot from `DINGTALK_WEBHOOK`, `DINGTALK_SECRET`, `DINGTALK_AT_MOBILES`,
 * `DINGTALK_AT_USER_IDS`, `DINGTALK_KEYWORD`.
 */
const DINGTALK_ENV = [
  'DINGTALK_ROBOTS_FILE',
  'DINGTALK_WEBHOOK',
  'DINGTALK_SECRET',
  'DINGTALK_KEYWORD',
  'DINGTALK_AT_MOBILES',
  'DINGTALK_AT_USER_IDS',
];

function dingtalkFromEnv(env: NodeJS.ProcessEnv): Record<string, unknown> {
  const get = (name: string) => {
    const v = env[name]?.trim();
    return v ? v : undefined;
  };
  const file = get('DINGTALK_ROBOTS_FILE');
  const webhook = get('DINGTALK_WEBHOOK');
  if (file && webhook)
    throw new CdssError(
      'CDSS_ERR_INVALID_CONFIG',
      'Invalid environment: set DINGTALK_ROBOTS_FILE or DINGTALK_WEBHOOK, not both',
      { issues: [{ path: ['DINGTALK_WEBHOOK'], message: 'conflicts with DINGTALK_ROBOTS_FILE' }] },
    );
  if (file) {
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(file, 'utf8'));
    } catch (error) {
      throw new CdssError(
        'CDSS_ERR_INVALID_CONFIG',
        `Cannot read DINGTALK_ROBOTS_FILE ${file}: ${(error as Error).message}`,
        { cause: error },
      );
    }
    const r = dingtalkFileSchema.safeParse(raw);
    if (!r.success)
      throw fromZodIssues('CDSS_ERR_INVALID_CONFIG', `DINGTALK_ROBOTS_FILE ${file}`, r.error.issues);
    return {
      dingtalkRobots: r.data.robots,
      ...(r.data.dispatcher ? { dingtalkDispatcher: r.data.dispatcher } : {}),
    };
  }
  if (!webhook) return {};
  const list = (name: string) => csv.parse(get(name) ?? '');
  const secret = get('DINGTALK_SECRET');
  const keyword = get('DINGTALK_KEYWORD');
  return {
    dingtalkRobots: [
      {
        webhook,
        ...(secret ? { secret } : {}),
        ...(keyword ? { keyword } : {}),
        mentionMobiles: list('DINGTALK_AT_MOBILES'),
        mentionUserIds: list('DINGTALK_AT_USER_IDS'),
      },
    ],
  };
}

/** The environment variables the service reads, for docs and `--help`. */
export const ENV_VARS = [...Object.keys(ENV), ...DINGTALK_ENV];

/** Read the config from environment variables (empty values count as unset). */
export function configFromEnv(env: NodeJS.ProcessEnv = process.env): ServiceConfig {
  const input: Record<string, unknown> = {};
  const issues: { path: PropertyKey[]; message: string }[] = [];
  for (const [name, { key, parse }] of Object.entries(ENV)) {
    const raw = env[name];
    if (raw === undefined || raw.trim() === '') continue;
    if (!parse) {
      input[key] = raw.trim();
      continue;
    }
    const r = parse.safeParse(raw.trim());
    if (r.success) input[key] = r.data;
    else issues.push({ path: [name], message: r.error.issues[0]?.message ?? 'invalid value' });
  }
  if (issues.length) throw fromZodIssues('CDSS_ERR_INVALID_CONFIG', 'Invalid environment', issues);
  Object.assign(input, dingtalkFromEnv(env));
  const result = serviceConfigSchema.safeParse(input);
  if (!result.success) {
    const byKey = new Map<string, string>(Object.entries(ENV).map(([name, v]) => [v.key as string, name]));
    byKey.set(
      'dingtalkRobots',
      env.DINGTALK_ROBOTS_FILE?.trim() ? 'DINGTALK_ROBOTS_FILE' : 'DINGTALK_WEBHOOK',
    );
    throw fromZodIssues(
      'CDSS_ERR_INVALID_CONFIG',
      'Invalid environment',
      result.error.issues.map((i) => ({
        ...i,
        path: [byKey.get(String(i.path[0])) ?? String(i.path[0]), ...i.path.slice(1)],
      })),
    );
  }
  return result.data;
}

/** True when the address only accepts connections from this machine. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}

/** The base URL clients use: `publicUrl`, or derived from host and port. */
export function baseUrl(config: ServiceConfig, port = config.port): string {
  if (config.publicUrl) return config.publicUrl;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  return `http://${host}:${port}`;
}
