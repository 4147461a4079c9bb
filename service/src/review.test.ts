import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hashToken } from '@yijian/review';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { YijianApp } from './app.js';
import * as fhir from './cds-hooks/fhir.test-helpers.js';
import { configFromEnv } from './config.js';
import { sample, sampleText, testApp } from './fixtures.test-helpers.js';
import { REVIEW_ADMIN_TOKEN_FILE, REVIEW_USERS_FILE } from './review.js';
import { generateApiKey } from './tenants.js';

/** The review queue as the service fills it: every analysis goes in, the page's API shows it. */

const ADMIN = 'admin-token-for-tests-0123456789';
const REVIEWER = 'reviewer-token-for-tests-0123456789';
let dir: string;
let app: YijianApp;

const json = { 'content-type': 'application/json' };
const as = (token: string) => ({ authorization: `Bearer ${token}` });

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'yijian-review-'));
  const usersFile = join(dir, 'users.json');
  writeFileSync(
    usersFile,
    JSON.stringify({
      users: [
        { id: 'qm-1', name: '质控管理员', role: 'admin', tokenSha256: hashToken(ADMIN) },
        { id: 'qm-2', name: '质控员', role: 'reviewer', tokenSha256: hashToken(REVIEWER) },
      ],
    }),
  );
  app = await testApp({ reviewUsersFile: usersFile });
});
afterAll(async () => {
  await app?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('config', () => {
  it('reads the review users file, bootstrap and ingest switches from the environment', () => {
    const c = configFromEnv({ REVIEW_USERS_FILE: '/etc/yijian/review-users.json', REVIEW_INGEST: 'false' });
    expect(c.reviewUsersFile).toBe('/etc/yijian/review-users.json');
    expect(c.reviewIngest).toBe(false);
    expect(configFromEnv({}).reviewBootstrap).toBe(true);
    expect(() => configFromEnv({ REVIEW_BOOTSTRAP: 'maybe' })).toThrow(/REVIEW_BOOTSTRAP/);
  });

  it('app.ts reads no environment variable (config.ts is the only place)', () => {
    const source = readFileSync(new URL('./app.ts', import.meta.url), 'utf8');
    expect(source).not.toMatch(/process\.env/);
  });
});

describe('analyses go into the review queue', () => {
  it('shows the analysed samples with their alerts, QC findings and adverse events', async () => {
    for (const name of ['cardiology-01', 'neurology-01']) {
      const res = await app.inject({
        method: 'POST',
        url: '/v1/analyze',
        headers: json,
        payload: sampleText(name),
      });
      expect(res.statusCode).toBe(200);
    }
    const analysed = await app.inject({
      method: 'POST',
      url: '/v1/analyze',
      headers: json,
      payload: sampleText('neurology-01'),
    });
    // The analyze answer carries the detected events too: the planted night-time fall, grade III.
    const events = analysed.json().adverseEvents as { category: string; grade: string }[];
    expect(events).toEqual([expect.objectContaining({ category: 'fall', grade: 'III' })]);

    const queue = await app.inject({
      method: 'GET',
      url: '/review/api/queue?limit=200',
      headers: as(REVIEWER),
    });
    expect(queue.statusCode).toBe(200);
    const items = queue.json().items as {
      recordId: string;
      source: string;
      ruleId: string;
      severity: string;
    }[];
    const cardiology = items.filter((i) => i.recordId === 'cardiology-01');
    expect(cardiology.some((i) => i.source === 'cdss' && i.severity === 'critical')).toBe(true);
    const neurology = items.filter((i) => i.recordId === 'neurology-01');
    expect(neurology.some((i) => i.source === 'qc')).toBe(true);
    expect(neurology.filter((i) => i.source === 'ae').map((i) => i.ruleId)).toEqual(['ae.fall']);
    // Analysing the same record again updates its findings instead of adding copies.
    const again = items.filter((i) => i.recordId === 'neurology-01' && i.source === 'ae');
    expect(again).toHaveLength(1);

    const record = await app.inject({
      method: 'GET',
      url: '/review/api/records/neurology-01',
      headers: as(REVIEWER),
    });
    expect(record.statusCode).toBe(200);
    const body = record.json();
    expect(body.documents.length).toBeGreaterThan(0);
    expect(body.mentions.length).toBeGreaterThan(0);
    const fall = body.findings.find((f: { finding: { ruleId: string } }) => f.finding.ruleId === 'ae.fall');
    expect(fall.finding.evidence[0].span).toBeDefined();
  });

  it('ingests CDS Hooks patient-view results', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/cds-services/yijian-patient-view',
      headers: json,
      payload: {
        hook: 'patient-view',
        hookInstance: randomUUID(),
        context: { userId: 'Practitioner/doc-1', patientId: 'pat-pv', encounterId: 'enc-pv' },
        prefetch: {
          patient: fhir.patient('pat-pv'),
          encounter: fhir.encounter('enc-pv'),
          conditions: fhir.searchset([]),
          medications: fhir.searchset([]),
          allergies: fhir.searchset([]),
          notes: fhir.searchset([
            fhir.note('n-pv', '患者夜间如厕时不慎跌倒，右膝擦伤，予消毒包扎，告知家属。'),
          ]),
        },
      },
    });
    expect(res.statusCode).toBe(200);
    const queue = await app.inject({
      method: 'GET',
      url: '/review/api/queue?source=ae&limit=200',
      headers: as(REVIEWER),
    });
    const items = queue.json().items as { recordId: string; ruleId: string }[];
    expect(items.some((i) => i.ruleId === 'ae.fall' && i.recordId !== 'neurology-01')).toBe(true);
  });

  it('keeps the review API closed without a configured token', async () => {
    const none = await app.inject({ method: 'GET', url: '/review/api/queue' });
    expect(none.statusCode).toBe(401);
    const wrong = await app.inject({ method: 'GET', url: '/review/api/queue', headers: as('guess') });
    expect(wrong.statusCode).toBe(401);
    const me = await app.inject({ method: 'GET', url: '/review/api/me', headers: as(ADMIN) });
    expect(me.json()).toMatchObject({ id: 'qm-1', role: 'admin' });
  });
});

describe('first start on a fresh data directory', () => {
  it('generates one admin token (file mode 0600, only its hash in the users file) and reuses it', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'yijian-review-boot-'));
    try {
      const first = await testApp({ dbFile: 'yijian.sqlite', dataDir });
      const setup = first.yijian.reviewUsers;
      expect(setup.generated).toBe(true);
      const tokenFile = join(dataDir, REVIEW_ADMIN_TOKEN_FILE);
      expect(setup.adminTokenFile).toBe(tokenFile);
      expect(statSync(tokenFile).mode & 0o777).toBe(0o600);
      const token = readFileSync(tokenFile, 'utf8').trim();
      expect(token.length).toBeGreaterThanOrEqual(40);
      const users = readFileSync(join(dataDir, REVIEW_USERS_FILE), 'utf8');
      expect(users).not.toContain(token);
      expect(users).toContain(hashToken(token));
      const me = await first.inject({ method: 'GET', url: '/review/api/me', headers: as(token) });
      expect(me.json()).toMatchObject({ role: 'admin' });
      const analysed = await first.inject({
        method: 'POST',
        url: '/v1/analyze',
        headers: json,
        payload: sampleText('cardiology-01'),
      });
      expect(analysed.statusCode).toBe(200);
      await first.close();

      // A restart keeps the token and the queue (the review store is a file in the data dir).
      const second = await testApp({ dbFile: 'yijian.sqlite', dataDir });
      expect(second.yijian.reviewUsers.generated).toBe(false);
      const queue = await second.inject({
        method: 'GET',
        url: '/review/api/queue?recordId=cardiology-01',
        headers: as(token),
      });
      expect(queue.statusCode).toBe(200);
      expect(queue.json().items.length).toBeGreaterThan(0);
      await second.close();
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('generates nothing when bootstrap is off or users are configured', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'yijian-review-noboot-'));
    try {
      const off = await testApp({ dbFile: 'yijian.sqlite', dataDir, reviewBootstrap: false });
      expect(off.yijian.reviewUsers).toEqual({ generated: false });
      await off.close();
      expect(() => statSync(join(dataDir, REVIEW_ADMIN_TOKEN_FILE))).toThrow();
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('tenants and the review queue', () => {
  // Two hospitals send a record with the same id: REST with their API keys, CDS Hooks with a JWT
  // whose issuer belongs to hospital B. Each analysis lands under the caller's tenant.
  const PUBLIC_URL = 'https://cds.hospital.test';
  const ISSUER_B = 'https://emr-b.hospital.test';
  const keyA = generateApiKey('hospital-a');
  const keyB = generateApiKey('hospital-b');
  const GROUP = 'group-quality-token-0123456789';
  const ONLY_A = 'hospital-a-quality-token-0123456789';
  const ONLY_B = 'hospital-b-quality-token-0123456789';
  let tdir: string;
  let tapp: YijianApp;
  let privateKey: CryptoKey;

  beforeAll(async () => {
    tdir = mkdtempSync(join(tmpdir(), 'yijian-review-tenants-'));
    const es = await generateKeyPair('ES256', { extractable: true });
    privateKey = es.privateKey as CryptoKey;
    writeFileSync(
      join(tdir, 'jwks.json'),
      JSON.stringify({
        keys: [{ ...(await exportJWK(es.publicKey)), kid: 'emr-b', alg: 'ES256', use: 'sig' }],
      }),
    );
    writeFileSync(
      join(tdir, 'keys.json'),
      JSON.stringify({
        tenants: [
          { id: 'hospital-a', keys: [keyA.hash] },
          { id: 'hospital-b', keys: [keyB.hash], issuers: [ISSUER_B] },
        ],
      }),
    );
    writeFileSync(
      join(tdir, 'users.json'),
      JSON.stringify({
        users: [
          { id: 'group', name: '集团质控部', role: 'reviewer', tokenSha256: hashToken(GROUP) },
          {
            id: 'qa-a',
            name: '甲院质控',
            role: 'reviewer',
            tokenSha256: hashToken(ONLY_A),
            tenants: ['hospital-a'],
          },
          {
            id: 'qa-b',
            name: '乙院质控',
            role: 'reviewer',
            tokenSha256: hashToken(ONLY_B),
            tenants: ['hospital-b'],
          },
        ],
      }),
    );
    tapp = await testApp({
      apiKeysFile: join(tdir, 'keys.json'),
      reviewUsersFile: join(tdir, 'users.json'),
      publicUrl: PUBLIC_URL,
      cdsHooksJwks: join(tdir, 'jwks.json'),
      cdsHooksIssuers: [ISSUER_B],
      rateLimitMax: 0,
    });
  });
  afterAll(async () => {
    await tapp?.close();
    if (tdir) rmSync(tdir, { recursive: true, force: true });
  });

  const queue = async (token: string, query = '') =>
    (await tapp.inject({ url: `/review/api/queue?limit=200${query}`, headers: as(token) })).json() as {
      items: { tenant: string; recordId: string; key: string; source: string; ruleId: string }[];
    };

  it('files REST analyses of the same record id under each caller’s tenant; neither overwrites the other', async () => {
    const record = sample('cardiology-01');
    for (const key of [keyA.key, keyB.key]) {
      const res = await tapp.inject({
        method: 'POST',
        url: '/v1/analyze',
        headers: { ...json, 'x-api-key': key },
        payload: JSON.stringify({
          ...record,
          // Hospital B's record of the same id is another patient in another department.
          ...(key === keyB.key
            ? { encounter: { ...(record.encounter as object), department: '乙院心内科' } }
            : {}),
        }),
      });
      expect(res.statusCode, res.body).toBe(200);
    }
    const all = await queue(GROUP, '&recordId=cardiology-01');
    const tenants = new Set(all.items.map((i) => i.tenant));
    expect(tenants).toEqual(new Set(['hospital-a', 'hospital-b']));
    const a = await queue(ONLY_A, '&recordId=cardiology-01');
    const b = await queue(ONLY_B, '&recordId=cardiology-01');
    expect(a.items.length).toBeGreaterThan(0);
    expect(a.items.every((i) => i.tenant === 'hospital-a')).toBe(true);
    expect(b.items.every((i) => i.tenant === 'hospital-b')).toBe(true);
    expect(a.items.length + b.items.length).toBe(all.items.length);

    const recA = await tapp.inject({ url: '/review/api/records/cardiology-01', headers: as(ONLY_A) });
    const recB = await tapp.inject({ url: '/review/api/records/cardiology-01', headers: as(ONLY_B) });
    expect(recA.json()).toMatchObject({ tenant: 'hospital-a' });
    expect(recB.json()).toMatchObject({ tenant: 'hospital-b' });
    expect(recA.json().encounter.department).not.toBe('乙院心内科');
    expect(recB.json().encounter.department).toBe('乙院心内科');

    // Hospital A's reviewer cannot act on B's copy of a finding, nor read B's record by naming it.
    const key = b.items[0]!.key;
    const refused = await tapp.inject({
      method: 'POST',
      url: `/review/api/findings/${encodeURIComponent(key)}/actions?tenant=hospital-b`,
      headers: { ...json, ...as(ONLY_A) },
      payload: JSON.stringify({ action: 'return', note: '请修改' }),
    });
    expect(refused.statusCode).toBe(404);
    expect(
      (await tapp.inject({ url: '/review/api/records/cardiology-01?tenant=hospital-b', headers: as(ONLY_A) }))
        .statusCode,
    ).toBe(404);
    const csv = await tapp.inject({ url: '/review/api/export.csv', headers: as(ONLY_A) });
    expect(csv.body).not.toContain('hospital-b');
    expect(csv.body).toContain('hospital-a');
  });

  it('files a CDS Hooks patient-view under the tenant of the JWT issuer', async () => {
    const path = '/cds-services/yijian-patient-view';
    const jwt = await new SignJWT({})
      .setProtectedHeader({ alg: 'ES256', kid: 'emr-b', typ: 'JWT' })
      .setIssuer(ISSUER_B)
      .setAudience(`${PUBLIC_URL}${path}`)
      .setIssuedAt()
      .setExpirationTime('5m')
      .setJti(randomUUID())
      .sign(privateKey);
    const res = await tapp.inject({
      method: 'POST',
      url: path,
      headers: { ...json, authorization: `Bearer ${jwt}` },
      payload: {
        hook: 'patient-view',
        hookInstance: randomUUID(),
        context: { userId: 'Practitioner/doc-1', patientId: 'pat-tb', encounterId: 'enc-tb' },
        prefetch: {
          patient: fhir.patient('pat-tb'),
          encounter: fhir.encounter('enc-tb'),
          conditions: fhir.searchset([]),
          medications: fhir.searchset([]),
          allergies: fhir.searchset([]),
          notes: fhir.searchset([fhir.note('n-tb', '患者夜间如厕时不慎跌倒，右膝擦伤，予消毒包扎。')]),
        },
      },
    });
    expect(res.statusCode, res.body).toBe(200);
    const falls = (await queue(ONLY_B, '&source=ae')).items.filter((i) => i.ruleId === 'ae.fall');
    expect(falls.length).toBeGreaterThan(0);
    expect(falls.every((i) => i.tenant === 'hospital-b')).toBe(true);
    expect((await queue(ONLY_A, '&source=ae')).items.some((i) => i.recordId === falls[0]!.recordId)).toBe(
      false,
    );
    const hidden = await tapp.inject({
      url: `/review/api/records/${encodeURIComponent(falls[0]!.recordId)}`,
      headers: as(ONLY_A),
    });
    expect(hidden.statusCode).toBe(404);
  });
});
