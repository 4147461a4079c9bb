import type { QcConfig } from './config.js';
import type { Finding, Grade } from './types.js';

/**
 * Score in the style of common 病历质量评价 schemes: start from 100, deduct each finding's points (one
 * rule takes off at most `maxPerRule`), 甲 ≥ 90, 乙 ≥ 75, else 丙; a veto finding (单项否决, e.g. a missing
 * 死亡记录) makes the record 丙 whatever its score.
 */
export function scoreFindings(
  findings: readonly Finding[],
  config: QcConfig,
): { score: number; grade: Grade } {
  const s = config.scoring;
  const perRule = new Map<string, number>();
  let veto = false;
  for (const f of findings) {
    perRule.set(f.ruleId, (perRule.get(f.ruleId) ?? 0) + f.deduction);
    if (f.veto) veto = true;
  }
  let total = 0;
  for (const d of perRule.values()) total += Math.min(d, s.maxPerRule);
  const score = Math.max(0, Math.round((s.base - total) * 10) / 10);
  const pct = (score / s.base) * 100;
  const grade: Grade = veto ? '丙' : pct >= s.gradeA ? '甲' : pct >= s.gradeB ? '乙' : '丙';
  return { score, grade };
}
