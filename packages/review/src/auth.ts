import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { CdssError, fromZodIssues } from '@yijian/emr';
import { z } from 'zod';
import { type ReviewUser, ROLES, TENANT_ID_RE } from './types.js';

/** A configured review user: the token itself is never stored, only its SHA-256 (hex). */
export const reviewUserConfigSchema = z.strictObject({
  id: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/),
  name: z.string().min(1).max(64),
  role: z.enum(ROLES),
  tokenSha256: z.string().regex(/^[0-9a-f]{64}$/),
  /**
   * Tenants whose records this user sees; absent = every tenant (a hospital group's quality
   * department). Records of other tenants answer 404 to this user.
   */
  tenants: z
    .array(z.string().regex(TENANT_ID_RE, 'tenant id: lower-case letters, digits, - and _'))
    .min(1)
    .optional(),
});
export type ReviewUserConfig = z.infer<typeof reviewUserConfigSchema>;

export const reviewUsersFileSchema = z.strictObject({ users: z.array(reviewUserConfigSchema) });

/** SHA-256 hex of a token, the form kept in the users file. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

export interface UserDirectory {
  readonly size: number;
  /** The user whose token this is, or undefined. Constant time per configured user. */
  authenticate(token: string): ReviewUser | undefined;
  list(): ReviewUser[];
}

export function loadUsersFile(path: string): ReviewUserConfig[] {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new CdssError(
      'CDSS_ERR_INVALID_CONFIG',
      `Cannot read review users file ${path}: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
  const parsed = reviewUsersFileSchema.safeParse(raw);
  if (!parsed.success)
    throw fromZodIssues('CDSS_ERR_INVALID_CONFIG', `Review users file ${path}`, parsed.error.issues);
  return parsed.data.users;
}

export function createUserDirectory(users: readonly ReviewUserConfig[]): UserDirectory {
  const parsed = z.array(reviewUserConfigSchema).safeParse(users);
  if (!parsed.success) throw fromZodIssues('CDSS_ERR_INVALID_CONFIG', 'Review users', parsed.error.issues);
  const ids = new Set<string>();
  for (const u of parsed.data) {
    if (ids.has(u.id))
      throw new CdssError('CDSS_ERR_INVALID_CONFIG', `Review user ${u.id} is configured twice`);
    ids.add(u.id);
  }
  const entries = parsed.data.map((u) => ({
    user: {
      id: u.id,
      name: u.name,
      role: u.role,
      ...(u.tenants ? { tenants: [...new Set(u.tenants)].sort() } : {}),
    } satisfies ReviewUser,
    hash: Buffer.from(u.tokenSha256, 'hex'),
  }));
  return {
    size: entries.length,
    authenticate(token) {
      const hash = createHash('sha256').update(token, 'utf8').digest();
      let found: ReviewUser | undefined;
      for (const e of entries) if (timingSafeEqual(e.hash, hash)) found = e.user;
      return found;
    },
    list: () =>
      entries.map((e) => ({ ...e.user, ...(e.user.tenants ? { tenants: [...e.user.tenants] } : {}) })),
  };
}
