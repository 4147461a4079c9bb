import { CdssError } from '@yijian/emr';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createLexiconTagger } from './lexicon-tagger.js';
import { mergeMentions } from './merge.js';
import type { LexiconEntry, RawMention } from './types.js';

const entries: LexiconEntry[] = [
  { term: '高血压', type: 'disease', conceptId: 'D:HTN' },
  { term: '高血压病', type: 'disease', conceptId: 'D:HTN' },
  { term: '糖尿病', type: 'disease' },
  { term: '2型糖尿病', type: 'disease' },
  { term: 'CT', type: 'imaging' },
  { term: '胸部CT', type: 'imaging' },
  { term: '阿司匹林', type: 'drug' },
  { term: '咳嗽', type: 'symptom' },
];

describe('createLexiconTagger', () => {
  const tagger = createLexiconTagger(entries);

  it('finds the longest term at each position, with offsets into the original text', () => {
    const text = '高血压病10年，2型糖尿病，口服阿司匹林';
    const found = tagger.tag(text) as RawMention[];
    expect(found.map((m) => [m.text, m.type, m.start, m.end])).toEqual([
      ['高血压病', 'disease', 0, 4],
      ['2型糖尿病', 'disease', 8, 13],
      ['阿司匹林', 'drug', 16, 20],
    ]);
    expect(found[0]!.conceptId).toBe('D:HTN');
    expect(found[0]!.source).toBe('lexicon');
    expect(found[0]!.score).toBe(1);
  });

  it('matches through full width, traditional characters and case, reporting the original text', () => {
    const found = tagger.tag('否認高血壓，胸部ｃｔ未見異常') as RawMention[];
    expect(found.map((m) => m.text)).toEqual(['高血壓', '胸部ｃｔ']);
  });

  it('matches ASCII terms only as whole words', () => {
    const found = tagger.tag('PCT 0.5，CT示肺炎，CTA') as RawMention[];
    expect(found.map((m) => [m.text, m.start])).toEqual([['CT', 8]]);
  });

  it('names its source and score from options', () => {
    const t = createLexiconTagger(entries, { name: 'hospital', score: 0.9 });
    const [m] = t.tag('咳嗽') as RawMention[];
    expect(t.name).toBe('lexicon:hospital');
    expect(m!.source).toBe('lexicon:hospital');
    expect(m!.score).toBe(0.9);
  });

  it('rejects bad entries with CDSS_ERR_INVALID_DATA naming the field', () => {
    const bad = [{ term: '咳嗽', type: 'sign' }] as unknown as LexiconEntry[];
    expect(() => createLexiconTagger(bad)).toThrow(CdssError);
    try {
      createLexiconTagger(bad);
    } catch (e) {
      expect((e as CdssError).code).toBe('CDSS_ERR_INVALID_DATA');
      expect((e as CdssError).message).toContain('[0].type');
    }
  });

  it('every span points into the original text and spans never overlap (property)', () => {
    const pieces = [
      '高血压',
      '高血壓',
      '糖尿病',
      'ＣＴ',
      'ct',
      '咳嗽',
      '，',
      ' ',
      '\u3000',
      'x',
      '2型',
      '病',
      '阿司匹林',
    ];
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...pieces), { maxLength: 40 }), (parts) => {
        const text = parts.join('');
        const found = tagger.tag(text) as RawMention[];
        let last = 0;
        for (const m of found) {
          expect(m.start).toBeGreaterThanOrEqual(last);
          expect(m.end).toBeGreaterThan(m.start);
          expect(text.slice(m.start, m.end)).toBe(m.text);
          last = m.end;
        }
      }),
    );
  });
});

describe('mergeMentions', () => {
  const m = (start: number, end: number, type: RawMention['type'], score = 1, source = 'a'): RawMention => ({
    start,
    end,
    type,
    text: 'x'.repeat(end - start),
    score,
    source,
  });

  it('keeps the longer mention, then the higher score, sorted by start', () => {
    const out = mergeMentions([
      m(0, 3, 'disease'),
      m(0, 4, 'disease'),
      m(5, 7, 'drug', 0.5),
      m(5, 7, 'symptom', 0.9),
    ]);
    expect(out.map((x) => [x.start, x.end, x.type])).toEqual([
      [0, 4, 'disease'],
      [5, 7, 'symptom'],
    ]);
  });

  it('does not depend on the order of its input and never returns overlaps (property)', () => {
    const arb = fc.array(
      fc
        .record({
          start: fc.integer({ min: 0, max: 30 }),
          len: fc.integer({ min: 1, max: 6 }),
          type: fc.constantFrom('disease', 'symptom', 'drug' as const),
          score: fc.constantFrom(0.5, 0.9, 1),
          source: fc.constantFrom('lexicon', 'model:x'),
        })
        .map((r) => m(r.start, r.start + r.len, r.type, r.score, r.source)),
      { maxLength: 25 },
    );
    fc.assert(
      fc.property(arb, fc.integer(), (list, seed) => {
        const shuffled = [...list].sort(
          (a, b) => ((a.start * 31 + a.end + seed) % 7) - ((b.start * 31 + b.end + seed) % 7),
        );
        const a = mergeMentions(list);
        const b = mergeMentions(shuffled);
        expect(b).toEqual(a);
        for (let i = 1; i < a.length; i++) expect(a[i]!.start).toBeGreaterThanOrEqual(a[i - 1]!.end);
      }),
    );
  });
});
