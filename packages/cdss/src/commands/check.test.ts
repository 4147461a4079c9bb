import { existsSync } from 'node:fs';
import { defaultGraphDir } from '@yijian/knowledge-graph';
import { describe, expect, it } from 'vitest';
import { checkCommand } from './check.js';

let hasGraph = false;
try {
  hasGraph = existsSync(defaultGraphDir());
} catch {
  hasGraph = false;
}
if (!hasGraph)
  console.warn('[check] default knowledge graph (corpora/kg) not found: yijian check tests skipped');

async function run(args: string[]): Promise<{ code: number; out: string }> {
  let out = '';
  const code = await checkCommand.run(args, { out: (t) => (out += t), err: () => {}, cwd: process.cwd() });
  return { code, out };
}

describe.skipIf(!hasGraph)('yijian check', () => {
  it('prints the alerts of an ad-hoc list as JSON', async () => {
    const { code, out } = await run([
      '--drugs',
      '华法林钠片,拜阿司匹灵,阿莫西林',
      '--allergies',
      '青霉素',
      '--age',
      '72',
      '--sex',
      'M',
      '--json',
    ]);
    expect(code).toBe(0);
    const result = JSON.parse(out) as {
      alerts: { category: string; severity: string; ruleId: string }[];
      unrecognized: string[];
    };
    expect(result.unrecognized).toEqual([]);
    expect(result.alerts.find((a) => a.category === 'drug-drug' && a.severity === 'critical')).toBeDefined();
    expect(result.alerts.find((a) => a.category === 'allergy')?.severity).toBe('critical');
  });

  it('--age-days drives age-conditioned interactions (ceftriaxone + calcium in a neonate)', async () => {
    const alerts = async (extra: string[]) =>
      (
        JSON.parse(
          (await run(['--drugs', '头孢曲松 0.5g ivgtt qd,葡萄糖酸钙 1g ivgtt qd', ...extra, '--json'])).out,
        ) as { alerts: { category: string; severity: string }[] }
      ).alerts.filter((a) => a.category === 'drug-drug');
    expect((await alerts(['--age-days', '12'])).map((a) => a.severity)).toEqual(['critical']);
    expect((await alerts(['--age-days', '200'])).map((a) => a.severity)).toEqual(['info']);
    expect((await alerts(['--age', '40'])).map((a) => a.severity)).toEqual(['info']);
  });

  it('takes conditions, history, labs and eGFR; text output lists the evidence', async () => {
    const { out } = await run([
      '--drugs',
      '二甲双胍 500mg po tid，布洛芬',
      '--history',
      '消化性溃疡',
      '--egfr',
      '25',
      '--labs',
      '血钾=6.5mmol/L',
    ]);
    expect(out).toContain('[严重]');
    expect(out).toContain('二甲双胍');
    expect(out).toContain('危急值');
    expect(out).toContain('既往');
  });

  it('rejects bad input with coded errors', async () => {
    await expect(run(['--drugs', '华法林', '--sex', 'X'])).rejects.toMatchObject({
      code: 'CDSS_ERR_INVALID_REQUEST',
    });
    await expect(run(['--age', '40'])).rejects.toMatchObject({ code: 'CDSS_ERR_INVALID_REQUEST' });
    await expect(run(['--drugs', '华法林', '--egfr', 'abc'])).rejects.toMatchObject({
      code: 'CDSS_ERR_INVALID_REQUEST',
    });
  });
});
