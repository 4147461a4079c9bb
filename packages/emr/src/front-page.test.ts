import { describe, expect, it } from 'vitest';
import { FRONT_PAGE_FIELDS, frontPageField, frontPageSchema } from './front-page.js';

describe('front page', () => {
  it('maps every field path to a unique code', () => {
    const codes = FRONT_PAGE_FIELDS.map((f) => f.code);
    expect(new Set(codes).size).toBe(codes.length);
    expect(frontPageField('medicalRecordNo')?.code).toBe('A48');
    expect(frontPageField('otherDiagnoses[2].code')?.code).toBe('C06x03C');
    expect(frontPageField('procedures[0].surgeon')?.code).toBe('C18x01');
    expect(frontPageField('nope')).toBeUndefined();
  });

  it('covers every schema key', () => {
    const top = Object.keys(frontPageSchema.shape);
    const mapped = new Set(FRONT_PAGE_FIELDS.map((f) => f.path.split(/[.[]/)[0]));
    expect(top.filter((k) => !mapped.has(k))).toEqual([]);
  });

  it('keeps defective values so QC can report them', () => {
    const fp = frontPageSchema.parse({ sex: '7', lengthOfStayDays: -3, idNumber: '123' });
    expect(fp.sex).toBe('7');
  });
});
