import { describe, expect, it } from 'vitest';
import { loadDefaultGraph } from './default-graph.js';
import { createLinker } from './linker.js';
import { editDistance, normaliseTerm, termVariants, toSimplified } from './normalise.js';

const linker = createLinker(loadDefaultGraph());
const top = (text: string, kind?: Parameters<typeof linker.link>[1] extends infer O ? O : never) =>
  linker.link(text, kind as { kind?: never })?.candidates[0];

describe('normalisation', () => {
  it('folds width, case, traditional characters, punctuation and numerals', () => {
    expect(normaliseTerm('ＡＳＡ')).toBe('asa');
    expect(normaliseTerm('華法林（鈉）')).toBe('华法林钠');
    expect(normaliseTerm('Ⅱ型糖尿病')).toBe('2型糖尿病');
    expect(normaliseTerm('二型糖尿病')).toBe('2型糖尿病');
    expect(normaliseTerm(' 慢 阻 肺 ')).toBe('慢阻肺');
    expect(toSimplified('醫藥')).toBe('医药');
  });

  it('strips strength, dosage form and salt words in order', () => {
    expect(termVariants('注射用头孢曲松钠')).toEqual(['注射用头孢曲松钠', '头孢曲松钠', '头孢曲松']);
    expect(termVariants('盐酸胺碘酮片')).toContain('胺碘酮');
    expect(termVariants('阿司匹林肠溶片100mg')).toContain('阿司匹林');
  });

  it('computes edit distance with transpositions', () => {
    expect(editDistance('阿司匹林', '阿斯匹林')).toBe(1);
    expect(editDistance('ab', 'ba')).toBe(1);
    expect(editDistance('abc', 'xyz', 1)).toBe(2);
  });
});

describe('linker', () => {
  it('links exact names, synonyms and abbreviations with their match kind', () => {
    expect(top('华法林')).toMatchObject({ conceptId: 'drug:warfarin', matchKind: 'exact', score: 1 });
    expect(top('波立维')).toMatchObject({ conceptId: 'drug:clopidogrel', matchKind: 'synonym' });
    expect(top('慢阻肺')).toMatchObject({ name: '慢性阻塞性肺疾病', matchKind: 'synonym' });
    expect(top('COPD')).toMatchObject({ name: '慢性阻塞性肺疾病', matchKind: 'abbreviation' });
    expect(top('ckd')).toMatchObject({ name: '慢性肾脏病', matchKind: 'abbreviation' });
  });

  it('links salts, dosage forms, full width and traditional spellings after normalisation', () => {
    expect(top('注射用头孢曲松钠 1g')).toMatchObject({ conceptId: 'drug:ceftriaxone' });
    expect(top('盐酸胺碘酮胶囊')).toMatchObject({ conceptId: 'drug:amiodarone', matchKind: 'normalised' });
    expect(top('華法林鈉片')).toMatchObject({ conceptId: 'drug:warfarin' });
    expect(top('氯吡格雷（波立维）')).toMatchObject({ conceptId: 'drug:clopidogrel' });
    expect(top('Ⅱ型糖尿病')).toMatchObject({ name: '2型糖尿病' });
  });

  it('links typos by fuzzy matching, under a threshold', () => {
    expect(top('阿斯匹林')).toMatchObject({ conceptId: 'drug:aspirin' });
    expect(top('阿莫西临')).toMatchObject({ conceptId: 'drug:amoxicillin', matchKind: 'fuzzy' });
    const c = top('阿莫西临')!;
    expect(c.score).toBeLessThan(0.9);
  });

  it('applies the type constraint', () => {
    const r = linker.link('青霉素', { kind: 'DrugClass' });
    expect(r.candidates.every((c) => c.kind === 'DrugClass')).toBe(true);
    expect(linker.link('房颤', { kind: 'Drug' }).linked).toBe(false);
  });

  it('returns unlinked mentions instead of dropping them', () => {
    const r = linker.link('完全不存在的东西');
    expect(r).toEqual({ text: '完全不存在的东西', linked: false, candidates: [] });
  });

  it('rejects bad options', () => {
    expect(() => createLinker(loadDefaultGraph(), { fuzzyThreshold: 2 })).toThrow(/linker options/);
  });
});
