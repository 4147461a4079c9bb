import { readFileSync } from 'node:fs';
import { CdssError } from '@yijian/emr';
import {
  importJwks,
  type JwsAlgorithm,
  JwsError,
  jwsHeader,
  type VerificationKey,
  verifyJws,
} from './jws.js';

/**
 * CDS Hooks 2.0 client authentication: the EMR signs a JWT per call with its private key and
 * sends it as `Authorization: Bearer <jwt>`. We accept asymmetric algorithms only (HS* is never
 * accepted, whatever the key set holds), require `iss` on the allow-list, `aud` equal to the URL
 * the client called, `exp` in the future, `iat` and `jti`, and refuse a `jti` seen before.
 */

export const ASYMMETRIC_ALGORITHMS: readonly JwsAlgorithm[] = [
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
];

/** The claims of a verified client JWT. */
export interface JWTPayload {
  iss?: string;
  aud?: string | string[];
  exp?: number;
  iat?: number;
  nbf?: number;
  jti?: string;
  [claim: string]: unknown;
}

export interface CdsJwtVerifier {
  /** Verify the Authorization header for a call to `audiences[0]`; returns the claims or throws 401. */
  verify(authorization: string | undefined, audiences: string[]): Promise<JWTPayload>;
  /** How many token ids are remembered for the replay check now (for tests and metrics). */
  remembered(): number;
  /**
   * Token ids another process accepted (cluster workers share them), each with the epoch second
   * after which it may be forgotten: a later call with one of them is refused as a replay.
   */
  rememberAccepted(tokens: readonly AcceptedToken[]): void;
}

/** A token id this verifier accepted, and until when (epoch seconds) it must stay refused. */
export interface AcceptedToken {
  jti: string;
  until: number;
}

export interface CdsJwtOptions {
  /** JWKS file path or http(s) URL. */
  jwks: string;
  issuers: string[];
  /** Seconds of clock skew tolerated for exp / iat / nbf (default 30). */
  clockToleranceSec?: number;
  /** Longest accepted token lifetime in seconds (default 3600; the spec recommends 5 minutes). */
  maxTokenAgeSec?: number;
  /** Called with every token id accepted (cluster workers pass them on to each other). */
  onAccepted?: (token: AcceptedToken) => void;
}

/** Where the client's public keys come from: a file read once, or a URL fetched (and re-fetched). */
interface KeySet {
  /** Keys for a token with this header; `refresh` asks a remote set to fetch again (unknown kid). */
  keys(refresh: boolean): Promise<readonly VerificationKey[]>;
}

function localKeySet(source: string): KeySet {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(source, 'utf8'));
  } catch (error) {
    throw new CdssError('CDSS_ERR_INVALID_CONFIG', `CDS Hooks JWKS file cannot be read: ${source}`, {
      cause: error,
    });
  }
  let keys: VerificationKey[];
  try {
    keys = importJwks(json);
  } catch (error) {
    throw new CdssError(
      'CDSS_ERR_INVALID_CONFIG',
      `CDS Hooks JWKS file ${source}: ${(error as Error).message}`,
    );
  }
  return { keys: async () => keys };
}

/** A JWKS URL: fetched on first use, again when a token names an unknown key (at most every 30 s). */
function remoteKeySet(url: URL, timeoutMs = 5000, cooldownMs = 30_000): KeySet {
  let keys: readonly VerificationKey[] | undefined;
  let fetchedAt = 0;
  let inFlight: Promise<readonly VerificationKey[]> | undefined;
  const fetchKeys = () =>
    (inFlight ??= (async () => {
      try {
        const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), redirect: 'error' });
        if (!res.ok) throw new Error(`HTTP ${res.status}`);
        keys = importJwks(await res.json());
        fetchedAt = Date.now();
        return keys;
      } finally {
        inFlight = undefined;
      }
    })());
  return {
    async keys(refresh) {
      if (keys && !(refresh && Date.now() - fetchedAt > cooldownMs)) return keys;
      try {
        return await fetchKeys();
      } catch (error) {
        if (keys) return keys;
        throw unauthorized(`CDS Hooks JWKS cannot be fetched: ${(error as Error).message}`);
      }
    },
  };
}

function loadKeySet(source: string): KeySet {
  return /^https?:\/\//i.test(source) ? remoteKeySet(new URL(source)) : localKeySet(source);
}

function unauthorized(message: string): CdssError {
  return new CdssError('CDSS_ERR_UNAUTHORIZED', message);
}

/**
 * The registered claims a CDS Hooks client JWT must carry (iss on the allow-list, aud naming this
 * endpoint, exp in the future, iat not in the future and not older than `maxAge`, nbf passed, jti),
 * with `tolerance` seconds of clock skew.
 */
function checkClaims(
  payload: JWTPayload,
  issuers: readonly string[],
  audiences: readonly string[],
  tolerance: number,
  maxAge: number,
): void {
  const now = Math.floor(Date.now() / 1000);
  const rejected = (claim: string) => unauthorized(`JWT claim rejected: ${claim}`);
  for (const claim of ['iss', 'aud', 'exp', 'iat', 'jti'])
    if (payload[claim] === undefined) throw unauthorized(`JWT claim rejected: ${claim} missing`);
  if (typeof payload.iss !== 'string' || !issuers.includes(payload.iss)) throw rejected('iss');
  const aud = payload.aud;
  const auds = typeof aud === 'string' ? [aud] : Array.isArray(aud) ? aud : [];
  if (!auds.some((a) => typeof a === 'string' && audiences.includes(a))) throw rejected('aud');
  if (typeof payload.exp !== 'number' || !Number.isFinite(payload.exp)) throw rejected('exp');
  if (payload.exp <= now - tolerance) throw unauthorized('JWT has expired');
  if (typeof payload.iat !== 'number' || !Number.isFinite(payload.iat)) throw rejected('iat');
  if (payload.iat > now + tolerance || now - payload.iat - tolerance > maxAge) throw rejected('iat');
  if (payload.nbf !== undefined && (typeof payload.nbf !== 'number' || payload.nbf > now + tolerance))
    throw rejected('nbf');
  if (typeof payload.jti !== 'string' || payload.jti.length === 0 || payload.jti.length > 256)
    throw rejected('jti');
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
  // Every jti seen, refused if it comes again, forgotten once its token has expired (then the token
  // is refused anyway). Forgetting goes by expiry second, once a second: only the expired ones are
  // touched (a sweep over the whole set stalled the thread for ~10 ms per 100k tokens).
  const seen = new Set<string>();
  const byExp = new Map<number, string[]>();
  let swept = Math.floor(Date.now() / 1000);
  const remember = (jti: string, until: number) => {
    seen.add(jti);
    const bucket = byExp.get(until);
    if (bucket) bucket.push(jti);
    else byExp.set(until, [jti]);
  };
  const forgetExpired = (now: number) => {
    if (now <= swept) return;
    swept = now;
    for (const [exp, jtis] of byExp) {
      if (exp + tolerance >= now) continue;
      for (const jti of jtis) seen.delete(jti);
      byExp.delete(exp);
    }
  };

  return {
    async verify(authorization, audiences) {
      const m = /^Bearer\s+([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*)\s*$/.exec(authorization ?? '');
      if (!m) throw unauthorized('CDS Hooks call needs Authorization: Bearer <signed JWT>');
      const token = m[1]!;
      let payload: JWTPayload;
      try {
        const header = jwsHeader(token);
        const kid = typeof header.kid === 'string' ? header.kid : undefined;
        let keys = await keySet.keys(false);
        // A key rotated in at the client: look again (remote sets; a file is read once).
        if (kid !== undefined && !keys.some((k) => k.kid === kid)) keys = await keySet.keys(true);
        payload = verifyJws(token, keys, ASYMMETRIC_ALGORITHMS, header) as JWTPayload;
      } catch (error) {
        if (error instanceof JwsError) throw unauthorized(error.message);
        if (error instanceof CdssError) throw error;
        throw unauthorized('JWT rejected');
      }
      checkClaims(payload, options.issuers, audiences, tolerance, maxAge);
      const now = Math.floor(Date.now() / 1000);
      forgetExpired(now);
      const jti = String(payload.jti);
      if (seen.has(jti)) throw unauthorized('JWT jti was already used');
      // Kept until the token expires, or is too old to be accepted (iat + maxAge), whichever is first.
      const until = Math.floor(Math.min(payload.exp ?? now + maxAge, (payload.iat ?? now) + maxAge));
      remember(jti, until);
      options.onAccepted?.({ jti, until });
      return payload;
    },
    remembered: () => seen.size,
    rememberAccepted(tokens) {
      for (const { jti, until } of tokens)
        if (typeof jti === 'string' && Number.isFinite(until) && !seen.has(jti))
          remember(jti, Math.floor(until));
    },
  };
}
