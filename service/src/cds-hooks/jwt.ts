import { readFileSync } from 'node:fs';
import { CdssError } from '@yijian/emr';
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  type JWTPayload,
  errors as joseErrors,
  jwtVerify,
} from 'jose';

/**
 * CDS Hooks 2.0 client authentication: the EMR signs a JWT per call with its private key and
 * sends it as `Authorization: Bearer <jwt>`. We accept asymmetric algorithms only (HS* is never
 * accepted, whatever the key set holds), require `iss` on the allow-list, `aud` equal to the URL
 * the client called, `exp` in the future, `iat` and `jti`, and refuse a `jti` seen before.
 */

export const ASYMMETRIC_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
] as const;

export interface CdsJwtVerifier {
  /** Verify the Authorization header for a call to `audiences[0]`; returns the claims or throws 401. */
  verify(authorization: string | undefined, audiences: string[]): Promise<JWTPayload>;
}

export interface CdsJwtOptions {
  /** JWKS file path or http(s) URL. */
  jwks: string;
  issuers: string[];
  /** Seconds of clock skew tolerated for exp / iat / nbf (default 30). */
  clockToleranceSec?: number;
  /** Longest accepted token lifetime in seconds (default 3600; the spec recommends 5 minutes). */
  maxTokenAgeSec?: number;
}

type KeySet = ReturnType<typeof createLocalJWKSet> | ReturnType<typeof createRemoteJWKSet>;

function loadKeySet(source: string): KeySet {
  if (/^https?:\/\//i.test(source)) {
    return createRemoteJWKSet(new URL(source), { timeoutDuration: 5000, cooldownDuration: 30_000 });
  }
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(source, 'utf8'));
  } catch (error) {
    throw new CdssError('CDSS_ERR_INVALID_CONFIG', `CDS Hooks JWKS file cannot be read: ${source}`, {
      cause: error,
    });
  }
  const keys = (json as { keys?: unknown }).keys;
  if (!Array.isArray(keys) || keys.length === 0) {
    throw new CdssError('CDSS_ERR_INVALID_CONFIG', `CDS Hooks JWKS file has no keys: ${source}`);
  }
  for (const k of keys as { kty?: string }[]) {
    if (k.kty === 'oct')
      throw new CdssError('CDSS_ERR_INVALID_CONFIG', 'CDS Hooks JWKS must not hold symmetric (oct) keys');
  }
  return createLocalJWKSet(json as Parameters<typeof createLocalJWKSet>[0]);
}

function unauthorized(message: string): CdssError {
  return new CdssError('CDSS_ERR_UNAUTHORIZED', message);
}

export function createCdsJwtVerifier(options: CdsJwtOptions): CdsJwtVerifier {
  if (options.issuers.length === 0) {
    throw new CdssError(
      'CDSS_ERR_INVALID_CONFIG',
      'CDS_HOOKS_ISSUERS must list the allowed JWT issuers when CDS_HOOKS_JWKS is set',
    );
  }
  const keySet = loadKeySet(options.jwks);
  const tolerance = options.clockToleranceSec ?? 30;
  const maxAge = options.maxTokenAgeSec ?? 3600;
  // jti -> exp (epoch s): replayed tokens are refused until they expire anyway.
  const seen = new Map<string, number>();
  let lastSweep = 0;

  return {
    async verify(authorization, audiences) {
      const m = /^Bearer\s+([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*)\s*$/.exec(authorization ?? '');
      if (!m) throw unauthorized('CDS Hooks call needs Authorization: Bearer <signed JWT>');
      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(m[1]!, keySet, {
          algorithms: [...ASYMMETRIC_ALGORITHMS],
          issuer: options.issuers,
          audience: audiences,
          requiredClaims: ['iss', 'aud', 'exp', 'iat', 'jti'],
          clockTolerance: tolerance,
          maxTokenAge: maxAge,
        }));
      } catch (error) {
        if (error instanceof joseErrors.JWTExpired) throw unauthorized('JWT has expired');
        if (error instanceof joseErrors.JWTClaimValidationFailed)
          throw unauthorized(`JWT claim rejected: ${error.claim}`);
        if (error instanceof joseErrors.JOSEAlgNotAllowed)
          throw unauthorized('JWT algorithm not allowed (asymmetric only)');
        if (error instanceof joseErrors.JWKSNoMatchingKey)
          throw unauthorized('No key in the JWKS matches the JWT');
        if (error instanceof joseErrors.JWSSignatureVerificationFailed)
          throw unauthorized('JWT signature is invalid');
        if (error instanceof joseErrors.JOSEError) throw unauthorized(`JWT rejected: ${error.code}`);
        throw unauthorized('JWT rejected');
      }
      const now = Math.floor(Date.now() / 1000);
      if (now - lastSweep > 60) {
        for (const [jti, exp] of seen) if (exp + tolerance < now) seen.delete(jti);
        lastSweep = now;
      }
      const jti = String(payload.jti);
      if (seen.has(jti)) throw unauthorized('JWT jti was already used');
      seen.set(jti, payload.exp ?? now + maxAge);
      return payload;
    },
  };
}
