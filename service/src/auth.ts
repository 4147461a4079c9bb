import { CdssError } from '@yijian/emr';
import type { FastifyRequest } from 'fastify';
import type { ServiceContext } from './context.js';
import { ANONYMOUS_TENANT } from './tenants.js';

/**
 * Authentication for the REST API (`/v1/*`): an API key in `x-api-key` or
 * `Authorization: Bearer <key>`, looked up by its SHA-256 digest. Without a keys file every call
 * is tenant `default` (allowed only on loopback or with ALLOW_ANONYMOUS).
 */
export function apiKeyOf(request: FastifyRequest): string | undefined {
  const header = request.headers['x-api-key'];
  if (typeof header === 'string' && header) return header;
  const auth = request.headers.authorization;
  if (typeof auth === 'string') {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(auth);
    if (m) return m[1];
  }
  return undefined;
}

export function authenticateRest(ctx: ServiceContext, request: FastifyRequest): void {
  if (!ctx.tenants.enabled) {
    request.tenant = ANONYMOUS_TENANT;
    return;
  }
  const key = apiKeyOf(request);
  if (!key) throw new CdssError('CDSS_ERR_UNAUTHORIZED', 'API key required (x-api-key header)');
  const tenant = ctx.tenants.authenticate(key);
  if (!tenant) throw new CdssError('CDSS_ERR_UNAUTHORIZED', 'API key not recognised');
  request.tenant = tenant;
}

/** The URLs a CDS Hooks JWT may name as `aud` for this request. */
export function cdsAudiences(ctx: ServiceContext, request: FastifyRequest): string[] {
  const path = request.url.split('?')[0] ?? '';
  const base = ctx.baseUrl();
  return [`${base}${path}`, `${base}/cds-services`];
}

export async function authenticateCdsHooks(ctx: ServiceContext, request: FastifyRequest): Promise<void> {
  if (!ctx.jwt) {
    request.tenant = ANONYMOUS_TENANT;
    return;
  }
  const claims = await ctx.jwt.verify(request.headers.authorization, cdsAudiences(ctx, request));
  request.tenant = ctx.tenants.forIssuer(typeof claims.iss === 'string' ? claims.iss : undefined);
}
