import { describe, expect, it } from 'vitest';
import { idCheckCharacter, parseIdNumber } from './id-number.js';

describe('GB 11643 identity numbers', () => {
  it('computes the MOD 11-2 check character of the standard example', () => {
    // GB 11643-1999 appendix example: 11010519491231002X.
    expect(idCheckCharacter('11010519491231002')).toBe('X');
    expect(parseIdNumber('11010519491231002X')).toMatchObject({
      checksumValid: true,
      birthDate: '1949-12-31',
      sex: 'female',
      provinceValid: true,
    });
  });

  it('accepts a lower-case x and reports a wrong check character with the expected one', () => {
    expect(parseIdNumber('11010519491231002x').checksumValid).toBe(true);
    const bad = parseIdNumber('110105194912310021');
    expect(bad.checksumValid).toBe(false);
    expect(bad.expectedCheck).toBe('X');
  });

  it('reads the sex from the 17th digit and the birth date, flagging impossible dates', () => {
    const first17 = '44010619800230011';
    const info = parseIdNumber(first17 + idCheckCharacter(first17));
    expect(info.sex).toBe('male');
    expect(info.birthDateReal).toBe(false);
  });

  it('handles old 15-digit numbers (19YY, last digit sex, no check character)', () => {
    expect(parseIdNumber('110105491231002')).toMatchObject({
      wellFormed: true,
      checksumValid: true,
      birthDate: '1949-12-31',
      sex: 'female',
    });
  });

  it('rejects malformed numbers and unknown provinces', () => {
    expect(parseIdNumber('1101051949123100').wellFormed).toBe(false);
    expect(parseIdNumber('11010519491231002Y').wellFormed).toBe(false);
    const first17 = '99010519491231002';
    expect(parseIdNumber(first17 + idCheckCharacter(first17)).provinceValid).toBe(false);
  });
});
