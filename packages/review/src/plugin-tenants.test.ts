import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUserDirectory, hashToken, loadUsersFile } from './auth.js';
import { reviewPlugin } from './plugin.js';
import { testFinding, testRecord } from './records.test-helpers.js';

/** Tenant isolation over HTTP: a user limited to one tenant never sees or changes another's records. */

const users = [
  { id: 'group', name: '集团质控', role: 'reviewer' as const, tokenSha256: hashToken('group-token') },
  { id: 'root', name: '系统管理员', role: 'admin' as const, tokenSha256: hashToken('root-token') },
  {
    id: 'a-rev',
    name: '甲院质控',
    role: 'reviewer' as const,
    tokenSha256: hashToken('a-reviewer-token'),
    tenants: ['hospital-a'],
  },
  {
    id: 'a-admin',
    name: '甲院管理员',
    role: 'admin' as const,
    tokenSha256: hashToken('a-admin-token'),
    tenants: ['hospital-a'],
  },
];
const as = (token: string) => ({ authorization: `Bearer ${token}` });
const GROUP = as('group-token');
const ROOT = as('root-token');
const A = as('a-reviewer-token');
const A_ADMIN = as('a-admin-token');

const record = (id: string, department: string) =>
  testRecord(id, department, {
    discharge: '2025-03-06 10:00',
    doctor: `${department}医生`,
    sex: 'male',
    birthDate: '1960-01-01',
    text: '患者否认糖尿病史。',
  });

const finding = (id: string, summary: string) => testFinding(id, `tl.${id}`, summary);

let app: FastifyInstance;

async function ingest(headers: Record<string, string>, payload: unknown) {
  return app.inject({ method: 'POST', url: '/review/api/ingest', headers, payload });
}

beforeAll(async () => {
  app = Fastify();
  await app.register(reviewPlugin, { users });
  await app.ready();
  const a = await ingest(ROOT, {
    tenant: 'hospital-a',
    record: record('r1', '普外科'),
    analysis: { alerts: [], qc: { findings: [finding('f1', '甲院问题')] } },
  });
  expect(a.statusCode, a.body).toBe(200);
  for (const payload of [
    {
      tenant: 'hospital-b',
      record: record('r1', '儿科'),
      analysis: { alerts: [], qc: { findings: [finding('f1', '乙院问题'), finding('f2', '乙院另一问题')] } },
    },
    {
      tenant: 'hospital-b',
      record: record('b-only', '眼科'),
      analysis: { alerts: [], qc: { findings: [finding('f3', '乙院独有')] } },
    },
  ]) {
    const res = await ingest(ROOT, payload);
    expect(res.statusCode, res.body).toBe(200);
  }
});
afterAll(async () => {
  await app?.close();
});

describe('review plugin tenants', () => {
  it('keeps two tenants’ records with the same id apart; a global user sees both', async () => {
    const queue = (await app.inject({ url: '/review/api/queue?limit=200', headers: GROUP })).json();
    expect(queue.total).toBe(4);
    const r1 = queue.items
      .filter((i: { recordId: string }) => i.recordId === 'r1')
      .map((i: { tenant: string; summary: string }) => `${i.tenant}:${i.summary}`)
      .sort();
    expect(r1).toEqual(['hospital-a:甲院问题', 'hospital-b:乙院另一问题', 'hospital-b:乙院问题']);
    expect((await app.inject({ url: '/review/api/facets', headers: GROUP })).json().tenants).toEqual([
      'hospital-a',
      'hospital-b',
    ]);

    // r1 exists in both tenants: the global user must say which one.
    const ambiguous = await app.inject({ url: '/review/api/records/r1', headers: GROUP });
    expect(ambiguous.statusCode).toBe(400);
    expect(ambiguous.json().error.issues[0].path).toEqual(['tenant']);
    const b = (await app.inject({ url: '/review/api/records/r1?tenant=hospital-b', headers: GROUP })).json();
    expect(b).toMatchObject({ tenant: 'hospital-b', meta: { department: '儿科' } });
    expect(b.findings.map((f: { summary: string }) => f.summary).sort()).toEqual([
      '乙院另一问题',
      '乙院问题',
    ]);
    expect(b.audit.every((e: { tenant: string }) => e.tenant === 'hospital-b')).toBe(true);
    // A record id only one tenant holds needs no tenant.
    const only = await app.inject({ url: '/review/api/records/b-only', headers: GROUP });
    expect(only.json()).toMatchObject({ tenant: 'hospital-b' });

    const csv = await app.inject({ url: '/review/api/export.csv', headers: GROUP });
    expect(csv.body).toContain('甲院问题');
    expect(csv.body).toContain('乙院问题');
    expect((await app.inject({ url: '/review/api/dashboard', headers: GROUP })).json().records).toBe(3);
  });

  it('shows a tenant-limited user only its tenant: list, record, export, audit, dashboard', async () => {
    expect((await app.inject({ url: '/review/api/me', headers: A })).json()).toEqual({
      id: 'a-rev',
      name: '甲院质控',
      role: 'reviewer',
      tenants: ['hospital-a'],
    });
    const queue = (await app.inject({ url: '/review/api/queue?limit=200', headers: A })).json();
    expect(queue.items.map((i: { tenant: string; summary: string }) => [i.tenant, i.summary])).toEqual([
      ['hospital-a', '甲院问题'],
    ]);
    const other = (
      await app.inject({ url: '/review/api/queue?tenant=hospital-b&limit=200', headers: A })
    ).json();
    expect(other).toEqual({ items: [], total: 0, nextCursor: null });
    const facets = (await app.inject({ url: '/review/api/facets', headers: A })).json();
    expect(facets).toMatchObject({ tenants: ['hospital-a'], departments: ['普外科'] });

    const own = await app.inject({ url: '/review/api/records/r1', headers: A });
    expect(own.statusCode).toBe(200);
    expect(own.json()).toMatchObject({ tenant: 'hospital-a', meta: { department: '普外科' } });
    // Another tenant's record answers exactly like one that does not exist.
    const hidden = await app.inject({ url: '/review/api/records/b-only', headers: A });
    const missing = await app.inject({ url: '/review/api/records/b-none', headers: A });
    expect(hidden.statusCode).toBe(404);
    expect(missing.statusCode).toBe(404);
    expect(hidden.json().error.message).toBe('病历 b-only 不存在');
    expect(missing.json().error.message).toBe('病历 b-none 不存在');
    expect(
      (await app.inject({ url: '/review/api/records/r1?tenant=hospital-b', headers: A })).statusCode,
    ).toBe(404);

    const csv = await app.inject({ url: '/review/api/export.csv', headers: A });
    const lines = csv.body.split('\r\n').filter(Boolean);
    expect(lines).toHaveLength(2);
    expect(lines[1]).toContain('甲院问题');
    expect(csv.body).not.toContain('乙院');
    expect(
      (await app.inject({ url: '/review/api/export.csv?tenant=hospital-b', headers: A })).body
        .split('\r\n')
        .filter(Boolean),
    ).toHaveLength(1);

    const audit = (await app.inject({ url: '/review/api/audit', headers: A })).json().entries;
    expect(audit.length).toBeGreaterThan(0);
    expect(audit.every((e: { tenant: string }) => e.tenant === 'hospital-a')).toBe(true);
    expect(
      (await app.inject({ url: '/review/api/audit?recordId=b-only', headers: A })).json().entries,
    ).toEqual([]);
    expect(
      (await app.inject({ url: '/review/api/audit?tenant=hospital-b', headers: A })).json().entries,
    ).toEqual([]);

    const dashboard = (await app.inject({ url: '/review/api/dashboard', headers: A })).json();
    expect(dashboard.records).toBe(1);
    expect(dashboard.departmentRates.map((d: { department: string }) => d.department)).toEqual(['普外科']);
    expect(dashboard.statusCounts.reduce((n: number, s: { count: number }) => n + s.count, 0)).toBe(1);
  });

  it('refuses a tenant-limited user’s status changes and comments on another tenant’s findings (404)', async () => {
    const act = (headers: Record<string, string>, key: string, payload: unknown, tenant?: string) =>
      app.inject({
        method: 'POST',
        url: `/review/api/findings/${encodeURIComponent(key)}/actions${tenant ? `?tenant=${tenant}` : ''}`,
        headers,
        payload,
      });
    const onlyB = await act(A, 'b-only:f3', { action: 'confirm' });
    expect(onlyB.statusCode).toBe(404);
    expect(onlyB.json().error.message).toBe('问题 b-only:f3 不存在');
    expect((await act(A, 'r1:f2', { action: 'return', note: '请补充' })).statusCode).toBe(404);
    expect((await act(A, 'r1:f1', { action: 'dismiss', note: '误报' }, 'hospital-b')).statusCode).toBe(404);
    const bView = (
      await app.inject({ url: '/review/api/records/r1?tenant=hospital-b', headers: GROUP })
    ).json();
    expect(bView.findings.every((f: { status: string }) => f.status === 'open')).toBe(true);
    expect(bView.audit.some((e: { userId: string }) => e.userId === 'a-rev')).toBe(false);

    // The same key in the user's own tenant: acted on there only.
    const ok = await act(A, 'r1:f1', { action: 'return', note: '请补充首次病程记录' });
    expect(ok.statusCode, ok.body).toBe(200);
    expect(ok.json()).toMatchObject({ tenant: 'hospital-a', status: 'returned', updatedBy: '甲院质控' });
    const after = (
      await app.inject({ url: '/review/api/records/r1?tenant=hospital-b', headers: GROUP })
    ).json();
    expect(after.findings.find((f: { key: string }) => f.key === 'r1:f1').status).toBe('open');

    // The global user acting on r1:f1 must name the tenant; with it, only that tenant's finding changes.
    expect((await act(GROUP, 'r1:f1', { action: 'confirm' })).statusCode).toBe(400);
    const b = await act(GROUP, 'r1:f1', { action: 'confirm' }, 'hospital-b');
    expect(b.json()).toMatchObject({ tenant: 'hospital-b', status: 'confirmed' });
    const a = (await app.inject({ url: '/review/api/records/r1', headers: A })).json();
    expect(a.findings[0].status).toBe('returned');
  });

  it('files a tenant-limited admin’s ingest and import under its tenant and refuses others', async () => {
    const refused = await ingest(A_ADMIN, {
      tenant: 'hospital-b',
      record: record('r7', '骨科'),
      analysis: { alerts: [] },
    });
    expect(refused.statusCode).toBe(403);
    const filed = await ingest(A_ADMIN, {
      record: record('r7', '骨科'),
      analysis: { alerts: [], qc: { findings: [finding('f7', '甲院新问题')] } },
    });
    expect(filed.json()).toMatchObject({ tenant: 'hospital-a', recordId: 'r7', added: 1 });

    const line = JSON.stringify({
      recordId: 'n1',
      department: '眼科',
      dischargeDate: '2025-05-02',
      ...finding('f9', '导入'),
    });
    const importAs = (headers: Record<string, string>, query = '') =>
      app.inject({
        method: 'POST',
        url: `/review/api/import${query}`,
        headers: { ...headers, 'content-type': 'application/x-ndjson' },
        payload: line,
      });
    expect((await importAs(A_ADMIN, '?tenant=hospital-b')).statusCode).toBe(403);
    expect((await importAs(A_ADMIN)).json()).toEqual({ imported: 1, rejected: 0 });
    expect((await app.inject({ url: '/review/api/records/n1', headers: A })).json().tenant).toBe(
      'hospital-a',
    );
    expect((await importAs(ROOT)).json()).toEqual({ imported: 1, rejected: 0 });
    expect(
      (await app.inject({ url: '/review/api/records/n1?tenant=default', headers: GROUP })).json().tenant,
    ).toBe('default');
    expect((await app.inject({ url: '/review/api/records/n1', headers: GROUP })).statusCode).toBe(400);

    // A tenant-limited admin lists only the users limited to its tenants.
    const listed = (await app.inject({ url: '/review/api/users', headers: A_ADMIN })).json().users;
    expect(listed.map((u: { id: string }) => u.id)).toEqual(['a-rev', 'a-admin']);
    expect((await app.inject({ url: '/review/api/users', headers: ROOT })).json().users).toHaveLength(4);
  });
});

describe('review users file: tenants', () => {
  const dir = mkdtempSync(join(tmpdir(), 'yijian-review-users-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const write = (users: unknown[]) => {
    const file = join(dir, `users-${Math.random().toString(36).slice(2)}.json`);
    writeFileSync(file, JSON.stringify({ users }));
    return file;
  };
  const base = { id: 'zhou', name: '周质控', role: 'reviewer', tokenSha256: hashToken('t') };

  it('reads an optional tenant list and rejects bad ones and unknown keys', () => {
    expect(loadUsersFile(write([{ ...base, tenants: ['hospital-a', 'campus_2'] }]))[0]!.tenants).toEqual([
      'hospital-a',
      'campus_2',
    ]);
    expect(loadUsersFile(write([base]))[0]!.tenants).toBeUndefined();
    expect(() => loadUsersFile(write([{ ...base, tenants: [] }]))).toThrow(/CDSS|tenants/);
    expect(() => loadUsersFile(write([{ ...base, tenants: ['Hospital A'] }]))).toThrow(/tenant id/);
    expect(() => loadUsersFile(write([{ ...base, tenant: 'hospital-a' }]))).toThrow(/tenant/);
    const directory = createUserDirectory([{ ...base, role: 'reviewer', tenants: ['b', 'a', 'b'] }]);
    expect(directory.authenticate('t')).toEqual({
      id: 'zhou',
      name: '周质控',
      role: 'reviewer',
      tenants: ['a', 'b'],
    });
  });
});
