import type { Alert, Evidence, Severity, Suggestion } from '@yijian/rules';

/**
 * Finding shapes. A finding is an alert of @yijian/rules (same fields, same meaning, so CDS Hooks cards and
 * the review page treat both alike) plus the points it deducts from the record's score.
 */

export type { Evidence, Severity, Suggestion };

export type QcCategory = 'front-page' | 'timeliness' | 'completeness' | 'consistency';

/**
 * One QC defect. `ruleId` names its clause (`fp.id-number.checksum`); field evidence carries
 * `data: { path, fieldCode, label, value }` with the official 病案首页 field code.
 */
export interface Finding extends Alert {
  category: QcCategory;
  /** Points this finding takes off the record's score (0–100 scale). */
  deduction: number;
  /** A veto item (单项否决): the record cannot grade above 丙 while it stands. */
  veto?: boolean;
}

export type Grade = '甲' | '乙' | '丙';

export interface QcResult {
  recordId: string;
  findings: Finding[];
  score: number;
  grade: Grade;
}
