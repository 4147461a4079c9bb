import { describe, expect, it } from 'vitest';
import { parseReport } from './report.js';

describe('parseReport', () => {
  it('turns a free-text report into a structured draft', () => {
    const d = parseReport('2025-03-04 05:20 神经内科12床患者如厕时跌倒，右额部裂伤约2cm，予清创缝合。');
    expect(d).toMatchObject({
      category: 'fall',
      label: '跌倒/坠床',
      grade: 'II',
      occurredAt: '2025-03-04 05:20',
      department: '神经内科',
      bed: '12',
      details: { fallType: '跌倒', harm: '中度' },
      missing: [],
      alternatives: [],
    });
    expect(d.evidence[0]!.trigger!.text).toBe('跌倒');
  });

  it('names what is missing and keeps other categories as alternatives', () => {
    const d = parseReport('患者躁动坠床后胃管脱出。');
    expect(d.category).toBe('fall');
    expect(d.alternatives).toEqual(['unplanned-extubation']);
    expect(d.missing).toEqual(expect.arrayContaining(['发生时间', '科室/病区', '床号', '伤害程度']));
    const m = parseReport('骨科病区：护士给3床患者误输了5床的头孢呋辛，患者无不适。');
    expect(m).toMatchObject({ category: 'medication-error', grade: 'III', department: '骨科病区', bed: '3' });
    expect(m.details).toMatchObject({ errorType: 'wrong-patient', drug: '头孢呋辛' });
  });

  it('returns a draft without a category when none is recognised, and refuses empty text', () => {
    const d = parseReport('今天病房里有点乱');
    expect(d.category).toBeUndefined();
    expect(d.missing).toContain('事件类别');
    expect(() => parseReport('  ')).toThrow(expect.objectContaining({ code: 'CDSS_ERR_INVALID_REQUEST' }));
  });
});
