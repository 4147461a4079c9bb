import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { cardUuids } from './cds-hooks/uuid.js';
import { workerCount, workerExecArgv } from './cluster.js';
import { configFromEnv } from './config.js';
import { openStore, type Store } from './store.js';

const dirs: string[] = [];
const stores: Store[] = [];
afterEach(() => {
  for (const s of stores.splice(0)) s.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** Two connections to one file, as two cluster workers have. */
function twoConnections(): [Store, Store] {
  const dir = mkdtempSync(join(tmpdir(), 'yijian-store-'));
  dirs.push(dir);
  const a = openStore(dir, 'yijian.sqlite');
  const b = openStore(dir, 'yijian.sqlite');
  stores.push(a, b);
  return [a, b];
}

describe('tenant rule settings shared by several processes', () => {
  it('a change through one connection replaces the cached settings of the other', () => {
    const [a, b] = twoConnections();
    expect(b.tenantRules('t1').size).toBe(0); // cached empty
    a.setTenantRule('t1', 'ddi.x', { enabled: false });
    expect(b.tenantRules('t1').get('ddi.x')).toMatchObject({ enabled: false });
    a.setTenantRule('t1', 'ddi.x', { severity: 'info' });
    expect(b.tenantRules('t1').get('ddi.x')).toMatchObject({ enabled: false, severity: 'info' });
    expect(a.clearTenantRule('t1', 'ddi.x')).toBe(true);
    expect(b.tenantRules('t1').size).toBe(0);
    expect(a.clearTenantRule('t1', 'ddi.x')).toBe(false);
  });

  it('keeps the cache when another connection writes only audit rows', () => {
    const [a, b] = twoConnections();
    b.setTenantRule('t1', 'ddi.x', { enabled: false });
    const cached = a.tenantRules('t1');
    b.recordShown({ tenant: 't1', channel: 'rest', endpoint: '/v1/analyze', requestId: 'r1' }, [
      { cardId: 'c1', alertId: 'a1', ruleId: 'ddi.y', ruleVersion: '1', severity: 'warning' },
    ]);
    expect(b.audit('t1')).toHaveLength(1); // flushed
    expect(a.tenantRules('t1')).toBe(cached);
    expect(a.findCard('t1', 'c1')).toMatchObject({ ruleId: 'ddi.y' });
  });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'yijian-store-'));
  dirs.push(dir);
  return dir;
}

const shown = (cardId: string, i: number) => ({
  cardId,
  alertId: `a${i}`,
  ruleId: `ddi.r${i}`,
  ruleVersion: '2',
  severity: 'warning' as const,
});
const cdsAudit = (requestId: string) => ({
  tenant: 't1',
  channel: 'cds-hooks' as const,
  endpoint: 'order-sign',
  requestId,
  patientId: 'p1',
});

describe('audit log', () => {
  it("keeps an answer's cards in one row, each found by its uuid", () => {
    const dir = tempDir();
    const store = openStore(dir, 'yijian.sqlite');
    stores.push(store);
    const first = cardUuids(29);
    const second = cardUuids(3);
    store.recordShown(cdsAudit('r1'), first.map(shown));
    store.recordShown(cdsAudit('r2'), second.map(shown));
    store.recordShown({ tenant: 't1', channel: 'rest', endpoint: '/v1/analyze', requestId: 'r3' }, [
      shown('a1b2c3d4e5f60718', 0),
      shown('0718a1b2c3d4e5f6', 1),
    ]);
    expect(store.findCard('t1', first[17]!)).toMatchObject({
      requestId: 'r1',
      alertId: 'a17',
      ruleId: 'ddi.r17',
    });
    expect(store.findCard('t1', second[2]!)).toMatchObject({
      requestId: 'r2',
      alertId: 'a2',
      patientId: 'p1',
    });
    expect(store.findCard('t1', '0718a1b2c3d4e5f6')).toMatchObject({ requestId: 'r3', alertId: 'a1' });
    // A sibling uuid that was never issued, another tenant: not found.
    expect(store.findCard('t1', `${second[0]!.slice(0, 32)}0003`)).toBeUndefined();
    expect(store.findCard('t2', first[0]!)).toBeUndefined();
    // Newest first, a row per card, as before.
    const log = store.audit('t1', 6);
    expect(log.map((r) => r.cardId)).toEqual([
      '0718a1b2c3d4e5f6',
      'a1b2c3d4e5f60718',
      second[2],
      second[1],
      second[0],
      first[28],
    ]);
    expect(store.audit('t1', 1000)).toHaveLength(34);
    expect(store.audit('t1', 0)).toEqual([]);
    store.close();
    const db = new Database(join(dir, 'yijian.sqlite'), { readonly: true });
    expect(db.prepare('SELECT count(*) FROM alert_answer').pluck().get()).toBe(4); // 2 answers + 2 REST alerts
    db.close();
  });

  it('migrates a store that has a row per card, keeping every card findable and the order', () => {
    const dir = tempDir();
    const db = new Database(join(dir, 'yijian.sqlite'));
    db.exec(`CREATE TABLE alert_audit (
      seq INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, tenant TEXT NOT NULL, channel TEXT NOT NULL,
      endpoint TEXT NOT NULL, request_id TEXT NOT NULL, patient_id TEXT, encounter_id TEXT, hook_instance TEXT,
      card_id TEXT NOT NULL, alert_id TEXT NOT NULL, rule_id TEXT NOT NULL, rule_version TEXT NOT NULL,
      severity TEXT NOT NULL);
      CREATE INDEX alert_audit_card ON alert_audit (tenant, card_id);`);
    const insert = db.prepare(
      `INSERT INTO alert_audit (at, tenant, channel, endpoint, request_id, patient_id, card_id, alert_id, rule_id, rule_version, severity)
       VALUES ('2026-11-28T10:00:00.000Z', 't1', 'cds-hooks', 'order-sign', ?, 'p1', ?, ?, 'ddi.old', '1', 'critical')`,
    );
    const v4 = '3f2504e0-4f89-41d3-9a0c-0305e82c3301';
    const v7 = '019acf3e-1d2c-7a3b-9c4d-5e6f7a8b9c0d'; // made one by one before this change
    insert.run('old1', v4, 'x1');
    insert.run('old2', v7, 'x2');
    db.close();

    const [a, b] = [openStore(dir, 'yijian.sqlite'), openStore(dir, 'yijian.sqlite')];
    stores.push(a, b);
    expect(a.findCard('t1', v4)).toMatchObject({ requestId: 'old1', alertId: 'x1', severity: 'critical' });
    expect(b.findCard('t1', v7)).toMatchObject({ requestId: 'old2', at: '2026-11-28T10:00:00.000Z' });
    a.recordShown(cdsAudit('new'), cardUuids(2).map(shown));
    expect(a.audit('t1').map((r) => r.requestId)).toEqual(['new', 'new', 'old2', 'old1']);
    const check = new Database(join(dir, 'yijian.sqlite'), { readonly: true });
    expect(check.prepare(`SELECT count(*) FROM sqlite_master WHERE name = 'alert_audit'`).pluck().get()).toBe(
      0,
    );
    check.close();
  });
});

describe('audit writer thread', () => {
  it('commits off the request thread: rows survive close, and other connections see them', () => {
    const dir = tempDir();
    const a = openStore(dir, 'yijian.sqlite');
    const b = openStore(dir, 'yijian.sqlite');
    stores.push(b);
    const ids: string[] = [];
    for (let i = 0; i < 700; i++) {
      const cards = cardUuids(3);
      ids.push(cards[1]!);
      a.recordShown(cdsAudit(`r${i}`), cards.map(shown)); // 500 rows start a batch at once
    }
    // Not yet visible to b: rows still queued in a, or committed by a's writer a moment ago.
    a.close(); // lets the writer finish its queue
    expect(b.findCard('t1', ids[699]!)).toMatchObject({ requestId: 'r699', alertId: 'a1' });
    expect(b.audit('t1', 5000)).toHaveLength(2100);
    const db = new Database(join(dir, 'yijian.sqlite'), { readonly: true });
    expect(db.prepare('SELECT count(*) FROM alert_answer').pluck().get()).toBe(700);
    db.close();
  });

  it('reports a batch it cannot commit and does not keep readers waiting', () => {
    const dir = tempDir();
    const errors: [string, number][] = [];
    const store = openStore(dir, 'yijian.sqlite', {
      onWriteError: (message, rows) => errors.push([message, rows]),
    });
    stores.push(store);
    const db = new Database(join(dir, 'yijian.sqlite'));
    db.exec(`CREATE TRIGGER refuse BEFORE INSERT ON alert_answer WHEN NEW.request_id = 'bad'
             BEGIN SELECT RAISE(ABORT, 'refused by the test'); END`);
    const [bad] = cardUuids(1);
    store.recordShown(cdsAudit('bad'), [shown(bad!, 0)]);
    expect(store.findCard('t1', bad!)).toBeUndefined(); // waits for the failed batch, does not hang
    db.exec('DROP TRIGGER refuse');
    db.close();
    const [good] = cardUuids(1);
    store.recordShown(cdsAudit('good'), [shown(good!, 0)]);
    expect(store.findCard('t1', good!)).toMatchObject({ requestId: 'good' });
    // the error message arrives asynchronously
    return new Promise<void>((resolve) => setTimeout(resolve, 50)).then(() =>
      expect(errors).toEqual([['refused by the test', 1]]),
    );
  });
});

describe('WORKERS', () => {
  it('reads a number or auto from the environment, and refuses anything else', () => {
    expect(configFromEnv({}).workers).toBe(1);
    expect(workerCount(configFromEnv({ WORKERS: '3' }))).toBe(3);
    expect(workerCount(configFromEnv({ WORKERS: 'auto' }))).toBeGreaterThanOrEqual(1);
    for (const bad of ['0', '-1', '1.5', 'many'])
      expect(() => configFromEnv({ WORKERS: bad }), bad).toThrow(/WORKERS/);
  });

  it("gives the workers a larger young generation unless node's flags already set one", () => {
    expect(configFromEnv({}).semiSpaceMb).toBe(64);
    expect(configFromEnv({ V8_SEMI_SPACE_MB: '0' }).semiSpaceMb).toBe(0);
    for (const bad of ['-1', '2.5', 'big', '4096'])
      expect(() => configFromEnv({ V8_SEMI_SPACE_MB: bad }), bad).toThrow(/V8_SEMI_SPACE_MB/);
    expect(workerExecArgv(['--enable-source-maps'], undefined, 64)).toEqual([
      '--enable-source-maps',
      '--max-semi-space-size=64',
    ]);
    expect(workerExecArgv([], '', 0)).toEqual([]);
    expect(workerExecArgv(['--max-semi-space-size=32'], undefined, 64)).toEqual(['--max-semi-space-size=32']);
    expect(workerExecArgv([], '--max-old-space-size=4096 --max_semi_space_size=8', 64)).toEqual([]);
  });
});
