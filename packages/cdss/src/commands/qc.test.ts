import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateCcMccFixtures } from '@yijian/qc';
import { afterAll, describe, expect, it } from 'vitest';
import { qcCommand } from './qc.js';

const RULE = 'fp.secondary.cc-mcc-missing';
const demoTable = fileURLToPath(new URL('../../../qc/resources/demo-cc-mcc.csv', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'yijian-qc-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function run(args: string[]): Promise<{ code: number; out: string }> {
  let out = '';
  const code = await qcCommand.run(args, { out: (t) => (out += t), err: () => {}, cwd: tmp });
  return { code, out };
}

const fixtures = generateCcMccFixtures();
const positive = fixtures.find((f) => f.defect === 'lab.potassium.below')!;
const negative = fixtures.find((f) => f.defect === 'negative.potassium.at-threshold')!;

describe('yijian qc --cc-mcc-table', () => {
  it('qc record reports a CC/MCC-relevant secondary diagnosis only when a table is given', async () => {
    writeFileSync(join(tmp, 'r.json'), JSON.stringify(positive.record));
    const ids = (out: string) =>
      (JSON.parse(out) as { findings: { ruleId: string }[] }).findings.map((f) => f.ruleId);
    expect(ids((await run(['record', 'r.json', '--front-page-only', '--json'])).out)).not.toContain(RULE);
    const withTable = await run([
      'record',
      'r.json',
      '--front-page-only',
      '--cc-mcc-table',
      demoTable,
      '--json',
    ]);
    expect(withTable.code).toBe(0);
    expect(ids(withTable.out)).toContain(RULE);
    const text = await run(['record', 'r.json', '--cc-mcc-table', demoTable]);
    expect(text.out).toContain('E87.600 低钾血症为CC');
  });

  it('qc record fails with CDSS_ERR_IO on a missing table file', async () => {
    writeFileSync(join(tmp, 'r.json'), JSON.stringify(positive.record));
    await expect(run(['record', 'r.json', '--cc-mcc-table', 'missing.csv'])).rejects.toMatchObject({
      code: 'CDSS_ERR_IO',
    });
  });

  it('qc batch passes the table to the evaluator', async () => {
    writeFileSync(
      join(tmp, 'in.ndjson'),
      `${JSON.stringify(positive.record)}\n${JSON.stringify(negative.record)}\n`,
    );
    const { code } = await run([
      'batch',
      'in.ndjson',
      '--out',
      'out',
      '--front-page-only',
      '--workers',
      '0',
      '--quiet',
      '--cc-mcc-table',
      demoTable,
    ]);
    expect(code).toBe(0);
    const lines = readFileSync(join(tmp, 'out', 'findings.ndjson'), 'utf8')
      .trim()
      .split('\n')
      .filter(Boolean);
    const hits = lines.map((l) => JSON.parse(l) as { ruleId: string; recordId: string });
    expect(hits.map((h) => [h.recordId, h.ruleId])).toEqual([[positive.record.id, RULE]]);
  });
});
