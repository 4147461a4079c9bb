import { constants, generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { importJwks, JWS_ALGORITHMS, JwsError, verifyJws } from './jws.js';
import { createCdsJwtVerifier } from './jwt.js';

const b64 = (x: string | Buffer) => Buffer.from(x).toString('base64url');

function token(
  alg: string,
  key: KeyObject,
  payload: Record<string, unknown>,
  header: Record<string, unknown> = {},
): string {
  const h = b64(JSON.stringify({ alg, ...header }));
  const p = b64(JSON.stringify(payload));
  const data = Buffer.from(`${h}.${p}`);
  const hash = alg === 'EdDSA' ? null : `sha${alg.slice(2)}`;
  const opts = alg.startsWith('PS')
    ? { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: Number(alg.slice(2)) / 8 }
    : alg.startsWith('ES')
      ? { key, dsaEncoding: 'ieee-p1363' as const }
      : { key };
  return `${h}.${p}.${b64(sign(hash, data, opts))}`;
}

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const ec384 = generateKeyPairSync('ec', { namedCurve: 'P-384' });
const ed = generateKeyPairSync('ed25519');
const jwk = (k: KeyObject, kid: string, extra: Record<string, unknown> = {}) => ({
  ...k.export({ format: 'jwk' }),
  kid,
  use: 'sig',
  ...extra,
});
const keys = importJwks({
  keys: [
    jwk(rsa.publicKey, 'rsa'),
    jwk(ec.publicKey, 'ec'),
    jwk(ec384.publicKey, 'ec384'),
    jwk(ed.publicKey, 'ed'),
  ],
});

describe('verifyJws', () => {
  it('verifies every asymmetric algorithm with the right key', () => {
    const cases: [string, KeyObject, string][] = [
      ['RS256', rsa.privateKey, 'rsa'],
      ['RS512', rsa.privateKey, 'rsa'],
      ['PS256', rsa.privateKey, 'rsa'],
      ['PS384', rsa.privateKey, 'rsa'],
      ['ES256', ec.privateKey, 'ec'],
      ['ES384', ec384.privateKey, 'ec384'],
      ['EdDSA', ed.privateKey, 'ed'],
    ];
    for (const [alg, key, kid] of cases)
      expect(verifyJws(token(alg, key, { n: alg }, { kid }), keys, JWS_ALGORITHMS)).toEqual({ n: alg });
    // Without a kid every key of the algorithm's type is tried.
    expect(verifyJws(token('ES256', ec.privateKey, { n: 1 }), keys, JWS_ALGORITHMS)).toEqual({ n: 1 });
  });

  it('refuses tampering, foreign keys, mismatched key types and unknown extensions', () => {
    const reason = (t: string) => {
      try {
        verifyJws(t, keys, JWS_ALGORITHMS);
      } catch (error) {
        return (error as JwsError).reason;
      }
      return 'accepted';
    };
    const good = token('ES256', ec.privateKey, { sub: 'a' }, { kid: 'ec' });
    const [h, , s] = good.split('.');
    expect(reason(`${h}.${b64(JSON.stringify({ sub: 'b' }))}.${s}`)).toBe('signature');
    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    expect(reason(token('ES256', other.privateKey, {}, { kid: 'ec' }))).toBe('signature');
    expect(reason(token('ES256', ec.privateKey, {}, { kid: 'nope' }))).toBe('no-key');
    // An ES256 header on the P-384 key, an RSA algorithm on an EC key id.
    expect(reason(token('ES256', ec384.privateKey, {}, { kid: 'ec384' }))).toBe('no-key');
    expect(reason(token('RS256', rsa.privateKey, {}, { kid: 'ec' }))).toBe('no-key');
    expect(reason(`${b64('{"alg":"HS256"}')}.${b64('{}')}.${b64('x')}`)).toBe('algorithm');
    expect(reason(`${b64('{"alg":"none"}')}.${b64('{}')}.`)).toBe('malformed');
    expect(reason(token('ES256', ec.privateKey, {}, { kid: 'ec', crit: ['exp'] }))).toBe('malformed');
    expect(reason('a.b')).toBe('malformed');
    expect(reason(`${b64('[1]')}.${b64('{}')}.${b64('x')}`)).toBe('malformed');
    expect(() => verifyJws(good, keys, ['RS256'])).toThrow(JwsError);
  });

  it('imports public keys only and refuses symmetric JWKS', () => {
    expect(() => importJwks({ keys: [{ kty: 'oct', k: 'c2VjcmV0' }] })).toThrow(/symmetric/);
    expect(() => importJwks({ keys: [] })).toThrow(/no keys/);
    expect(() => importJwks({ keys: [{ ...jwk(ec.publicKey, 'x'), use: 'enc' }] })).toThrow(
      /no signature keys/,
    );
    // A JWKS that carries the private members still yields only the public key.
    const [k] = importJwks({ keys: [{ ...ec.privateKey.export({ format: 'jwk' }), kid: 'p' }] });
    expect(k!.key.type).toBe('public');
  });
});

describe('CDS Hooks claims', () => {
  const dir = mkdtempSync(join(tmpdir(), 'yijian-jws-'));
  const file = join(dir, 'jwks.json');
  writeFileSync(file, JSON.stringify({ keys: [jwk(ec.publicKey, 'ec')] }));
  const verifier = createCdsJwtVerifier({ jwks: file, issuers: ['https://emr'], maxTokenAgeSec: 300 });
  const aud = 'https://cds/cds-services/x';
  const now = Math.floor(Date.now() / 1000);
  let n = 0;
  const call = (claims: Record<string, unknown>) =>
    verifier.verify(
      `Bearer ${token('ES256', ec.privateKey, { iss: 'https://emr', aud, iat: now, exp: now + 60, jti: `j${n++}`, ...claims }, { kid: 'ec' })}`,
      [aud],
    );
  const refusedWith = async (claims: Record<string, unknown>, message: RegExp) =>
    expect(call(claims)).rejects.toMatchObject({
      code: 'CDSS_ERR_UNAUTHORIZED',
      message: expect.stringMatching(message),
    });

  it('accepts a well-formed token, also with aud as an array', async () => {
    await expect(call({})).resolves.toMatchObject({ iss: 'https://emr' });
    await expect(call({ aud: ['https://other', aud] })).resolves.toMatchObject({ iss: 'https://emr' });
  });
  it('refuses missing or wrong claims', async () => {
    await refusedWith({ jti: undefined }, /jti missing/);
    await refusedWith({ iss: 'https://evil' }, /iss/);
    await refusedWith({ aud: 'https://other' }, /aud/);
    await refusedWith({ exp: now - 120 }, /expired/);
    await refusedWith({ iat: now + 600 }, /iat/);
    await refusedWith({ iat: now - 3600 }, /iat/);
    await refusedWith({ nbf: now + 600 }, /nbf/);
    await refusedWith({ exp: 'tomorrow' }, /exp/);
  });
  it('refuses a replayed jti', async () => {
    await expect(call({ jti: 'once' })).resolves.toBeTruthy();
    await refusedWith({ jti: 'once' }, /already used/);
  });
});
