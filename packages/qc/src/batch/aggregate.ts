import { ruleCatalog } from '../catalog.js';
import type { LineResult } from './evaluate-line.js';

type Ok = Extract<LineResult, { ok: true }>;

export interface CountRow {
  key: string;
  label?: string;
  records: number;
  findings: number;
}

/** What the batch report shows; bounded by the number of rules, departments, doctors and months. */
export interface BatchSummary {
  input: string;
  mode: 'front-page' | 'record';
  startedAt: string;
  seconds: number;
  records: number;
  errors: number;
  recordsWithFindings: number;
  findings: number;
  meanScore: number;
  grades: Record<'甲' | '乙' | '丙', number>;
  /** Score histogram in 10-point bins, [0,10) … [90,100]. */
  scoreBins: number[];
  bySeverity: Record<string, number>;
  byCategory: Record<string, number>;
  byRule: (CountRow & { title: string; category: string; severity: string })[];
  byDepartment: CountRow[];
  byDoctor: CountRow[];
  byMonth: CountRow[];
  errorCodes: Record<string, number>;
}

class Counter {
  private readonly map = new Map<string, { records: number; findings: number }>();
  add(key: string, findings: number): void {
    const slot = this.map.get(key) ?? { records: 0, findings: 0 };
    slot.records++;
    slot.findings += findings;
    this.map.set(key, slot);
  }
  addFindings(key: string, n: number): void {
    const slot = this.map.get(key) ?? { records: 0, findings: 0 };
    slot.findings += n;
    this.map.set(key, slot);
  }
  rows(): CountRow[] {
    return [...this.map.entries()].map(([key, v]) => ({ key, ...v }));
  }
}

/** Streaming aggregation of batch results: constant memory in the number of records. */
export class BatchAggregator {
  private records = 0;
  private errors = 0;
  private withFindings = 0;
  private findings = 0;
  private scoreSum = 0;
  private readonly grades = { 甲: 0, 乙: 0, 丙: 0 };
  private readonly bins = new Array<number>(10).fill(0);
  private readonly severity: Record<string, number> = {};
  private readonly category: Record<string, number> = {};
  private readonly rules = new Map<
    string,
    { title: string; category: string; severity: string; records: number; findings: number }
  >();
  private readonly departments = new Counter();
  private readonly doctors = new Counter();
  private readonly months = new Counter();
  private readonly errorCodes: Record<string, number> = {};

  add(r: LineResult): void {
    if (!r.ok) {
      this.errors++;
      this.errorCodes[r.code] = (this.errorCodes[r.code] ?? 0) + 1;
      return;
    }
    this.addOk(r);
  }

  private addOk(r: Ok): void {
    this.records++;
    this.scoreSum += r.score;
    this.grades[r.grade]++;
    this.bins[Math.min(9, Math.floor(r.score / 10))]!++;
    const n = r.findings.length;
    this.findings += n;
    if (n) this.withFindings++;
    this.departments.add(r.department, n);
    this.doctors.add(r.doctor, n);
    this.months.add(r.dischargeDate.slice(0, 7), n);
    const seen = new Set<string>();
    for (const f of r.findings) {
      this.severity[f.severity] = (this.severity[f.severity] ?? 0) + 1;
      this.category[f.category] = (this.category[f.category] ?? 0) + 1;
      const title = ruleCatalog().get(f.ruleId)?.title ?? f.ruleId;
      const slot = this.rules.get(f.ruleId) ?? {
        title,
        category: f.category,
        severity: f.severity,
        records: 0,
        findings: 0,
      };
      slot.findings++;
      if (!seen.has(f.ruleId)) slot.records++;
      seen.add(f.ruleId);
      this.rules.set(f.ruleId, slot);
    }
  }

  summary(meta: {
    input: string;
    mode: 'front-page' | 'record';
    startedAt: string;
    seconds: number;
  }): BatchSummary {
    const byFindings = (a: CountRow, b: CountRow) => b.findings - a.findings || a.key.localeCompare(b.key);
    return {
      ...meta,
      records: this.records,
      errors: this.errors,
      recordsWithFindings: this.withFindings,
      findings: this.findings,
      meanScore: this.records ? Math.round((this.scoreSum / this.records) * 10) / 10 : 0,
      grades: { ...this.grades },
      scoreBins: [...this.bins],
      bySeverity: { ...this.severity },
      byCategory: { ...this.category },
      byRule: [...this.rules.entries()].map(([key, v]) => ({ key, ...v })).sort(byFindings),
      byDepartment: this.departments.rows().sort(byFindings),
      byDoctor: this.doctors.rows().sort(byFindings),
      byMonth: this.months.rows().sort((a, b) => a.key.localeCompare(b.key)),
      errorCodes: { ...this.errorCodes },
    };
  }
}
