import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createCdsJwtVerifier } from './jwt.js';

const AUD = 'https://cds.hospital.test/cds-services/yijian-order-sign';
const ISS = 'https://emr.hospital.test';
let dir: string;
let privateKey: CryptoKey;

beforeAll(async () => {
  const pair = await generateKeyPair('ES256', { extractable: true });
  privateKey = pair.privateKey as CryptoKey;
  dir = mkdtempSync(join(tmpdir(), 'yijian-jwt-'));
  const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'ES256' };
  writeFileSync(join(dir, 'jwks.json'), JSON.stringify({ keys: [jwk] }));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => {
  vi.useRealTimers();
});

const token = (jti: string, lifetimeSec: number) => {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({})
    .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
    .setIssuer(ISS)
    .setAudience(AUD)
    .setIssuedAt(now)
    .setExpirationTime(now + lifetimeSec)
    .setJti(jti)
    .sign(privateKey);
};

describe('jti replay memory', () => {
  it('refuses a replay while the token lives, and forgets it once the token has expired', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2026-11-29T12:00:00Z'));
    const verifier = createCdsJwtVerifier({
      jwks: join(dir, 'jwks.json'),
      issuers: [ISS],
      maxTokenAgeSec: 600,
    });
    const short = await token('a', 60);
    await verifier.verify(`Bearer ${short}`, [AUD]);
    await verifier.verify(`Bearer ${await token('b', 60)}`, [AUD]);
    // A far-away exp is kept only as long as iat + maxTokenAgeSec allows the token at all.
    await verifier.verify(`Bearer ${await token('c', 86_400)}`, [AUD]);
    expect(verifier.remembered()).toBe(3);

    vi.setSystemTime(new Date('2026-11-29T12:00:30Z'));
    await expect(verifier.verify(`Bearer ${short}`, [AUD])).rejects.toThrow(/already used/);
    await verifier.verify(`Bearer ${await token('d', 60)}`, [AUD]);
    expect(verifier.remembered()).toBe(4); // nothing expired yet

    vi.setSystemTime(new Date('2026-11-29T12:02:00Z')); // a and b: exp + 30 s tolerance passed
    await verifier.verify(`Bearer ${await token('e', 60)}`, [AUD]);
    expect(verifier.remembered()).toBe(3); // c, d, e
    vi.setSystemTime(new Date('2026-11-29T12:11:00Z')); // c: iat + 600 s + 30 s passed
    await verifier.verify(`Bearer ${await token('f', 60)}`, [AUD]);
    expect(verifier.remembered()).toBe(1); // f
  });
});
