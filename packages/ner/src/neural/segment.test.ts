import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { normalizeForModel } from './normalize.js';
import { segmentText } from './segment.js';

describe('segmentText', () => {
  it('packs sentences into chunks no longer than maxLength', () => {
    const text = '患者头痛。无发热；咳嗽三天！';
    expect(segmentText(text, 100)).toEqual([{ start: 0, end: text.length }]);
    expect(segmentText(text, 6)).toEqual([
      { start: 0, end: 5 },
      { start: 5, end: 9 },
      { start: 9, end: 14 },
    ]);
  });

  it('cuts a long sentence after a comma, else hard', () => {
    const text = '甲乙丙，丁戊己庚辛';
    expect(segmentText(text, 5)).toEqual([
      { start: 0, end: 4 },
      { start: 4, end: 9 },
    ]);
    expect(segmentText('一二三四五六七', 3).map((c) => c.end - c.start)).toEqual([3, 3, 1]);
  });

  it('returns nothing for empty text and rejects a bad maxLength', () => {
    expect(segmentText('', 10)).toEqual([]);
    expect(() => segmentText('abc', 0)).toThrow(RangeError);
  });

  it('tiles the text exactly, in order, within the limit (property)', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: fc.constantFrom('病', '痛', '，', '。', '\n', 'a', ' ', '；') }),
        fc.integer({ min: 1, max: 20 }),
        (text, max) => {
          const chunks = segmentText(text, max);
          let pos = 0;
          for (const c of chunks) {
            if (c.start !== pos || c.end <= c.start || c.end - c.start > max) return false;
            pos = c.end;
          }
          return pos === text.length;
        },
      ),
    );
  });
});

describe('normalizeForModel', () => {
  it('keeps the length and folds width, case and digits', () => {
    const text = 'ＣＴ示　肝脏１２ｃｍ，AbC９';
    const norm = normalizeForModel(text);
    expect(norm.length).toBe(text.length);
    expect(norm).toBe('ct示 肝脏00cm,abc0');
  });

  it('preserves length for any string (property)', () => {
    fc.assert(
      fc.property(
        fc.string({
          unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)),
          maxLength: 64,
        }),
        (s) => normalizeForModel(s).length === s.length,
      ),
    );
  });
});
