import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { workerCount } from './cluster.js';
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

describe('WORKERS', () => {
  it('reads a number or auto from the environment, and refuses anything else', () => {
    expect(configFromEnv({}).workers).toBe(1);
    expect(workerCount(configFromEnv({ WORKERS: '3' }))).toBe(3);
    expect(workerCount(configFromEnv({ WORKERS: 'auto' }))).toBeGreaterThanOrEqual(1);
    for (const bad of ['0', '-1', '1.5', 'many'])
      expect(() => configFromEnv({ WORKERS: bad }), bad).toThrow(/WORKERS/);
  });
});
