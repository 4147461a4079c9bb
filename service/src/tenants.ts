import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { CdssError, fromZodIssues } from '@yijian/emr';
import { z } from 'zod';

/**
 * Tenants and their API keys. Keys are random 256-bit tokens shown once when created; only their
 * SHA-256 digest is stored (a salted slow hash buys nothing for keys with this much entropy, and
 * lookups stay O(1) per request). The file is JSON:
 *
 *   { "tenants": [ { "id": "hospital-a", "name": "…", "keys": ["sha256:<hex>"] } ] }
 *
 * Create a key with `node service/dist/keys.js <tenant-id>`.
 */

export const TENANT_ID_RE = /^[a-z0-9][a-z0-9_-]{0,62}$/;

const tenantsFileSchema = z.strictObject({
  tenants: z
    .array(
      z.strictObject({
        id: z.string().regex(TENANT_ID_RE, 'tenant id: lower-case letters, digits, - and _'),
        name: z.string().optional(),
        keys: z.array(z.string().regex(/^sha256:[0-9a-f]{64}$/, 'expected sha256:<64 hex digits>')).min(1),
        /** Tenants allowed to change rule settings (PATCH /v1/rules/...). Default true. */
        admin: z.boolean().default(true),
        /** CDS Hooks JWT issuers (`iss`) that act for this tenant (their rule settings apply). */
        issuers: z.array(z.string().min(1)).default([]),
      }),
    )
    .min(1),
});

export interface Tenant {
  id: string;
  name?: string | undefined;
  admin: boolean;
}

export const ANONYMOUS_TENANT: Tenant = {
  id: 'default',
  name: 'anonymous (no API keys configured)',
  admin: true,
};

export interface TenantRegistry {
  /** True when API keys are required. */
  readonly enabled: boolean;
  /** The tenant owning this key, or undefined. */
  authenticate(key: string): Tenant | undefined;
  /** The tenant a CDS Hooks issuer acts for (default tenant when none claims it). */
  forIssuer(iss: string | undefined): Tenant;
  tenants(): Tenant[];
}

export function hashApiKey(key: string): string {
  return `sha256:${createHash('sha256').update(key, 'utf8').digest('hex')}`;
}

/** A new key for a tenant: `yj_<tenant>_<43 url-safe chars>`. */
export function generateApiKey(tenantId: string): { key: string; hash: string } {
  const key = `yj_${tenantId}_${randomBytes(32).toString('base64url')}`;
  return { key, hash: hashApiKey(key) };
}

export function parseTenantsFile(text: string, what: string): z.output<typeof tenantsFileSchema> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new CdssError('CDSS_ERR_INVALID_CONFIG', `${what}: not valid JSON`, { cause: error });
  }
  const r = tenantsFileSchema.safeParse(json);
  if (!r.success) throw fromZodIssues('CDSS_ERR_INVALID_CONFIG', what, r.error.issues);
  const seen = new Set<string>();
  for (const t of r.data.tenants) {
    if (seen.has(t.id))
      throw new CdssError('CDSS_ERR_INVALID_CONFIG', `${what}: tenant ${t.id} is listed twice`);
    seen.add(t.id);
  }
  return r.data;
}

export function createTenantRegistry(file: string | undefined): TenantRegistry {
  if (!file) {
    return {
      enabled: false,
      authenticate: () => ANONYMOUS_TENANT,
      forIssuer: () => ANONYMOUS_TENANT,
      tenants: () => [ANONYMOUS_TENANT],
    };
  }
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new CdssError('CDSS_ERR_INVALID_CONFIG', `API keys file cannot be read: ${file}`, { cause: error });
  }
  const data = parseTenantsFile(text, `API keys file ${file}`);
  const byDigest = new Map<string, Tenant>();
  const byIssuer = new Map<string, Tenant>();
  const list: Tenant[] = [];
  for (const t of data.tenants) {
    const tenant: Tenant = { id: t.id, name: t.name, admin: t.admin };
    list.push(tenant);
    for (const iss of t.issuers) byIssuer.set(iss, tenant);
    for (const k of t.keys) {
      if (byDigest.has(k))
        throw new CdssError('CDSS_ERR_INVALID_CONFIG', `API keys file ${file}: a key is listed twice`);
      byDigest.set(k, tenant);
    }
  }
  return {
    enabled: true,
    authenticate(key) {
      if (key.length < 16 || key.length > 256) return undefined;
      // Looking up the digest (not the key) means timing reveals nothing an attacker can steer.
      return byDigest.get(hashApiKey(key));
    },
    forIssuer: (iss) => (iss ? byIssuer.get(iss) : undefined) ?? ANONYMOUS_TENANT,
    tenants: () => list,
  };
}
