import { describe, expect, it } from 'vitest';
import { ageInYears, daysBetweenDates, hoursBetween, localDate, toEpochMs } from './time.js';

describe('clinical time', () => {
  it('reads local times as China Standard Time', () => {
    expect(toEpochMs('2024-03-01 08:00')).toBe(Date.parse('2024-03-01T00:00:00Z'));
    expect(toEpochMs('2024-03-01T08:00:00+08:00')).toBe(Date.parse('2024-03-01T00:00:00Z'));
    expect(toEpochMs('2024-03-01T00:00:00Z')).toBe(Date.parse('2024-03-01T00:00:00Z'));
    expect(Number.isNaN(toEpochMs('yesterday'))).toBe(true);
  });

  it('computes hours, dates and ages', () => {
    expect(hoursBetween('2024-03-01 08:00', '2024-03-01 17:30')).toBe(9.5);
    expect(localDate('2024-03-01T23:30:00Z')).toBe('2024-03-02');
    expect(daysBetweenDates('2024-02-28 23:00', '2024-03-01 01:00')).toBe(2);
    expect(ageInYears('1956-04-12', '2024-04-11 10:00')).toBe(67);
    expect(ageInYears('1956-04-12', '2024-04-12 10:00')).toBe(68);
  });
});
