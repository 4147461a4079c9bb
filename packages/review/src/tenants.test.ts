import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { testFinding, testRecord } from './records.test-helpers.js';
import { createReviewStore } from './store.js';

/** Tenant isolation in the store: records are identified by (tenant, record id). */

const record = (id: string, department: string, doctor?: string) =>
  testRecord(id, department, doctor ? { doctor } : {});

const finding = (id: string, ruleId: string, summary?: string) => testFinding(id, ruleId, summary);

const reviewer = { id: 'li', name: '李审核', role: 'reviewer' as const };

describe('review store tenants', () => {
  it('keeps the same record id of two tenants apart: records, findings, status, audit', () => {
    const store = createReviewStore({ file: ':memory:' });
    const a = store.ingestAnalysis(
      record('r1', '普外科', '甲医生'),
      { alerts: [], qc: { findings: [finding('f1', 'tl.a', '甲院问题')] } },
      { tenant: 'hospital-a' },
    );
    const b = store.ingestAnalysis(
      record('r1', '儿科', '乙医生'),
      { alerts: [], qc: { findings: [finding('f1', 'tl.b', '乙院问题'), finding('f2', 'tl.c')] } },
      { tenant: 'hospital-b' },
    );
    expect(a).toEqual({ tenant: 'hospital-a', recordId: 'r1', added: 1, updated: 0, resolved: 0 });
    // The second tenant's ingest adds its own findings; it neither updates nor resolves tenant A's.
    expect(b).toEqual({ tenant: 'hospital-b', recordId: 'r1', added: 2, updated: 0, resolved: 0 });

    expect(store.record('r1', 'hospital-a')).toMatchObject({
      tenant: 'hospital-a',
      meta: { department: '普外科', doctor: '甲医生' },
    });
    expect(store.record('r1', 'hospital-b')!.meta.department).toBe('儿科');
    expect(store.record('r1')).toBeUndefined();
    expect(store.findingsOf('r1', 'hospital-a').map((f) => f.summary)).toEqual(['甲院问题']);
    expect(store.findingsOf('r1', 'hospital-b')).toHaveLength(2);
    expect(store.tenantsOfRecord('r1')).toEqual(['hospital-a', 'hospital-b']);
    expect(store.tenantsOfRecord('r1', { tenants: ['hospital-b'] })).toEqual(['hospital-b']);
    expect(store.tenantsOfFinding('r1:f1', { tenants: ['hospital-a', 'x'] })).toEqual(['hospital-a']);

    // Acting on tenant B's finding leaves tenant A's finding with the same key untouched.
    store.act('r1:f1', { action: 'confirm', user: reviewer, tenant: 'hospital-b' });
    expect(store.finding('r1:f1', 'hospital-b')!.status).toBe('confirmed');
    expect(store.finding('r1:f1', 'hospital-a')!.status).toBe('open');
    expect(() => store.act('r1:f2', { action: 'confirm', user: reviewer, tenant: 'hospital-a' })).toThrow(
      /does not exist/,
    );

    // Re-ingesting tenant A without f1 resolves only tenant A's f1.
    const again = store.ingestAnalysis(
      record('r1', '普外科', '甲医生'),
      { alerts: [], qc: { findings: [] } },
      { tenant: 'hospital-a' },
    );
    expect(again.resolved).toBe(1);
    expect(store.finding('r1:f1', 'hospital-a')!.status).toBe('resolved');
    expect(store.finding('r1:f1', 'hospital-b')!.status).toBe('confirmed');

    // Queue, export rows, audit, facets and dashboard follow the scope.
    expect(store.queue({ limit: 200 }).total).toBe(3);
    expect(store.queue({ tenants: ['hospital-a'] }).items.map((i) => [i.tenant, i.summary])).toEqual([
      ['hospital-a', '甲院问题'],
    ]);
    expect(store.queue({ tenants: [] }).total).toBe(0);
    expect(store.queue({ tenants: ['hospital-a', 'hospital-b'], tenant: 'hospital-b' }).total).toBe(2);
    expect([...store.iterate({ tenants: ['hospital-b'] })].every((i) => i.tenant === 'hospital-b')).toBe(
      true,
    );
    const trailA = store.audit({ recordId: 'r1', tenants: ['hospital-a'] });
    expect(trailA.length).toBeGreaterThan(0);
    expect(trailA.every((e) => e.tenant === 'hospital-a')).toBe(true);
    expect(store.audit({ tenants: ['hospital-b'] }).some((e) => e.action === 'confirm')).toBe(true);
    expect(store.audit({ tenants: ['hospital-a'] }).some((e) => e.action === 'confirm')).toBe(false);
    expect(store.facets({ tenants: ['hospital-a'] })).toMatchObject({
      tenants: ['hospital-a'],
      departments: ['普外科'],
      doctors: ['甲医生'],
    });
    expect(store.facets().tenants).toEqual(['hospital-a', 'hospital-b']);
    expect(store.dashboard().records).toBe(2);
    expect(store.dashboard({ tenants: ['hospital-b'] })).toMatchObject({
      records: 1,
      departmentRates: [{ department: '儿科' }],
    });
    expect(store.dashboard({ tenants: [] }).records).toBe(0);
    store.close();
  });

  it('imports batch NDJSON under a tenant and refuses malformed tenant ids', () => {
    const store = createReviewStore({ file: ':memory:' });
    const line = JSON.stringify({
      recordId: 'b1',
      department: '眼科',
      dischargeDate: '2025-05-02',
      ...finding('f1', 'fp.name'),
    });
    expect(store.importFindingsNdjson([line], { tenant: 'campus-east' })).toEqual({
      imported: 1,
      rejected: 0,
    });
    expect(store.importFindingsNdjson([line])).toEqual({ imported: 1, rejected: 0 });
    expect(store.tenantsOfRecord('b1')).toEqual(['campus-east', 'default']);
    expect(store.audit({ tenant: 'campus-east' })[0]).toMatchObject({ action: 'ingest', recordId: 'b1' });
    expect(() => store.importFindingsNdjson([line], { tenant: 'Bad Tenant' })).toThrow(/Invalid tenant id/);
    expect(() => store.ingestAnalysis(record('r9', '儿科'), { alerts: [] }, { tenant: '../etc' })).toThrow(
      /Invalid tenant id/,
    );
    store.close();
  });
});

/** The schema before tenants, as @yijian/review 0.1.0 wrote it (records keyed by id alone). */
const OLD_SCHEMA = `
CREATE TABLE records (
  id TEXT PRIMARY KEY, department TEXT NOT NULL, doctor TEXT NOT NULL, discharge_date TEXT NOT NULL,
  record_json TEXT, mentions_json TEXT, ingested_at TEXT NOT NULL
);
CREATE INDEX records_date ON records (discharge_date);
CREATE INDEX records_dept_date ON records (department, discharge_date);
CREATE TABLE findings (
  seq INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE, record_id TEXT NOT NULL REFERENCES records (id),
  department TEXT NOT NULL, doctor TEXT NOT NULL, discharge_date TEXT NOT NULL, source TEXT NOT NULL,
  rule_id TEXT NOT NULL, rule_version TEXT NOT NULL, category TEXT NOT NULL, severity TEXT NOT NULL,
  severity_rank INTEGER NOT NULL, summary TEXT NOT NULL, grade TEXT, finding_json TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'open', status_note TEXT, created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
  updated_by TEXT
);
CREATE INDEX findings_record ON findings (record_id, source);
CREATE INDEX findings_status_date ON findings (status, discharge_date);
CREATE TABLE audit (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, user_id TEXT NOT NULL, user_name TEXT NOT NULL,
  role TEXT NOT NULL, action TEXT NOT NULL, finding_key TEXT, record_id TEXT NOT NULL, from_status TEXT,
  to_status TEXT, note TEXT
);
CREATE INDEX audit_record ON audit (record_id, seq);
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN SELECT RAISE(ABORT, 'audit trail is append-only'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit BEGIN SELECT RAISE(ABORT, 'audit trail is append-only'); END;
`;

describe('review store migration', () => {
  const dir = mkdtempSync(join(tmpdir(), 'yijian-review-migrate-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('puts the rows of a database written before tenants under tenant default', () => {
    const file = join(dir, 'old.sqlite');
    const old = new Database(file);
    old.pragma('journal_mode = WAL');
    old.exec(OLD_SCHEMA);
    old
      .prepare(
        `INSERT INTO records VALUES ('old-1', '心内科', '钱某', '2024-12-30', ?, '[]', '2025-01-01T00:00:00.000Z')`,
      )
      .run(JSON.stringify(record('old-1', '心内科')));
    old
      .prepare(
        `INSERT INTO findings (key, record_id, department, doctor, discharge_date, source, rule_id, rule_version,
          category, severity, severity_rank, summary, finding_json, status, status_note, created_at, updated_at, updated_by)
         VALUES ('old-1:f1', 'old-1', '心内科', '钱某', '2024-12-30', 'qc', 'tl.a', '1.0.0', 'timeliness', 'warning', 1,
          '旧问题', ?, 'dismissed', '已核实', '2025-01-01T00:00:00.000Z', '2025-01-02T00:00:00.000Z', '李审核')`,
      )
      .run(JSON.stringify(finding('f1', 'tl.a', '旧问题')));
    old
      .prepare(
        `INSERT INTO audit (at, user_id, user_name, role, action, finding_key, record_id, from_status, to_status, note)
         VALUES ('2025-01-02T00:00:00.000Z', 'li', '李审核', 'reviewer', 'dismiss', 'old-1:f1', 'old-1', 'open',
          'dismissed', '已核实')`,
      )
      .run();
    expect(old.pragma('user_version', { simple: true })).toBe(0);
    old.close();

    const store = createReviewStore({ file });
    expect(store.db.pragma('user_version', { simple: true })).toBe(1);
    expect(store.record('old-1')).toMatchObject({
      tenant: 'default',
      meta: { id: 'old-1', department: '心内科' },
    });
    expect(store.record('old-1')!.record!.id).toBe('old-1');
    expect(store.finding('old-1:f1')).toMatchObject({
      tenant: 'default',
      status: 'dismissed',
      statusNote: '已核实',
      summary: '旧问题',
    });
    expect(store.audit({ recordId: 'old-1' })).toEqual([
      expect.objectContaining({ tenant: 'default', action: 'dismiss', note: '已核实' }),
    ]);
    // The audit trail is still append-only after the migration.
    expect(() => store.db.prepare('UPDATE audit SET note = ?').run('x')).toThrow(/append-only/);
    expect(() => store.db.prepare('DELETE FROM audit').run()).toThrow(/append-only/);
    // The migrated store takes the same record id from another tenant without touching the old one.
    store.ingestAnalysis(
      record('old-1', '儿科'),
      { alerts: [], qc: { findings: [] } },
      { tenant: 'campus-b' },
    );
    expect(store.tenantsOfRecord('old-1')).toEqual(['campus-b', 'default']);
    expect(store.finding('old-1:f1')!.status).toBe('dismissed');
    const indexes = (
      store.db
        .prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'findings'")
        .all() as {
        name: string;
      }[]
    ).map((r) => r.name);
    expect(indexes).toEqual(expect.arrayContaining(['findings_record', 'findings_tenant_status_date']));
    store.close();

    // Opening again is a no-op: nothing is migrated twice.
    const reopened = createReviewStore({ file });
    expect(reopened.tenantsOfRecord('old-1')).toEqual(['campus-b', 'default']);
    expect(reopened.queue({ tenant: 'default' }).items.map((i) => i.key)).toEqual(['old-1:f1']);
    reopened.close();
  });
});
