import { describe, expect, it } from 'vitest';
import { aeCommand } from './ae.js';

async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await aeCommand.run(args, {
    out: (t) => (out += t),
    err: (t) => (err += t),
    cwd: process.cwd(),
  });
  return { code, out, err };
}

describe('yijian ae', () => {
  it('detect --json prints the events with category, grade and evidence', async () => {
    const r = await run(['detect', '患者夜间如厕时跌倒，右膝擦伤。', '--json']);
    expect(r.code).toBe(0);
    const events = JSON.parse(r.out);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      category: 'fall',
      grade: 'III',
      evidence: [{ text: '患者夜间如厕时跌倒，右膝擦伤。' }],
    });
  });

  it('prints an empty list for negated text, and usage for a missing argument', async () => {
    expect(JSON.parse((await run(['detect', '预防跌倒', '--json'])).out)).toEqual([]);
    expect((await run(['detect', '无压疮'])).out).toBe('未发现不良事件\n');
    expect((await run(['detect'])).code).toBe(2);
    expect((await run(['nope'])).code).toBe(2);
  });

  it('report prints a structured draft', async () => {
    const r = await run(['report', '3床患者自行拔除胃管']);
    expect(JSON.parse(r.out)).toMatchObject({
      category: 'unplanned-extubation',
      details: { tube: '胃管' },
      bed: '3',
    });
  });
});
