import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { setBits } from './fixture-model.test-helpers.js';
import { normalizeForModel } from './normalize.js';
import {
  createWordCutter,
  installedJiebaVersion,
  JIEBA_PACKAGE,
  loadJieba,
  WORD_FEATURE_DIM,
  WordFeaturizer,
} from './word-features.js';

const spec = {
  segmenter: 'jieba' as const,
  package: JIEBA_PACKAGE,
  version: installedJiebaVersion(),
  hmm: true,
};

/** [position, bit] of every set feature. */
const bits = (f: Float32Array) => setBits(f, WORD_FEATURE_DIM);

describe('WordFeaturizer', () => {
  it('marks B/M/E/S of each word a cutter returns', () => {
    const f = new WordFeaturizer(() => ['患者', '因', '糖尿病']);
    expect(f.letters('患者因糖尿病')).toBe('BESBME');
    expect(bits(f.features('患者因糖尿病'))).toEqual([
      [0, 0],
      [1, 2],
      [2, 3],
      [3, 0],
      [4, 1],
      [5, 2],
    ]);
  });

  it('segments only the chunk [start, end) and writes from the offset', () => {
    const seen: string[] = [];
    const f = new WordFeaturizer((t) => {
      seen.push(t);
      return [t.slice(0, 2), t.slice(2)];
    });
    const out = new Float32Array(2 + 4 * WORD_FEATURE_DIM);
    f.fill('xx头孢曲松yy', 2, 6, out, 2);
    expect(seen).toEqual(['头孢曲松']);
    expect(bits(out.subarray(2))).toEqual([
      [0, 0],
      [1, 2],
      [2, 0],
      [3, 2],
    ]);
    expect(out[0]).toBe(0);
    expect(out[1]).toBe(0);
  });

  it('falls back to S for every character when the words do not add up to the text', () => {
    const f = new WordFeaturizer(() => ['患者']);
    expect(f.letters('患者因')).toBe('SSS');
  });

  it('with jieba: keeps words and numbers whole on the normalised text', () => {
    const f = new WordFeaturizer(createWordCutter(spec));
    const norm = normalizeForModel('患者因2型糖尿病口服二甲双胍，诉头痛。');
    expect(norm.slice(3, 4)).toBe('0');
    // 患者|因|0|型|糖尿病|口服|二甲|双|胍|，|诉|头痛|。
    expect(f.letters(norm)).toBe('BESSSBMEBEBESSSSBES');
    expect(f.letters(normalizeForModel('血红蛋白12.5g/L'))).toMatch(/^[BME]+/);
    expect(f.letters('00.0')).toBe('BMME');
  });

  it('with jieba: exactly one bit per code unit for any text, lone surrogates and line breaks included', () => {
    const f = new WordFeaturizer(createWordCutter(spec));
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary', maxLength: 60 }),
        fc.string({ unit: 'grapheme', maxLength: 60 }),
        (a, b) => {
          for (const text of [a, b, `${a}\r\n${b}`]) {
            const feats = f.features(text);
            expect(feats.length).toBe(text.length * WORD_FEATURE_DIM);
            for (let i = 0; i < text.length; i++) {
              let sum = 0;
              for (let k = 0; k < WORD_FEATURE_DIM; k++) sum += feats[i * WORD_FEATURE_DIM + k]!;
              expect(sum).toBe(1);
            }
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('shares one jieba instance and refuses another version or segmenter', () => {
    expect(loadJieba()).toBe(loadJieba());
    expect(() => createWordCutter({ ...spec, version: '0.0.1' })).toThrow(
      expect.objectContaining({ code: 'CDSS_ERR_MODEL' }),
    );
    expect(() => createWordCutter({ ...spec, package: 'nodejieba' })).toThrow(
      expect.objectContaining({ code: 'CDSS_ERR_MODEL' }),
    );
  });

  it('with and without HMM differ only where jieba guesses unknown words', () => {
    const hmm = new WordFeaturizer(createWordCutter(spec));
    const plain = new WordFeaturizer(createWordCutter({ ...spec, hmm: false }));
    expect(hmm.letters('00.0')).toBe('BMME');
    expect(plain.letters('00.0')).not.toBe('BMME');
    expect(plain.letters('糖尿病')).toBe('BME');
  });
});
