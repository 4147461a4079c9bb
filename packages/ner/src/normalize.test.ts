import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createTextFolder, normalizeText } from './normalize.js';
import { parseChineseNumber, parseNumber } from './numbers.js';

describe('normalizeText', () => {
  it('folds full width, odd spaces, dashes, traditional characters and case', () => {
    expect(normalizeText('Ｔ　３８．５℃')).toBe('t 38.5℃');
    expect(normalizeText('否認高血壓病史')).toBe('否认高血压病史');
    expect(normalizeText('尿蛋白（－）')).toBe('尿蛋白(-)');
    expect(normalizeText('a\u00a0b\u200bc')).toBe('a b c');
    expect(normalizeText('IVGTT')).toBe('ivgtt');
  });

  it('keeps case when asked', () => {
    expect(createTextFolder({ lowerCase: false }).fold('ＷＢＣ')).toBe('WBC');
  });

  it('returns the same string object when nothing changes', () => {
    const s = '患者无发热';
    expect(normalizeText(s)).toBe(s);
  });

  it('never changes the length, so every offset carries over (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (s) => {
        const f = normalizeText(s);
        expect(f.length).toBe(s.length);
      }),
    );
  });

  it('folds long texts chunk by chunk', () => {
    const s = 'ＡＢＣ醫院'.repeat(3000);
    expect(normalizeText(s)).toBe('abc医院'.repeat(3000));
  });
});

describe('numbers', () => {
  it('parses Chinese numerals used in doses', () => {
    expect(parseChineseNumber('一')).toBe(1);
    expect(parseChineseNumber('两')).toBe(2);
    expect(parseChineseNumber('半')).toBe(0.5);
    expect(parseChineseNumber('十')).toBe(10);
    expect(parseChineseNumber('十二')).toBe(12);
    expect(parseChineseNumber('二十五')).toBe(25);
    expect(parseChineseNumber('一百零五')).toBe(105);
    expect(parseChineseNumber('一点五')).toBe(1.5);
    expect(parseChineseNumber('片')).toBeUndefined();
  });
  it('parses Arabic numbers and fractions', () => {
    expect(parseNumber('0.25')).toBe(0.25);
    expect(parseNumber('1/2')).toBe(0.5);
    expect(parseNumber('1/0')).toBeUndefined();
    expect(parseNumber('三')).toBe(3);
  });
});
