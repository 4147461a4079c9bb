import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hashToken } from './auth.js';
import { runReviewCli } from './cli.js';
import { createReviewStore } from './store.js';

const dir = mkdtempSync(join(tmpdir(), 'yijian-review-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(args: string[]) {
  let out = '';
  let err = '';
  return runReviewCli(args, { out: (t) => (out += t), err: (t) => (err += t) }).then((code) => ({
    code,
    out,
    err,
  }));
}

describe('yijian-review CLI', () => {
  it('imports qc batch findings.ndjson into a store file', async () => {
    const finding = (i: number) =>
      JSON.stringify({
        recordId: `R${i % 3}`,
        department: '骨科',
        doctor: '钱某某',
        dischargeDate: '2025-06-0' + (1 + (i % 3)),
        id: `f${i}`,
        ruleId: 'tl.operation-record',
        ruleVersion: '1.0.0',
        category: 'timeliness',
        severity: 'critical',
        summary: '手术记录超过24小时完成',
        detail: '',
        evidence: [],
        suggestions: [],
        source: { label: '病历书写基本规范' },
        suppressionKey: `k${i}`,
      });
    const file = join(dir, 'findings.ndjson');
    writeFileSync(file, `${Array.from({ length: 12 }, (_, i) => finding(i)).join('\n')}\n{broken\n`);
    const db = join(dir, 'review.sqlite');
    const result = await run(['import', file, '--db', db]);
    expect(result).toMatchObject({ code: 0, out: 'imported 12 findings, rejected 1 lines\n' });
    const store = createReviewStore({ file: db });
    expect(store.queue({ department: '骨科' }).total).toBe(12);
    expect(store.audit({ recordId: 'R0' })[0]).toMatchObject({ action: 'ingest', userId: 'system' });
    store.close();

    // The same file under a campus's tenant: separate records, the default tenant's stay as they were.
    expect(await run(['import', file, '--db', db, '--tenant', 'campus-east'])).toMatchObject({ code: 0 });
    const again = createReviewStore({ file: db });
    expect(again.queue({ tenant: 'campus-east' }).total).toBe(12);
    expect(again.queue({ tenant: 'default' }).total).toBe(12);
    expect(again.tenantsOfRecord('R0')).toEqual(['campus-east', 'default']);
    again.close();
    expect(await run(['import', file, '--db', db, '--tenant', 'Campus East'])).toMatchObject({
      code: 1,
      err: expect.stringContaining('CDSS_ERR_INVALID_REQUEST'),
    });
  });

  it('hashes tokens, explains usage and refuses missing arguments', async () => {
    expect((await run(['hash-token', 'abc'])).out.trim()).toBe(hashToken('abc'));
    expect((await run(['--help'])).out).toContain('yijian-review import');
    expect(await run(['import', join(dir, 'missing.ndjson'), '--db', join(dir, 'x.sqlite')])).toMatchObject({
      code: 2,
    });
    expect((await run(['serve', '--db', join(dir, 'x.sqlite')])).err).toContain('--users');
    expect((await run(['frobnicate', '--db', 'x'])).code).toBe(2);
  });
});
