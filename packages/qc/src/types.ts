/**
 * Finding shapes. A finding is an alert of the rules package (same fields, same meaning, so CDS Hooks
 * cards and the review page treat both alike) plus the points it deducts from the record's score.
 */

export type Severity = 'info' | 'warning' | 'critical';

export type QcCategory = 'front-page' | 'timeliness' | 'completeness' | 'consistency';

export interface Evidence {
  kind: 'order' | 'diagnosis' | 'allergy' | 'lab' | 'vital' | 'text' | 'field' | 'graph' | 'patient';
  /** Order/lab/document id, or a field path such as `frontPage.otherDiagnoses[1].code`. */
  ref?: string;
  text: string;
  documentId?: string;
  span?: { start: number; end: number };
  /** Graph path (knowledge-graph PathStep[]) when the evidence came through the graph. */
  path?: { from: { id: string; name: string }; type: string; to: { id: string; name: string } }[];
  /** For `field` evidence: `{ path, fieldCode, label, value }` with the official 病案首页 field code. */
  data?: Record<string, unknown>;
}

export interface Suggestion {
  label: string;
  actions: { type: 'create' | 'update' | 'delete'; description: string; resourceId?: string }[];
}

export interface Finding {
  /** Deterministic: the same record, rule and evidence give the same id. */
  id: string;
  /** Names the clause, e.g. `fp.id-number.checksum`. */
  ruleId: string;
  ruleVersion: string;
  category: QcCategory;
  severity: Severity;
  /** Chinese, at most 140 characters. */
  summary: string;
  /** Chinese markdown: what was found, the clause, what to fix. */
  detail: string;
  evidence: Evidence[];
  suggestions: Suggestion[];
  source: { label: string; url?: string };
  suppressionKey: string;
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
