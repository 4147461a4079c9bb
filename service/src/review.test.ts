import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hashToken } from '@yijian/review';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { YijianApp } from './app.js';
import * as fhir from './cds-hooks/fhir.test-helpers.js';
import { configFromEnv } from './config.js';
import { sampleText, testApp } from './fixtures.test-helpers.js';
import { REVIEW_ADMIN_TOKEN_FILE, REVIEW_USERS_FILE } from './review.js';

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
