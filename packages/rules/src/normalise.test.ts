import { describe, expect, it } from 'vitest';
import { foldText, routeKind, timesPerDay, toMg } from './normalise.js';

describe('foldText', () => {
  it('turns full-width ASCII half-width and drops every kind of space', () => {
    expect(foldText('ＡＢＣ１２３ｍｇ')).toBe('ABC123mg');
    expect(foldText(' 阿司匹林\u3000肠溶片 \t')).toBe('阿司匹林肠溶片');
    expect(foldText('（华法林）')).toBe('(华法林)');
  });
  it('returns text that needs nothing unchanged', () => {
    expect(foldText('华法林钠片')).toBe('华法林钠片');
    expect(foldText('')).toBe('');
  });
});

describe('timesPerDay', () => {
  it('reads abbreviations, Chinese phrasing and q<N>h', () => {
    expect(timesPerDay('bid')).toBe(2);
    expect(timesPerDay('ＴＩＤ')).toBe(3);
    expect(timesPerDay('q6h')).toBe(4);
    expect(timesPerDay('每日3次')).toBe(3);
    expect(timesPerDay('每8小时一次')).toBe(3);
    expect(timesPerDay('qw')).toBeCloseTo(1 / 7);
    expect(timesPerDay('prn')).toBeUndefined();
  });
  it('does not take inherited object keys for frequencies', () => {
    for (const f of ['constructor', 'toString', '__proto__', 'hasOwnProperty'])
      expect(timesPerDay(f)).toBeUndefined();
  });
});

describe('routes and units', () => {
  it('normalises written routes and converts amounts to mg', () => {
    expect(routeKind('ivgtt')).toBe('iv');
    expect(routeKind('口 服')).toBe('oral');
    expect(toMg(0.5, 'ｇ')).toBe(500);
    expect(toMg(250, 'μg')).toBe(0.25);
  });
});
