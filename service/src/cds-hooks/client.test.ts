import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, SignJWT, UnsecuredJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { YijianApp } from '../app.js';
import { testApp } from '../fixtures.test-helpers.js';
import { cdsCardSchema, cdsResponseSchema } from './cards.js';
import * as fhir from './fhir.test-helpers.js';

/**
 * A real CDS Hooks 2.0 client: it holds an ES256 key pair, publishes the public half as a JWKS,
 * signs a fresh JWT for every call (iss, aud = the endpoint URL, exp, iat, jti), calls discovery and
 * each hook, and checks every card against the CDS Hooks 2.0 card shape.
 */

const PUBLIC_URL = 'https://cds.hospital.test';
const ISSUER = 'https://emr.hospital.test';

let app: YijianApp;
let dir: string;
let privateKey: CryptoKey;
let rsaPrivateKey: CryptoKey;
const KID = 'emr-key-1';

async function sign(
  aud: string,
  opts: {
    iss?: string;
    exp?: number | string;
    key?: CryptoKey;
    alg?: string;
    kid?: string;
    jti?: string;
  } = {},
) {
  return new SignJWT({})
    .setProtectedHeader({ alg: opts.alg ?? 'ES256', kid: opts.kid ?? KID, typ: 'JWT' })
    .setIssuer(opts.iss ?? ISSUER)
    .setAudience(aud)
    .setIssuedAt()
    .setExpirationTime(opts.exp ?? '5m')
    .setJti(opts.jti ?? randomUUID())
    .sign(opts.key ?? privateKey);
}

async function call(method: 'GET' | 'POST', path: string, body?: object, token?: string | null) {
  const jwt = token === undefined ? await sign(`${PUBLIC_URL}${path}`) : token;
  return app.inject({
    method,
    url: path,
    headers: {
      ...(jwt ? { authorization: `Bearer ${jwt}` } : {}),
      ...(body ? { 'content-type': 'application/json' } : {}),
    },
    ...(body ? { payload: JSON.stringify(body) } : {}),
  });
}

function orderSignRequest(
  drafts: object[],
  active: object[] = [],
  extraPrefetch: Record<string, unknown> = {},
) {
  return {
    hook: 'order-sign',
    hookInstance: randomUUID(),
    fhirServer: 'https://emr.hospital.test/fhir',
    context: {
      userId: 'Practitioner/doc-1',
      patientId: 'pat-1',
      encounterId: 'enc-1',
      draftOrders: fhir.draftOrders(drafts),
    },
    prefetch: {
      patient: fhir.patient(),
      conditions: fhir.searchset([fhir.condition('c-1', '持续性心房颤动', 'I48.x00')]),
      medications: fhir.searchset(active),
      allergies: fhir.searchset([]),
      ...extraPrefetch,
    },
  };
}

const warfarin = fhir.medicationRequest('mr-warfarin', '华法林钠片', { value: 2.5, unit: 'mg' });
const aspirinDraft = fhir.medicationRequest(
  'draft-aspirin',
  '阿司匹林肠溶片',
  { value: 100, unit: 'mg' },
  '口服',
  'qd',
  'draft',
);
const amlodipineDraft = fhir.medicationRequest(
  'draft-amlo',
  '苯磺酸氨氯地平片',
  { value: 5, unit: 'mg' },
  '口服',
  'qd',
  'draft',
);

function expectValidCards(body: unknown) {
  const parsed = cdsResponseSchema.safeParse(body);
  if (!parsed.success) throw new Error(`not a CDS Hooks response: ${JSON.stringify(parsed.error.issues)}`);
  for (const card of parsed.data.cards) {
    expect(cdsCardSchema.safeParse(card).success).toBe(true);
    expect(Array.from(card.summary).length).toBeLessThan(140);
    expect(card.uuid).toMatch(/^[0-9a-f-]{36}$/);
  }
  return parsed.data.cards;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'yijian-cds-'));
  const es = await generateKeyPair('ES256', { extractable: true });
  const rsa = await generateKeyPair('RS256', { extractable: true });
  privateKey = es.privateKey as CryptoKey;
  rsaPrivateKey = rsa.privateKey as CryptoKey;
  const jwks = {
    keys: [
      { ...(await exportJWK(es.publicKey)), kid: KID, alg: 'ES256', use: 'sig' },
      { ...(await exportJWK(rsa.publicKey)), kid: 'emr-rsa', alg: 'RS256', use: 'sig' },
    ],
  };
  writeFileSync(join(dir, 'jwks.json'), JSON.stringify(jwks));
  app = await testApp({
    publicUrl: PUBLIC_URL,
    cdsHooksJwks: join(dir, 'jwks.json'),
    cdsHooksIssuers: [ISSUER],
  });
});

afterAll(async () => {
  await app?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('discovery', () => {
  it('lists patient-view, order-select and order-sign with prefetch templates', async () => {
    const res = await call('GET', '/cds-services');
    expect(res.statusCode).toBe(200);
    const { services } = res.json() as {
      services: { hook: string; id: string; prefetch: Record<string, string>; description: string }[];
    };
    expect(services.map((s) => s.hook).sort()).toEqual(['order-select', 'order-sign', 'patient-view']);
    for (const s of services) {
      expect(s.id).toMatch(/^[a-z0-9-]+$/);
      expect(s.description.length).toBeGreaterThan(0);
      expect(s.prefetch.patient).toBe('Patient/{{context.patientId}}');
    }
  });
});

describe('order-sign', () => {
  it('warns about warfarin + a draft aspirin order with a card that can remove the draft', async () => {
    const res = await call(
      'POST',
      '/cds-services/yijian-order-sign',
      orderSignRequest([aspirinDraft, amlodipineDraft], [warfarin]),
    );
    expect(res.statusCode).toBe(200);
    // The answer is sent as UTF-8 bytes (json-bytes.ts): JSON content type, exact length.
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(Number(res.headers['content-length'])).toBe(res.rawPayload.length);
    const cards = expectValidCards(res.json());
    const ddi = cards.find((c) => c.summary.includes('华法林') && c.summary.includes('阿司匹林'));
    expect(ddi).toBeDefined();
    expect(ddi!.indicator).toBe('critical');
    expect(ddi!.detail).toContain('依据');
    expect(ddi!.source.label.length).toBeGreaterThan(0);
    expect(ddi!.overrideReasons?.length).toBeGreaterThan(0);
    expect(ddi!.selectionBehavior).toBe('at-most-one');
    const remove = ddi!.suggestions!.flatMap((s) => s.actions ?? []).find((a) => a.type === 'delete');
    expect(remove?.resourceId).toBe('MedicationRequest/draft-aspirin');
  });

  it('an allergy conflict card deletes the draft order by its own FHIR id', async () => {
    const amoxicillin = fhir.medicationRequest(
      'draft-amox',
      '阿莫西林胶囊',
      { value: 500, unit: 'mg' },
      '口服',
      'tid',
      'draft',
    );
    const request = orderSignRequest([amoxicillin], [warfarin], {
      allergies: fhir.searchset([fhir.allergy('a-1', '青霉素')]),
    });
    const res = await call('POST', '/cds-services/yijian-order-sign', request);
    expect(res.statusCode).toBe(200);
    const cards = expectValidCards(res.json());
    const allergyCard = cards.find((c) => c.summary.includes('青霉素') || c.summary.includes('过敏'));
    expect(allergyCard).toBeDefined();
    const deletes = allergyCard!
      .suggestions!.flatMap((s) => s.actions ?? [])
      .filter((a) => a.type === 'delete');
    expect(deletes.length).toBeGreaterThan(0);
    expect(deletes.every((a) => a.resourceId === 'MedicationRequest/draft-amox')).toBe(true);
  });

  it('gives no card for a safe draft order', async () => {
    const res = await call(
      'POST',
      '/cds-services/yijian-order-sign',
      orderSignRequest([amlodipineDraft], [warfarin]),
    );
    expect(res.statusCode).toBe(200);
    expect(expectValidCards(res.json()).map((c) => c.summary)).toEqual([]);
  });

  it('answers 412 when the required prefetch is missing', async () => {
    const request = orderSignRequest([aspirinDraft], [warfarin]) as { prefetch: Record<string, unknown> };
    delete request.prefetch.patient;
    const res = await call('POST', '/cds-services/yijian-order-sign', request);
    expect(res.statusCode).toBe(412);
    expect(res.json().error.code).toBe('CDSS_ERR_PREFETCH_MISSING');
    expect(res.json().error.issues[0].path).toEqual(['prefetch', 'patient']);
    const none = { ...orderSignRequest([aspirinDraft]), prefetch: undefined };
    const res2 = await call('POST', '/cds-services/yijian-order-sign', none);
    expect(res2.statusCode).toBe(412);
  });

  it('refuses a call for the wrong hook and an unknown service', async () => {
    const wrong = { ...orderSignRequest([aspirinDraft]), hook: 'patient-view' };
    expect((await call('POST', '/cds-services/yijian-order-sign', wrong)).statusCode).toBe(400);
    expect((await call('POST', '/cds-services/nope', orderSignRequest([aspirinDraft]))).statusCode).toBe(404);
  });
});

describe('order-select', () => {
  it('checks only the selected draft orders', async () => {
    const request = {
      ...orderSignRequest([aspirinDraft, amlodipineDraft], [warfarin]),
      hook: 'order-select',
      context: {
        userId: 'Practitioner/doc-1',
        patientId: 'pat-1',
        selections: ['MedicationRequest/draft-amlo'],
        draftOrders: fhir.draftOrders([aspirinDraft, amlodipineDraft]),
      },
    };
    const res = await call('POST', '/cds-services/yijian-order-select', request);
    expect(res.statusCode).toBe(200);
    expect(expectValidCards(res.json()).some((c) => c.summary.includes('阿司匹林'))).toBe(false);

    request.context.selections = ['MedicationRequest/draft-aspirin'];
    const res2 = await call('POST', '/cds-services/yijian-order-select', request);
    expect(expectValidCards(res2.json()).some((c) => c.summary.includes('阿司匹林'))).toBe(true);
  });
});

describe('patient-view', () => {
  const request = () => ({
    hook: 'patient-view',
    hookInstance: randomUUID(),
    context: { userId: 'Practitioner/doc-1', patientId: 'pat-1', encounterId: 'enc-1' },
    prefetch: {
      patient: fhir.patient(),
      encounter: fhir.encounter(),
      conditions: fhir.searchset([fhir.condition('c-1', '持续性心房颤动', 'I48.x00')]),
      medications: fhir.searchset([
        warfarin,
        fhir.medicationRequest('mr-aspirin', '阿司匹林肠溶片', { value: 100, unit: 'mg' }),
      ]),
      allergies: fhir.searchset([]),
      notes: fhir.searchset([
        fhir.note('n-1', '患者持续性心房颤动，口服华法林抗凝，同时服用阿司匹林。否认消化道出血史。'),
      ]),
    },
  });

  it('shows the interaction found in the chart', async () => {
    const res = await call('POST', '/cds-services/yijian-patient-view', request());
    expect(res.statusCode).toBe(200);
    const cards = expectValidCards(res.json());
    expect(
      cards.some(
        (c) => c.indicator === 'critical' && c.summary.includes('华法林') && c.summary.includes('阿司匹林'),
      ),
    ).toBe(true);
  });

  it('answers 412 without the encounter', async () => {
    const r = request() as { prefetch: Record<string, unknown> };
    r.prefetch.encounter = null;
    const res = await call('POST', '/cds-services/yijian-patient-view', r);
    expect(res.statusCode).toBe(412);
  });
});

describe('feedback', () => {
  it('records accepted and overridden outcomes for the cards shown', async () => {
    const res = await call(
      'POST',
      '/cds-services/yijian-order-sign',
      orderSignRequest([aspirinDraft], [warfarin]),
    );
    const card = expectValidCards(res.json())[0]!;
    const feedback = {
      feedback: [
        {
          card: card.uuid,
          outcome: 'overridden',
          overrideReason: { reason: card.overrideReasons![0], userComment: '已告知患者，加强 INR 监测' },
          outcomeTimestamp: new Date().toISOString(),
        },
      ],
    };
    const fb = await call('POST', '/cds-services/yijian-order-sign/feedback', feedback);
    expect(fb.statusCode).toBe(200);
    const stored = app.yijian.store.feedback('default');
    const entry = stored.find((f) => f.cardId === card.uuid);
    expect(entry).toMatchObject({
      outcome: 'overridden',
      overrideReasonCode: card.overrideReasons![0]!.code,
    });
    expect(entry!.ruleId).toEqual(expect.any(String));

    const accepted = {
      feedback: [
        {
          card: card.uuid,
          outcome: 'accepted',
          acceptedSuggestions: [{ id: card.suggestions![0]!.uuid }],
          outcomeTimestamp: new Date().toISOString(),
        },
      ],
    };
    expect((await call('POST', '/cds-services/yijian-order-sign/feedback', accepted)).statusCode).toBe(200);
    const audit = app.yijian.store.audit('default', 1000);
    expect(audit.some((a) => a.cardId === card.uuid && a.channel === 'cds-hooks')).toBe(true);
  });

  it('answers 404 for an unknown card', async () => {
    const res = await call('POST', '/cds-services/yijian-order-sign/feedback', {
      feedback: [{ card: randomUUID(), outcome: 'accepted', outcomeTimestamp: new Date().toISOString() }],
    });
    expect(res.statusCode).toBe(404);
  });
});

describe('JWT verification', () => {
  const path = '/cds-services/yijian-order-sign';
  const body = () => orderSignRequest([aspirinDraft], [warfarin]);
  const refused = async (token: string | null) => {
    const res = await call('POST', path, body(), token);
    expect(res.statusCode).toBe(401);
    expect(res.json().error.code).toBe('CDSS_ERR_UNAUTHORIZED');
  };

  it('accepts an RS256 token from a listed key', async () => {
    const token = await sign(`${PUBLIC_URL}${path}`, { key: rsaPrivateKey, alg: 'RS256', kid: 'emr-rsa' });
    expect((await call('POST', path, body(), token)).statusCode).toBe(200);
  });
  it('refuses an unsigned call', () => refused(null));
  it('refuses alg none', () =>
    refused(
      new UnsecuredJWT({ jti: randomUUID() })
        .setIssuer(ISSUER)
        .setAudience(`${PUBLIC_URL}${path}`)
        .setIssuedAt()
        .setExpirationTime('5m')
        .encode(),
    ));
  it('refuses an expired token', async () =>
    refused(await sign(`${PUBLIC_URL}${path}`, { exp: Math.floor(Date.now() / 1000) - 600 })));
  it('refuses a wrong audience', async () =>
    refused(await sign('https://other.example/cds-services/yijian-order-sign')));
  it('refuses an issuer not on the allow-list', async () =>
    refused(await sign(`${PUBLIC_URL}${path}`, { iss: 'https://evil.test' })));
  it('refuses an HMAC-signed token', async () => {
    const secret = new TextEncoder().encode('a-shared-secret-that-is-long-enough-for-hs256!');
    const token = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256', kid: KID })
      .setIssuer(ISSUER)
      .setAudience(`${PUBLIC_URL}${path}`)
      .setIssuedAt()
      .setExpirationTime('5m')
      .setJti(randomUUID())
      .sign(secret);
    await refused(token);
  });
  it('refuses a key that is not in the JWKS', async () => {
    const other = await generateKeyPair('ES256');
    await refused(await sign(`${PUBLIC_URL}${path}`, { key: other.privateKey as CryptoKey }));
  });
  it('refuses a replayed jti', async () => {
    const token = await sign(`${PUBLIC_URL}${path}`, { jti: 'once-only' });
    expect((await call('POST', path, body(), token)).statusCode).toBe(200);
    await refused(token);
  });
  it('refuses a token for discovery without signature', async () => {
    expect((await call('GET', '/cds-services', undefined, null)).statusCode).toBe(401);
  });
});

describe('JWKS from a URL', () => {
  it('fetches the client keys over HTTP and verifies with them', async () => {
    const pair = await generateKeyPair('ES384', { extractable: true });
    const jwks = {
      keys: [{ ...(await exportJWK(pair.publicKey)), kid: 'remote-1', alg: 'ES384', use: 'sig' }],
    };
    const server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(jwks));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    const { port } = server.address() as { port: number };
    const remote = await testApp({
      publicUrl: PUBLIC_URL,
      cdsHooksJwks: `http://127.0.0.1:${port}/.well-known/jwks.json`,
      cdsHooksIssuers: [ISSUER],
    });
    try {
      const aud = `${PUBLIC_URL}/cds-services`;
      const good = await sign(aud, { key: pair.privateKey as CryptoKey, alg: 'ES384', kid: 'remote-1' });
      const ok = await remote.inject({
        method: 'GET',
        url: '/cds-services',
        headers: { authorization: `Bearer ${good}` },
      });
      expect(ok.statusCode).toBe(200);
      const bad = await sign(aud);
      const refused = await remote.inject({
        method: 'GET',
        url: '/cds-services',
        headers: { authorization: `Bearer ${bad}` },
      });
      expect(refused.statusCode).toBe(401);
    } finally {
      await remote.close();
      server.close();
    }
  });
});
