import { existsSync, readFileSync } from 'node:fs';
import { CdssError } from '@yijian/emr';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createAnnotator } from './annotator.js';
import { createLexiconTagger } from './lexicon-tagger.js';
import type { Annotation, LexiconEntry, RawMention, Tagger } from './types.js';

const lexicon: LexiconEntry[] = [
  { term: '高血压', type: 'disease' },
  { term: '糖尿病', type: 'disease' },
  { term: '发热', type: 'symptom' },
  { term: '咳嗽', type: 'symptom' },
  { term: '阿司匹林', type: 'drug' },
  { term: '血钾', type: 'lab' },
];

/** Every span of an annotation points into the original text. */
function checkSpans(a: Annotation): void {
  const { text } = a;
  for (const m of a.mentions) {
    expect(m.start).toBeGreaterThanOrEqual(0);
    expect(m.end).toBeLessThanOrEqual(text.length);
    expect(text.slice(m.start, m.end)).toBe(m.text);
    const t = m.assertion.trigger;
    if (t) expect(text.slice(t.start, t.end)).toBe(t.text);
    if (m.assertion.scope) expect(m.assertion.scope.end).toBeLessThanOrEqual(text.length);
  }
  for (const s of a.sections) {
    expect(text.slice(s.header.start, s.header.end)).toBe(s.header.text);
    expect(s.start).toBeLessThanOrEqual(s.header.start);
    expect(s.end).toBeLessThanOrEqual(text.length);
  }
  for (const v of a.vitals) expect(text.slice(v.start, v.end)).toBe(v.text);
}

describe('createAnnotator', () => {
  it('runs sync and async taggers and merges their overlapping mentions deterministically', async () => {
    const model: Tagger = {
      name: 'model:test',
      // An async tagger that finds a longer span (高血压病) and a competing shorter one.
      tag: async (text: string): Promise<RawMention[]> => {
        const i = text.indexOf('高血压病');
        return i < 0
          ? []
          : [{ start: i, end: i + 4, type: 'disease', text: '高血压病', score: 0.8, source: 'model:test' }];
      },
    };
    const a = createAnnotator({ taggers: [createLexiconTagger(lexicon), model] });
    const b = createAnnotator({ taggers: [model, createLexiconTagger(lexicon)] });
    const text = '否认高血压病，无发热。';
    const ra = await a.annotate(text);
    const rb = await b.annotate(text);
    expect(ra).toEqual(rb);
    expect(ra.mentions.map((m) => [m.text, m.source, m.assertion.status])).toEqual([
      ['高血压病', 'model:test', 'negated'],
      ['发热', 'lexicon', 'negated'],
    ]);
  });

  it('drops mentions inside section headers and out-of-range spans', () => {
    const a = createAnnotator({ taggers: [] });
    const text = '现病史：咳嗽';
    const r = a.annotateMentions(text, [
      { start: 0, end: 3, type: 'disease', text: '现病史', score: 1, source: 'x' },
      { start: 4, end: 6, type: 'symptom', text: '咳嗽', score: 1, source: 'x' },
      { start: 5, end: 99, type: 'symptom', text: '?', score: 1, source: 'x' },
    ]);
    expect(r.mentions.map((m) => m.text)).toEqual(['咳嗽']);
    expect(r.mentions[0]!.section).toBe('现病史');
  });

  it('gives the full annotation shape', async () => {
    const a = createAnnotator({ taggers: [createLexiconTagger(lexicon)] });
    const r = await a.annotate('既往史：高血压。\n查体：T 38.5℃。血钾 6.2mmol/L↑，阿司匹林 100mg qd。');
    expect(r.sections.map((s) => s.name)).toEqual(['既往史', '体格检查']);
    expect(r.vitals).toEqual([
      { kind: 'temperature', value: 38.5, unit: '°C', start: 12, end: 19, text: 'T 38.5℃' },
    ]);
    expect(r.mentions).toMatchObject([
      {
        text: '高血压',
        section: '既往史',
        assertion: { status: 'historical', trigger: { rule: 'section:既往史' } },
      },
      {
        text: '血钾',
        section: '体格检查',
        assertion: { status: 'present' },
        attributes: { value: 6.2, unit: 'mmol/L', flag: 'H' },
      },
      { text: '阿司匹林', attributes: { dose: 100, unit: 'mg', frequency: 'qd' } },
    ]);
    checkSpans(r);
  });

  it('rejects bad options with coded errors', async () => {
    expect(() => createAnnotator({} as never)).toThrow(CdssError);
    expect(() => createAnnotator({ taggers: [{ name: 'x' } as never] })).toThrow(/taggers\[0\]/);
    expect(() => createAnnotator({ taggers: [], resource: {} } as never)).toThrow(/resource/);
    expect(() => createAnnotator({ taggers: [], resources: { extraSection: [] } } as never)).toThrow(
      /extraSection/,
    );
    await expect(createAnnotator({ taggers: [] }).annotate(42 as never)).rejects.toThrow(CdssError);
  });

  it('every output span points into the original text, whatever the text (property)', async () => {
    const a = createAnnotator({ taggers: [createLexiconTagger(lexicon)] });
    const pieces = [
      '否认',
      '高血压',
      '高血壓',
      '、',
      '糖尿病',
      '病史',
      '，',
      '。',
      '\n',
      '既往史：',
      '家族史',
      '：',
      '无',
      '发热',
      '發熱',
      'Ｔ　３８．５℃',
      'BP 150/95mmHg',
      '阿司匹林',
      '１００ｍｇ',
      'qd',
      '血钾',
      '6.2mmol/L↑',
      '待排',
      '？',
      '(-)',
      ' ',
      '\u3000',
      '母亲',
      '如',
      '但',
    ];
    await fc.assert(
      fc.asyncProperty(fc.array(fc.constantFrom(...pieces), { maxLength: 30 }), async (parts) => {
        checkSpans(await a.annotate(parts.join('')));
      }),
      { numRuns: 200 },
    );
  });
});

const sharedDir = process.env.YIJIAN_SHARED_DIR ?? new URL('../../../../shared/', import.meta.url).pathname;
const casesFile = `${sharedDir.replace(/\/?$/, '/')}unlabeled/cmb_clin_cases.txt`;
const hasShared = existsSync(casesFile);
if (!hasShared) console.warn(`[ner] ${casesFile} not found: skipping the real-text offset check`);

describe.skipIf(!hasShared)('real clinical text from ../shared (not committed)', () => {
  it('annotates real case texts with every span inside the original text', async () => {
    const text = readFileSync(casesFile, 'utf8').slice(0, 200_000);
    const a = createAnnotator({ taggers: [createLexiconTagger(lexicon)] });
    const r = await a.annotate(text);
    expect(r.mentions.length).toBeGreaterThan(50);
    expect(r.vitals.length).toBeGreaterThan(5);
    checkSpans(r);
  });
});
