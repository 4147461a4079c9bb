import { describe, expect, it } from 'vitest';
import { kgCommand } from './kg.js';

async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await kgCommand.run(args, {
    out: (t) => (out += t),
    err: (t) => (err += t),
    cwd: process.cwd(),
  });
  return { code, out, err };
}

describe('yijian kg', () => {
  it('links a mention and prints JSON with match kind and score', async () => {
    const r = await run(['link', '头孢曲松钠注射剂 1g', '--type', 'drug', '--json']);
    expect(r.code).toBe(0);
    const json = JSON.parse(r.out);
    expect(json.linked).toBe(true);
    expect(json.candidates[0]).toMatchObject({
      conceptId: 'drug:ceftriaxone',
      kind: 'Drug',
      matchKind: 'normalised',
    });
  });

  it('prints unlinked mentions instead of dropping them', async () => {
    const r = await run(['link', '房颤', '完全不存在']);
    expect(r.out).toContain('房颤\tdisease:I48\t心房颤动');
    expect(r.out).toContain('完全不存在\t(unlinked)');
  });

  it('prints counts per node kind and relation type', async () => {
    const r = await run(['stats', '--json']);
    const s = JSON.parse(r.out);
    expect(s.nodes.Drug).toBeGreaterThanOrEqual(600);
    expect(s.edges.INTERACTS_WITH).toBeGreaterThanOrEqual(400);
  });

  it('rejects an unknown type and a missing --neo4j', async () => {
    await expect(run(['link', 'x', '--type', 'planet'])).rejects.toThrow(/--type/);
    await expect(run(['push'])).rejects.toThrow(/--neo4j/);
    expect((await run(['nope'])).code).toBe(2);
  });
});
