import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exited, type RunningService, serviceBuilt, startService, until } from './process.test-helpers.js';

/**
 * The built service with WORKERS=2: both workers answer on the one port, /metrics sums them, a
 * rule setting changed through one worker holds on the other, a killed worker is replaced, and
 * SIGTERM drains both and exits 0. Needs `pnpm build` (service/dist).
 */

if (!serviceBuilt) console.warn('cluster.test: service/dist/main.js is not built (run pnpm build); skipping');

const children: ChildProcess[] = [];
let dataDir: string;
let service: RunningService;

/** A new connection per call, so the primary's round-robin spreads the calls over the workers. */
const call = (path: string, init: RequestInit = {}) =>
  fetch(`${service.url}${path}`, { ...init, headers: { connection: 'close', ...init.headers } });

const DRUGS = { drugs: ['华法林钠片 2.5mg 口服 qd', '阿司匹林 100mg po qd'] };
const check = async () => {
  const res = await call('/v1/medications/check', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(DRUGS),
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as { alerts: { ruleId: string; summary: string }[] }).alerts;
};
const workersSeen = (route: string) =>
  new Set(service.lines.filter((l) => l.msg === 'request' && l.route === route).map((l) => l.worker));

const ISSUER = 'https://emr.cluster.test';
let signingKey: CryptoKey;

beforeAll(async () => {
  if (!serviceBuilt) return;
  dataDir = mkdtempSync(join(tmpdir(), 'yijian-cluster-'));
  const pair = await generateKeyPair('ES256', { extractable: true });
  signingKey = pair.privateKey as CryptoKey;
  const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'ES256' };
  writeFileSync(join(dataDir, 'jwks.json'), JSON.stringify({ keys: [jwk] }));
  service = await startService(
    {
      PORT: '0',
      DATA_DIR: dataDir,
      WORKERS: '2',
      REVIEW_BOOTSTRAP: 'false',
      LOG_LEVEL: 'info',
      CDS_HOOKS_JWKS: join(dataDir, 'jwks.json'),
      CDS_HOOKS_ISSUERS: ISSUER,
    },
    children,
  );
}, 90_000);
afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe.skipIf(!serviceBuilt)('WORKERS=2', () => {
  it('announces one ready line for both workers, and both answer', async () => {
    expect(service.lines.filter((l) => String(l.msg).startsWith('ready'))).toEqual([
      expect.objectContaining({ workers: 2 }),
    ]);
    // Workers batch their log lines, so theirs may come a few milliseconds after the primary's.
    await until(() => service.lines.filter((l) => l.msg === 'worker ready').length === 2, 5000);
    expect(
      service.lines
        .filter((l) => l.msg === 'worker ready')
        .map((l) => l.worker)
        .sort(),
    ).toEqual([0, 1]);
    for (let i = 0; i < 8; i++) expect((await call('/health')).status).toBe(200);
    await until(() => workersSeen('/health').size === 2, 5000);
  });

  it('/metrics counts the requests of every worker', async () => {
    const count = async () => {
      const text = await (await call('/metrics')).text();
      const m = text.match(/yijian_http_request_duration_seconds_count\{[^}]*route="\/ready"[^}]*\} (\d+)/);
      return m ? Number(m[1]) : 0;
    };
    const before = await count();
    for (let i = 0; i < 10; i++) expect((await call('/ready')).status).toBe(200);
    await until(() => workersSeen('/ready').size === 2, 5000);
    expect((await count()) - before).toBe(10);
  });

  it('a rule disabled through one worker is disabled on the other', async () => {
    const ddi = (await check()).find((a) => a.summary.includes('华法林') && a.summary.includes('阿司匹林'));
    expect(ddi).toBeDefined();
    // Warm both workers' caches of the tenant's (empty) settings first.
    for (let i = 0; i < 4; i++) expect((await check()).some((a) => a.ruleId === ddi!.ruleId)).toBe(true);
    const patch = await call(`/v1/rules/${encodeURIComponent(ddi!.ruleId)}`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ enabled: false }),
    });
    expect(patch.status).toBe(200);
    for (let i = 0; i < 6; i++) expect((await check()).some((a) => a.ruleId === ddi!.ruleId)).toBe(false);
    expect(workersSeen('/v1/medications/check').size).toBe(2);
    expect(
      (await call(`/v1/rules/${encodeURIComponent(ddi!.ruleId)}/setting`, { method: 'DELETE' })).status,
    ).toBe(200);
    for (let i = 0; i < 6; i++) expect((await check()).some((a) => a.ruleId === ddi!.ruleId)).toBe(true);
  });

  it('refuses a CDS Hooks token replayed to the other worker', async () => {
    const aud = `${service.url}/cds-services`;
    const now = Math.floor(Date.now() / 1000);
    const token = await new SignJWT({})
      .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
      .setIssuer(ISSUER)
      .setAudience(aud)
      .setIssuedAt(now)
      .setExpirationTime(now + 300)
      .setJti(randomUUID())
      .sign(signingKey);
    const discovery = () => call('/cds-services', { headers: { authorization: `Bearer ${token}` } });
    expect((await discovery()).status).toBe(200);
    await new Promise((r) => setTimeout(r, 200)); // the accepting worker's batch reaches the other
    for (let i = 0; i < 4; i++) expect((await discovery()).status).toBe(401);
    await until(() => workersSeen('/cds-services').size === 2, 5000);
    const refusedBy = new Set(
      service.lines.filter((l) => l.route === '/cds-services' && l.statusCode === 401).map((l) => l.worker),
    );
    expect([...refusedBy].sort()).toEqual([0, 1]);
  });

  it('replaces a worker that dies, and keeps answering meanwhile', async () => {
    const pids = new Set(service.lines.filter((l) => l.msg === 'worker ready').map((l) => l.pid));
    const victim = service.lines.find((l) => l.msg === 'worker ready' && l.worker === 1)!.pid as number;
    process.kill(victim, 'SIGKILL');
    await until(() => service.lines.some((l) => l.msg === 'worker died; starting a new one'), 10_000);
    for (let i = 0; i < 4; i++) expect((await call('/health')).status).toBe(200);
    await until(() => service.lines.filter((l) => l.msg === 'worker ready').length === 3, 60_000);
    const replacement = service.lines.filter((l) => l.msg === 'worker ready').at(-1)!;
    expect(replacement.worker).toBe(1);
    expect(pids.has(replacement.pid)).toBe(false);
  }, 90_000);

  it('stays up and replaces them when every worker dies at once', async () => {
    const readyLines = () => service.lines.filter((l) => l.msg === 'worker ready');
    const before = readyLines().length;
    const live = new Map(readyLines().map((l) => [l.worker, l.pid as number]));
    for (const pid of live.values()) process.kill(pid, 'SIGKILL');
    await until(() => readyLines().length === before + 2, 60_000);
    expect(service.child.exitCode).toBeNull();
    // With PORT=0 the port closed with the last worker and the new ones got another free one
    // (a configured port is listened on again); they say where.
    const url = readyLines().at(-1)!.url as string;
    expect((await fetch(`${url}/health`, { headers: { connection: 'close' } })).status).toBe(200);
    service.url = url;
  }, 90_000);

  it('SIGTERM drains every worker and exits 0', async () => {
    service.child.kill('SIGTERM');
    expect(await exited(service.child)).toBe(0);
    expect(
      service.lines
        .filter((l) => l.msg === 'stopped')
        .map((l) => l.worker)
        .sort(),
    ).toEqual([0, 1]);
  });
});
