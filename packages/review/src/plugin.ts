import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CdssError, FRONT_PAGE_FIELDS, frontPageField, isCdssError } from '@yijian/emr';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { createUserDirectory, loadUsersFile, type ReviewUserConfig, type UserDirectory } from './auth.js';
import { toCsv } from './csv.js';
import { createReviewStore, type ReviewStore } from './store.js';
import {
  ACTIONS,
  DEFAULT_TENANT,
  FINDING_SOURCES,
  type QueueQuery,
  type ReviewUser,
  SEVERITIES,
  SORT_KEYS,
  STATUSES,
  type StoredFinding,
  TENANT_ID_RE,
  type TenantScope,
} from './types.js';

export interface ReviewPluginOptions {
  /** An open store to use (not closed with the app); otherwise `dbFile` is opened. */
  store?: ReviewStore;
  /** SQLite file of the review store (default `:memory:`). */
  dbFile?: string;
  /** Users with hashed tokens. */
  users?: readonly ReviewUserConfig[];
  /** JSON file `{ "users": [...] }`, read once at start (merged with `users`). */
  usersFile?: string;
  /** Where the built page assets are (default: this package's dist/web and static). */
  assetsDir?: string;
}

const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
const DATE = z.string().regex(/^\d{4}-\d{2}-\d{2}$/);
const optionalText = z.string().max(200).optional();
const optionalTenant = z.string().regex(TENANT_ID_RE).optional();
const tenantQuerySchema = z.strictObject({ tenant: optionalTenant });

const filterSchema = z.strictObject({
  tenant: optionalTenant,
  department: optionalText,
  doctor: optionalText,
  ruleId: optionalText,
  category: optionalText,
  severity: z.enum(SEVERITIES).optional(),
  status: z.enum(STATUSES).optional(),
  source: z.enum(FINDING_SOURCES).optional(),
  recordId: optionalText,
  from: DATE.optional(),
  to: DATE.optional(),
  sort: z.enum(SORT_KEYS).optional(),
  order: z.enum(['asc', 'desc']).optional(),
});
const queueQuerySchema = filterSchema.extend({
  limit: z.coerce.number().int().min(1).max(200).optional(),
  cursor: z.string().max(500).optional(),
});
const actionBodySchema = z.strictObject({
  action: z.enum(ACTIONS),
  note: z.string().max(2000).optional(),
  expectedStatus: z.enum(STATUSES).optional(),
});
const ingestBodySchema = z.strictObject({
  /** Tenant to file the record under (default: the admin's only tenant, or `default`). */
  tenant: optionalTenant,
  record: z.unknown(),
  analysis: z.looseObject({
    recordId: z.string().optional(),
    mentions: z.array(z.any()).optional(),
    alerts: z.array(z.unknown()).optional(),
    qc: z.looseObject({ findings: z.array(z.unknown()) }).optional(),
    adverseEvents: z.array(z.any()).optional(),
  }),
});

declare module 'fastify' {
  interface FastifyRequest {
    reviewUser?: ReviewUser;
  }
}

const CONTENT_TYPES: Record<string, string> = {
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  map: 'application/json; charset=utf-8',
  svg: 'image/svg+xml',
  html: 'text/html; charset=utf-8',
};

const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * Load the page shell and every asset into memory once: dist/web (compiled TS) and static (HTML, CSS).
 * Undefined when the page has not been built (the API still works; the page answers 503).
 */
function loadAssets(
  assetsDir?: string,
): { html: string; assets: Map<string, { body: Buffer; type: string }> } | undefined {
  const webDir = assetsDir ? join(assetsDir, 'web') : join(packageRoot, 'dist', 'web');
  const staticDir = assetsDir ? join(assetsDir, 'static') : join(packageRoot, 'static');
  if (!existsSync(join(webDir, 'main.js'))) return undefined;
  const assets = new Map<string, { body: Buffer; type: string }>();
  for (const dir of [webDir, staticDir])
    for (const name of readdirSync(dir)) {
      const ext = name.split('.').pop() ?? '';
      if (!/^[a-z0-9-]+\.(js|css|svg|js\.map)$/.test(name) || !CONTENT_TYPES[ext]) continue;
      assets.set(name, { body: readFileSync(join(dir, name)), type: CONTENT_TYPES[ext] });
    }
  return { html: readFileSync(join(staticDir, 'index.html'), 'utf8'), assets };
}

function errorBody(error: CdssError, requestId: string) {
  return { error: { code: error.code, message: error.message, issues: error.issues, requestId } };
}

/** Front-page fields with values, and which findings mark each one defective. */
function frontPageRows(frontPage: Record<string, unknown> | undefined, findings: StoredFinding[]) {
  const rows = new Map<
    string,
    { path: string; code: string; label: string; value: string; findingKeys: string[] }
  >();
  const add = (path: string, value: string) => {
    const field = frontPageField(path);
    rows.set(path, { path, code: field?.code ?? '', label: field?.label ?? path, value, findingKeys: [] });
  };
  for (const f of FRONT_PAGE_FIELDS) if (!f.path.includes('[]') && !f.path.includes('.')) add(f.path, '');
  const walk = (value: unknown, path: string) => {
    if (value === null || value === undefined) return;
    if (Array.isArray(value)) {
      if (value.every((v) => typeof v !== 'object')) add(path, value.join('、'));
      else for (const [i, v] of value.entries()) walk(v, `${path}[${i}]`);
    } else if (typeof value === 'object')
      for (const [k, v] of Object.entries(value)) walk(v, path ? `${path}.${k}` : k);
    else add(path, String(value));
  };
  walk(frontPage ?? {}, '');
  for (const f of findings)
    for (const e of f.finding.evidence) {
      const raw = typeof e.data?.path === 'string' ? e.data.path : e.kind === 'field' ? e.ref : undefined;
      if (!raw?.startsWith('frontPage.')) continue;
      const path = raw.slice('frontPage.'.length);
      if (!rows.has(path)) add(path, '');
      rows.get(path)!.findingKeys.push(f.key);
    }
  return [...rows.values()];
}

/**
 * The review page and its JSON API as a fastify plugin: `GET /review`, `GET /review/assets/*`,
 * `/review/api/*` (queue, record, actions, audit, CSV export, dashboard, ingest). Users authenticate
 * with `Authorization: Bearer <token>`; tokens are configured as SHA-256 hashes.
 */
export async function reviewPlugin(app: FastifyInstance, options: ReviewPluginOptions): Promise<void> {
  const users: UserDirectory = createUserDirectory([
    ...(options.users ?? []),
    ...(options.usersFile ? loadUsersFile(options.usersFile) : []),
  ]);
  const built = loadAssets(options.assetsDir);
  if (!built) app.log.warn('review: page assets are not built (run pnpm build); /review answers 503');
  const store = options.store ?? createReviewStore({ file: options.dbFile ?? ':memory:' });
  if (!options.store) app.addHook('onClose', async () => store.close());
  app.decorate('reviewStore', store);

  const api = app.withTypeProvider<ZodTypeProvider>();
  api.setValidatorCompiler(validatorCompiler);
  api.setSerializerCompiler(serializerCompiler);
  api.setErrorHandler((error: unknown, request: FastifyRequest, reply: FastifyReply) => {
    let cdss: CdssError;
    if (isCdssError(error)) cdss = error;
    else if (
      error &&
      typeof error === 'object' &&
      'validation' in error &&
      (error as { validation?: unknown }).validation
    )
      cdss = new CdssError('CDSS_ERR_INVALID_REQUEST', '请求参数不正确', {
        issues: (
          (error as { validation: { instancePath?: string; message?: string }[] }).validation ?? []
        ).map((v) => ({
          path: (v.instancePath ?? '').split('/').filter(Boolean),
          message: v.message ?? 'invalid',
        })),
      });
    else if (error && typeof error === 'object' && (error as { statusCode?: number }).statusCode === 415)
      cdss = new CdssError('CDSS_ERR_UNSUPPORTED_MEDIA_TYPE', 'Unsupported content type');
    else if (error && typeof error === 'object' && (error as { statusCode?: number }).statusCode === 413)
      cdss = new CdssError('CDSS_ERR_BODY_TOO_LARGE', 'Request body too large');
    else if (error && typeof error === 'object' && (error as { statusCode?: number }).statusCode === 400)
      cdss = new CdssError('CDSS_ERR_INVALID_JSON', 'Request body is not valid JSON');
    else {
      request.log.error({ err: error }, 'review: unexpected error');
      cdss = new CdssError('CDSS_ERR_INTERNAL', 'Internal error');
    }
    void reply.status(cdss.status).send(errorBody(cdss, request.id));
  });
  api.addContentTypeParser(
    'application/x-ndjson',
    { parseAs: 'string', bodyLimit: 64 * 1024 * 1024 },
    (_req, body, done) => done(null, body),
  );

  const page = (_request: FastifyRequest, reply: FastifyReply) => {
    if (!built) throw new CdssError('CDSS_ERR_NOT_READY', '审核页面资源未构建，请先运行 pnpm build');
    return reply
      .header('content-type', CONTENT_TYPES.html)
      .header('content-security-policy', CSP)
      .header('cache-control', 'no-cache')
      .header('x-content-type-options', 'nosniff')
      .send(built.html);
  };
  api.get('/review', page);
  api.get('/review/', page);
  // Deep links (DingTalk messages, e-mails): /review/records/<id>[?tenant=<t>] opens the record in the
  // page, whose routes live in the URL fragment. The page asks for a login first when needed.
  api.get(
    '/review/records/:recordId',
    {
      schema: {
        params: z.strictObject({ recordId: z.string().min(1).max(200) }),
        querystring: z.strictObject({ tenant: z.string().max(64).optional() }),
      },
    },
    (request, reply) => {
      const { recordId } = request.params;
      const { tenant } = request.query;
      const query = tenant ? `?tenant=${encodeURIComponent(tenant)}` : '';
      return reply.redirect(`/review/#/record/${encodeURIComponent(recordId)}${query}`, 302);
    },
  );
  api.get(
    '/review/assets/:file',
    { schema: { params: z.strictObject({ file: z.string().max(100) }) } },
    (request, reply) => {
      const asset = built?.assets.get(request.params.file);
      if (!asset) throw new CdssError('CDSS_ERR_NOT_FOUND', `No asset ${request.params.file}`);
      return reply
        .header('content-type', asset.type)
        .header('cache-control', 'no-cache')
        .header('x-content-type-options', 'nosniff')
        .send(asset.body);
    },
  );

  // Everything under /review/api needs a configured user; admin-only routes say so in their config.
  api.addHook('onRequest', async (request) => {
    if (!request.url.startsWith('/review/api/')) return;
    const header = request.headers.authorization;
    const token = typeof header === 'string' && header.startsWith('Bearer ') ? header.slice(7).trim() : '';
    if (!token) throw new CdssError('CDSS_ERR_UNAUTHORIZED', '请先登录（缺少访问令牌）');
    const user = users.authenticate(token);
    if (!user) throw new CdssError('CDSS_ERR_UNAUTHORIZED', '访问令牌无效');
    request.reviewUser = user;
  });
  const userOf = (request: FastifyRequest): ReviewUser => request.reviewUser!;
  const requireAdmin = async (request: FastifyRequest) => {
    if (userOf(request).role !== 'admin') throw new CdssError('CDSS_ERR_FORBIDDEN', '该操作需要管理员权限');
  };

  // Tenant isolation: every read and write below is limited to the user's tenants (absent = all).
  // Another tenant's record or finding answers exactly like one that does not exist (404).
  const scopeOf = (request: FastifyRequest): TenantScope => ({ tenants: userOf(request).tenants });
  const sees = (request: FastifyRequest, tenant: string) => {
    const tenants = userOf(request).tenants;
    return !tenants || tenants.includes(tenant);
  };
  /**
   * The tenant a record id or finding key addressed without `?tenant=` belongs to: the only visible
   * tenant holding it; 404 when none does; 400 when several do (the caller must say which).
   */
  const locate = (
    request: FastifyRequest,
    requested: string | undefined,
    holders: (scope: TenantScope) => string[],
    notFound: () => CdssError,
  ): string => {
    if (requested !== undefined) {
      if (!sees(request, requested)) throw notFound();
      return requested;
    }
    const tenants = holders(scopeOf(request));
    if (tenants.length === 0) throw notFound();
    if (tenants.length > 1)
      throw new CdssError(
        'CDSS_ERR_INVALID_REQUEST',
        `多个租户下存在相同编号（${tenants.join('、')}），请指定租户`,
        {
          issues: [{ path: ['tenant'], message: `ambiguous between tenants ${tenants.join(', ')}` }],
        },
      );
    return tenants[0]!;
  };
  /** Where an admin's ingest or import goes: the tenant asked for, else the admin's only one, else `default`. */
  const writeTenant = (request: FastifyRequest, requested: string | undefined): string => {
    const tenants = userOf(request).tenants;
    const tenant = requested ?? (tenants ? (tenants.length === 1 ? tenants[0] : undefined) : DEFAULT_TENANT);
    if (tenant === undefined)
      throw new CdssError('CDSS_ERR_INVALID_REQUEST', '请指定租户', {
        issues: [{ path: ['tenant'], message: `one of ${tenants!.join(', ')}` }],
      });
    if (!sees(request, tenant)) throw new CdssError('CDSS_ERR_FORBIDDEN', `无权写入租户 ${tenant} 的数据`);
    return tenant;
  };
  const recordNotFound = (recordId: string) => () =>
    new CdssError('CDSS_ERR_NOT_FOUND', `病历 ${recordId} 不存在`);
  const findingNotFound = (key: string) => () => new CdssError('CDSS_ERR_NOT_FOUND', `问题 ${key} 不存在`);

  api.get('/review/api/me', (request) => userOf(request));

  api.get('/review/api/facets', (request) => store.facets(scopeOf(request)));

  api.get('/review/api/queue', { schema: { querystring: queueQuerySchema } }, (request) =>
    store.queue({ ...(request.query as QueueQuery), ...scopeOf(request) }),
  );

  api.get('/review/api/export.csv', { schema: { querystring: filterSchema } }, (request, reply) => {
    const stamp = new Date().toISOString().slice(0, 10);
    return reply
      .header('content-type', 'text/csv; charset=utf-8')
      .header('content-disposition', `attachment; filename="review-${stamp}.csv"`)
      .send(toCsv(store.iterate({ ...(request.query as QueueQuery), ...scopeOf(request) })));
  });

  api.get(
    '/review/api/records/:recordId',
    {
      schema: {
        params: z.strictObject({ recordId: z.string().min(1).max(200) }),
        querystring: tenantQuerySchema,
      },
    },
    (request) => {
      const { recordId } = request.params;
      const notFound = recordNotFound(recordId);
      const tenant = locate(
        request,
        request.query.tenant,
        (scope) => store.tenantsOfRecord(recordId, scope),
        notFound,
      );
      const stored = store.record(recordId, tenant);
      if (!stored) throw notFound();
      const findings = store.findingsOf(stored.meta.id, tenant);
      const record = stored.record;
      return {
        tenant,
        meta: stored.meta,
        ingestedAt: stored.ingestedAt,
        patient: record
          ? { sex: record.patient.sex, birthDate: record.patient.birthDate, name: record.patient.name }
          : null,
        encounter: record?.encounter ?? null,
        documents: (record?.documents ?? []).map((d) => ({
          id: d.id,
          type: d.type,
          createdTime: d.createdTime,
          author: d.author ?? null,
          text: d.text,
        })),
        medications: (record?.medications ?? []).map((m) => ({
          id: m.id,
          name: m.drugName,
          kind: m.kind,
          dose: m.dose ?? null,
          doseUnit: m.doseUnit ?? null,
          route: m.route ?? null,
          frequency: m.frequency ?? null,
          startTime: m.startTime ?? null,
          stopTime: m.stopTime ?? null,
        })),
        mentions: stored.mentions,
        frontPage: record
          ? frontPageRows(record.frontPage as Record<string, unknown> | undefined, findings)
          : [],
        findings,
        audit: store.audit({ tenant, recordId: stored.meta.id, limit: 200 }),
      };
    },
  );

  api.post(
    '/review/api/findings/:key/actions',
    {
      schema: {
        params: z.strictObject({ key: z.string().min(1).max(400) }),
        querystring: tenantQuerySchema,
        body: actionBodySchema,
      },
    },
    (request) => {
      const { key } = request.params;
      const notFound = findingNotFound(key);
      const tenant = locate(
        request,
        request.query.tenant,
        (scope) => store.tenantsOfFinding(key, scope),
        notFound,
      );
      if (!store.finding(key, tenant)) throw notFound();
      const { action, note, expectedStatus } = request.body;
      return store.act(key, {
        tenant,
        action,
        user: userOf(request),
        ...(note !== undefined ? { note } : {}),
        ...(expectedStatus ? { expectedStatus } : {}),
      });
    },
  );

  api.get(
    '/review/api/audit',
    {
      schema: {
        querystring: z.strictObject({
          tenant: optionalTenant,
          recordId: optionalText,
          findingKey: z.string().max(400).optional(),
          limit: z.coerce.number().int().min(1).max(1000).optional(),
          before: z.coerce.number().int().min(1).optional(),
        }),
      },
    },
    (request) => {
      const q = request.query;
      return {
        entries: store.audit({
          ...scopeOf(request),
          ...(q.tenant ? { tenant: q.tenant } : {}),
          ...(q.recordId ? { recordId: q.recordId } : {}),
          ...(q.findingKey ? { findingKey: q.findingKey } : {}),
          ...(q.limit ? { limit: q.limit } : {}),
          ...(q.before ? { before: q.before } : {}),
        }),
      };
    },
  );

  api.get(
    '/review/api/dashboard',
    {
      schema: {
        querystring: z.strictObject({
          tenant: optionalTenant,
          from: DATE.optional(),
          to: DATE.optional(),
          department: optionalText,
        }),
      },
    },
    (request) => {
      const q = request.query;
      return store.dashboard({
        ...scopeOf(request),
        ...(q.tenant ? { tenant: q.tenant } : {}),
        ...(q.from ? { from: q.from } : {}),
        ...(q.to ? { to: q.to } : {}),
        ...(q.department ? { department: q.department } : {}),
      });
    },
  );

  api.post(
    '/review/api/ingest',
    { preHandler: requireAdmin, schema: { body: ingestBodySchema } },
    (request) =>
      store.ingestAnalysis(
        request.body.record,
        request.body.analysis as Parameters<ReviewStore['ingestAnalysis']>[1],
        { user: userOf(request), tenant: writeTenant(request, request.body.tenant) },
      ),
  );

  api.post(
    '/review/api/import',
    { preHandler: requireAdmin, schema: { querystring: tenantQuerySchema } },
    (request) => {
      const tenant = writeTenant(request, request.query.tenant);
      if (typeof request.body !== 'string')
        throw new CdssError(
          'CDSS_ERR_UNSUPPORTED_MEDIA_TYPE',
          'Send findings.ndjson as application/x-ndjson',
        );
      return store.importFindingsNdjson(request.body.split('\n'), { user: userOf(request), tenant });
    },
  );

  // An admin limited to some tenants sees the users limited to those tenants only.
  api.get('/review/api/users', { preHandler: requireAdmin }, (request) => {
    const scope = userOf(request).tenants;
    return {
      users: scope ? users.list().filter((u) => u.tenants?.every((t) => scope.includes(t))) : users.list(),
    };
  });
}

declare module 'fastify' {
  interface FastifyInstance {
    reviewStore: ReviewStore;
  }
}
