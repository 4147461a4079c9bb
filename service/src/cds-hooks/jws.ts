import { constants, createPublicKey, type KeyObject, verify as verifySignature } from 'node:crypto';

/**
 * Compact JWS verification for CDS Hooks client JWTs with node:crypto (synchronous, no thread-pool
 * round trip: about a third of the CPU of a WebCrypto verification per call). Asymmetric algorithms
 * only; the caller checks the claims.
 */

export type JwsAlgorithm =
  | 'RS256'
  | 'RS384'
  | 'RS512'
  | 'PS256'
  | 'PS384'
  | 'PS512'
  | 'ES256'
  | 'ES384'
  | 'ES512'
  | 'EdDSA';

/** Why a token was refused (mapped to a 401 message by the caller). */
export type JwsFailure = 'malformed' | 'algorithm' | 'no-key' | 'signature';

export class JwsError extends Error {
  constructor(
    readonly reason: JwsFailure,
    message: string,
  ) {
    super(message);
  }
}

/** A public key of a JWKS, imported once. */
export interface VerificationKey {
  kid?: string;
  /** `alg` of the JWK, when it names one: the key is then used for that algorithm only. */
  alg?: string;
  kty: string;
  /** Curve of EC / OKP keys. */
  crv?: string;
  key: KeyObject;
}

interface AlgSpec {
  kty: string;
  crv?: string[];
  hash: string | null;
  options: { padding?: number; saltLength?: number; dsaEncoding?: 'ieee-p1363' };
}

const ALGORITHMS: Record<JwsAlgorithm, AlgSpec> = {
  RS256: { kty: 'RSA', hash: 'sha256', options: { padding: constants.RSA_PKCS1_PADDING } },
  RS384: { kty: 'RSA', hash: 'sha384', options: { padding: constants.RSA_PKCS1_PADDING } },
  RS512: { kty: 'RSA', hash: 'sha512', options: { padding: constants.RSA_PKCS1_PADDING } },
  PS256: {
    kty: 'RSA',
    hash: 'sha256',
    options: { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 },
  },
  PS384: {
    kty: 'RSA',
    hash: 'sha384',
    options: { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 48 },
  },
  PS512: {
    kty: 'RSA',
    hash: 'sha512',
    options: { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 64 },
  },
  ES256: { kty: 'EC', crv: ['P-256'], hash: 'sha256', options: { dsaEncoding: 'ieee-p1363' } },
  ES384: { kty: 'EC', crv: ['P-384'], hash: 'sha384', options: { dsaEncoding: 'ieee-p1363' } },
  ES512: { kty: 'EC', crv: ['P-521'], hash: 'sha512', options: { dsaEncoding: 'ieee-p1363' } },
  EdDSA: { kty: 'OKP', crv: ['Ed25519', 'Ed448'], hash: null, options: {} },
};

export const JWS_ALGORITHMS = Object.keys(ALGORITHMS) as JwsAlgorithm[];

/** Import the signing keys of a JWKS (`{ keys: [...] }`); symmetric and encryption-only keys are refused. */
export function importJwks(jwks: unknown): VerificationKey[] {
  const keys = (jwks as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys) || keys.length === 0) throw new Error('JWKS has no keys');
  const out: VerificationKey[] = [];
  for (const [i, k] of keys.entries()) {
    if (!k || typeof k !== 'object') throw new Error(`JWKS key ${i} is not an object`);
    const jwk = k as Record<string, unknown>;
    if (jwk.kty === 'oct') throw new Error('JWKS must not hold symmetric (oct) keys');
    if (jwk.use !== undefined && jwk.use !== 'sig') continue;
    if (typeof jwk.kty !== 'string') throw new Error(`JWKS key ${i} has no kty`);
    let key: KeyObject;
    try {
      // Only the public members: a JWKS that carries a private key still yields a public key.
      const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...pub } = jwk;
      key = createPublicKey({ key: pub as never, format: 'jwk' });
    } catch (error) {
      throw new Error(`JWKS key ${i} cannot be imported: ${(error as Error).message}`);
    }
    out.push({
      kty: jwk.kty,
      key,
      ...(typeof jwk.kid === 'string' ? { kid: jwk.kid } : {}),
      ...(typeof jwk.alg === 'string' ? { alg: jwk.alg } : {}),
      ...(typeof jwk.crv === 'string' ? { crv: jwk.crv } : {}),
    });
  }
  if (out.length === 0) throw new Error('JWKS has no signature keys');
  return out;
}

function decodeJson(part: string, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
  } catch {
    throw new JwsError('malformed', `JWT ${what} is not base64url JSON`);
  }
  if (!value || typeof value !== 'object' || Array.isArray(value))
    throw new JwsError('malformed', `JWT ${what} is not a JSON object`);
  return value as Record<string, unknown>;
}

/** The header of a compact JWS (before its signature is checked: for choosing keys only). */
export function jwsHeader(token: string): Record<string, unknown> {
  const dot = token.indexOf('.');
  if (dot <= 0) throw new JwsError('malformed', 'JWT is not a compact JWS');
  return decodeJson(token.slice(0, dot), 'header');
}

/**
 * Verify a compact JWS with the keys (those with the header's `kid`, or all when it has none, that fit
 * the algorithm) and return its payload. `header` is the token's own header when the caller already
 * decoded it with {@link jwsHeader} (to choose the key set). Throws `JwsError`.
 */
export function verifyJws(
  token: string,
  keys: readonly VerificationKey[],
  allowed: readonly JwsAlgorithm[],
  header?: Record<string, unknown>,
): Record<string, unknown> {
  const parts = token.split('.');
  if (parts.length !== 3 || !parts[0] || !parts[1] || !parts[2])
    throw new JwsError('malformed', 'JWT is not a signed compact JWS');
  header ??= decodeJson(parts[0], 'header');
  const alg = header.alg;
  if (typeof alg !== 'string' || !(allowed as readonly string[]).includes(alg) || !(alg in ALGORITHMS))
    throw new JwsError('algorithm', 'JWT algorithm not allowed (asymmetric only)');
  // Extensions the verifier must understand: we understand none.
  if (header.crit !== undefined) throw new JwsError('malformed', 'JWT header crit is not supported');
  if (header.b64 !== undefined && header.b64 !== true)
    throw new JwsError('malformed', 'Unencoded JWS payloads are not supported');
  const spec = ALGORITHMS[alg as JwsAlgorithm];
  const kid = typeof header.kid === 'string' ? header.kid : undefined;
  const candidates = keys.filter(
    (k) =>
      (kid === undefined || k.kid === kid) &&
      k.kty === spec.kty &&
      (k.alg === undefined || k.alg === alg) &&
      (spec.crv === undefined || (k.crv !== undefined && spec.crv.includes(k.crv))),
  );
  if (candidates.length === 0) throw new JwsError('no-key', 'No key in the JWKS matches the JWT');
  const data = Buffer.from(`${parts[0]}.${parts[1]}`);
  const signature = Buffer.from(parts[2], 'base64url');
  const ok = candidates.some((k) => {
    try {
      return verifySignature(spec.hash, data, { key: k.key, ...spec.options }, signature);
    } catch {
      return false;
    }
  });
  if (!ok) throw new JwsError('signature', 'JWT signature is invalid');
  return decodeJson(parts[1], 'payload');
}
