import { describe, expect, it } from 'vitest';
import { evaluateNer, type GoldDocument, parseGoldJsonl } from './evaluate.js';

const gold: GoldDocument[] = [
  {
    text: '患者因直肠癌行直肠癌根治术。',
    entities: [
      { start: 3, end: 6, type: '疾病和诊断' },
      { start: 7, end: 13, type: '手术' },
    ],
  },
  { text: '口服阿司匹林，腹痛。', entities: [{ start: 2, end: 6, type: '药物' }] },
];

describe('evaluateNer', () => {
  it('scores strictly by span and type, per type and micro', async () => {
    const predictions: Record<string, { start: number; end: number; type: string }[]> = {
      [gold[0]!.text]: [
        { start: 3, end: 6, type: 'disease' }, // tp
        { start: 7, end: 12, type: 'operation' }, // wrong boundary
      ],
      [gold[1]!.text]: [
        { start: 2, end: 6, type: 'disease' }, // wrong type
        { start: 7, end: 9, type: 'symptom' }, // not scored in ccks2019
      ],
    };
    const r = await evaluateNer(gold, (t) => predictions[t] ?? [], 'ccks2019');
    expect(r.documents).toBe(2);
    expect(r.chars).toBe(gold[0]!.text.length + gold[1]!.text.length);
    expect(r.perType.disease).toMatchObject({ tp: 1, predicted: 2, gold: 1, precision: 0.5, recall: 1 });
    expect(r.perType.operation).toMatchObject({ tp: 0, predicted: 1, gold: 1, f1: 0 });
    expect(r.perType.drug).toMatchObject({ tp: 0, predicted: 0, gold: 1, recall: 0 });
    expect(r.perType.symptom).toBeUndefined();
    expect(r.micro).toMatchObject({ tp: 1, predicted: 3, gold: 3 });
    expect(r.micro.f1).toBeCloseTo(1 / 3, 10);
  });

  it('uses predictMany in batches when given', async () => {
    const calls: number[] = [];
    const r = await evaluateNer(gold, () => [], 'ccks2019', {
      batchSize: 1,
      predictMany: async (texts) => {
        calls.push(texts.length);
        return texts.map((t) => (t === gold[1]!.text ? [{ start: 2, end: 6, type: 'drug' }] : []));
      },
    });
    expect(calls).toEqual([1, 1]);
    expect(r.perType.drug!.f1).toBe(1);
  });
});

describe('parseGoldJsonl', () => {
  it('reads the corpora format and rejects bad lines with a coded error', () => {
    const line = JSON.stringify({
      id: 'x',
      text: '高血压',
      entities: [{ start: 0, end: 3, type: '疾病和诊断', text: '高血压' }],
    });
    expect(parseGoldJsonl(`${line}\n\n`)).toEqual([
      { id: 'x', text: '高血压', entities: [{ start: 0, end: 3, type: '疾病和诊断' }] },
    ]);
    expect(() => parseGoldJsonl('{')).toThrow(expect.objectContaining({ code: 'CDSS_ERR_INVALID_JSON' }));
    const bad = JSON.stringify({ text: 'ab', entities: [{ start: 1, end: 5, type: 'x' }] });
    expect(() => parseGoldJsonl(bad)).toThrow(expect.objectContaining({ code: 'CDSS_ERR_INVALID_DATA' }));
  });
});
