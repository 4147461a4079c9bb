import { describe, expect, it } from 'vitest';
import { type LexiconFeatureFile, LexiconFeaturizer } from './lexicon-features.js';
import { normalizeForModel } from './normalize.js';

const file: LexiconFeatureFile = {
  source: 'test',
  features: 'BMES',
  types: ['disease', 'drug', 'anatomy'],
  terms: {
    disease: ['糖尿病', '2型糖尿病', '肺炎'],
    drug: ['二甲双胍', 'ＣＴ'],
    anatomy: ['肺', '肺炎'],
  },
};

/** Set bits as `position:type:BMES` strings. */
function bits(f: LexiconFeaturizer, text: string): string[] {
  const out = f.features(normalizeForModel(text));
  const names: string[] = [];
  for (let i = 0; i < text.length; i++)
    for (let j = 0; j < f.dim; j++)
      if (out[i * f.dim + j] === 1) names.push(`${i}:${f.types[Math.floor(j / 4)]}:${'BMES'[j % 4]}`);
  return names;
}

describe('LexiconFeaturizer', () => {
  it('sets B/M/E/S of every match, overlapping and nested ones included', () => {
    const f = new LexiconFeaturizer(file);
    expect(f.dim).toBe(12);
    // 2型糖尿病 (0-5) and 糖尿病 (2-5) both match; digits are folded to 0 on both sides.
    expect(bits(f, '2型糖尿病')).toEqual([
      '0:disease:B',
      '1:disease:M',
      '2:disease:B',
      '2:disease:M',
      '3:disease:M',
      '4:disease:E',
    ]);
  });

  it('gives a term listed under two types both groups, and single characters S', () => {
    const f = new LexiconFeaturizer(file);
    expect(bits(f, '右肺炎')).toEqual([
      '1:disease:B',
      '1:anatomy:B',
      '1:anatomy:S',
      '2:disease:E',
      '2:anatomy:E',
    ]);
  });

  it('matches full-width terms against half-width text (same normalisation as the model input)', () => {
    const f = new LexiconFeaturizer(file);
    expect(bits(f, '行CT')).toEqual(['1:drug:B', '2:drug:E']);
    expect(bits(f, '无异常')).toEqual([]);
  });

  it('matches only inside the requested span and writes at the offset', () => {
    const f = new LexiconFeaturizer(file);
    const norm = '二甲双胍。肺炎';
    const out = new Float32Array(3 * f.dim + 5);
    // span [2, 5) = 双胍。: 二甲双胍 starts outside it, so nothing matches
    f.fill(norm, 2, 5, out, 5);
    expect(out.every((x) => x === 0)).toBe(true);
    const whole = f.fill(norm, 5, 7, new Float32Array(2 * f.dim));
    expect([...whole.keys()].filter((k) => whole[k] === 1)).toEqual([
      0, // 肺 disease B (肺炎)
      8, // 肺 anatomy B (肺炎)
      11, // 肺 anatomy S (肺)
      12 + 2, // 炎 disease E
      12 + 10, // 炎 anatomy E
    ]);
  });

  it('rejects a file whose types lack their term list', () => {
    expect(() => new LexiconFeaturizer({ ...file, types: ['disease', 'lab'] })).toThrowError(/lab/);
  });
});
