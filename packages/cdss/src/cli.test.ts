import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { main } from './cli.js';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../../../', import.meta.url));
const bin = `${root}packages/cdss/dist/bin.js`;
const sample = `${root}corpora/samples/cardiology-01.json`;

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, ctx: { out: (t: string) => out.push(t), err: (t: string) => err.push(t), cwd: root } };
}

describe('yijian CLI', () => {
  it('prints help and refuses unknown commands', async () => {
    const c = capture();
    expect(await main(['--help'], c.ctx)).toBe(0);
    expect(c.out.join('')).toContain('analyze');
    const d = capture();
    expect(await main(['frobnicate'], d.ctx)).toBe(2);
    expect(d.err.join('')).toContain('unknown command');
  });

  it('reports a coded error for a missing file and for malformed JSON', async () => {
    const c = capture();
    expect(await main(['analyze', '/nonexistent/record.json'], c.ctx)).toBe(1);
    expect(c.err.join('')).toContain('CDSS_ERR_IO');
    const d = capture();
    expect(await main(['analyze', `${root}package.json`], d.ctx)).toBe(1);
    expect(d.err.join('')).toContain('CDSS_ERR_INVALID_RECORD');
  });

  it.skipIf(!existsSync(bin) || !existsSync(sample))(
    'analyze prints the warfarin + aspirin alert as JSON',
    async () => {
      const { stdout } = await run('node', [bin, 'analyze', sample, '--compact'], {
        cwd: root,
        maxBuffer: 64 * 1024 * 1024,
      });
      const result = JSON.parse(stdout) as {
        alerts: { category: string; summary: string; evidence: { ref?: string }[] }[];
        mentions: unknown[];
      };
      const ddi = result.alerts.find(
        (a) => a.category === 'drug-drug' && a.summary.includes('华法林') && a.summary.includes('阿司匹林'),
      );
      expect(ddi).toBeDefined();
      expect(ddi!.evidence.map((e) => e.ref)).toEqual(expect.arrayContaining(['med-1', 'med-3']));
      expect(result.mentions.length).toBeGreaterThan(0);
    },
    60_000,
  );
});
