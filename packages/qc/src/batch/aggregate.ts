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

type Slot = { records: number; findings: number };
type RuleSlot = { title: string; category: string; severity: string; records: number; findings: number };

/** An aggregator's counts as plain data: what a worker thread posts back to be merged. */
export interface AggregateState {
  records: number;
  errors: number;
  withFindings: number;
  findings: number;
  scoreSum: number;
  grades: Record<'甲' | '乙' | '丙', number>;
  bins: number[];
  severity: Record<string, number>;
  category: Record<string, number>;
  rules: [string, RuleSlot][];
  departments: [string, Slot][];
  doctors: [string, Slot][];
  months: [string, Slot][];
  errorCodes: Record<string, number>;
}

function addCounts(into: Record<string, number>, from: Record<string, number>): void {
  for (const [k, v] of Object.entries(from)) into[k] = (into[k] ?? 0) + v;
}

class Counter {
  readonly map = new Map<string, Slot>();
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
  merge(entries: [string, Slot][]): void {
    for (const [key, v] of entries) {
      const slot = this.map.get(key) ?? { records: 0, findings: 0 };
      slot.records += v.records;
      slot.findings += v.findings;
      this.map.set(key, slot);
    }
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

  /** The counts as plain data (for posting between threads). */
  state(): AggregateState {
    return {
      records: this.records,
      errors: this.errors,
      withFindings: this.withFindings,
      findings: this.findings,
      scoreSum: this.scoreSum,
      grades: { ...this.grades },
      bins: [...this.bins],
      severity: { ...this.severity },
      category: { ...this.category },
      rules: [...this.rules.entries()],
      departments: [...this.departments.map.entries()],
      doctors: [...this.doctors.map.entries()],
      months: [...this.months.map.entries()],
      errorCodes: { ...this.errorCodes },
    };
  }

  /** Add another aggregator's counts (a worker thread's share of the records). */
  merge(s: AggregateState): void {
    this.records += s.records;
    this.errors += s.errors;
    this.withFindings += s.withFindings;
    this.findings += s.findings;
    this.scoreSum += s.scoreSum;
    for (const g of ['甲', '乙', '丙'] as const) this.grades[g] += s.grades[g];
    s.bins.forEach((n, i) => {
      this.bins[i]! += n;
    });
    addCounts(this.severity, s.severity);
    addCounts(this.category, s.category);
    addCounts(this.errorCodes, s.errorCodes);
    for (const [key, v] of s.rules) {
      const slot = this.rules.get(key);
      if (slot) {
        slot.records += v.records;
        slot.findings += v.findings;
      } else this.rules.set(key, { ...v });
    }
    this.departments.merge(s.departments);
    this.doctors.merge(s.doctors);
    this.months.merge(s.months);
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
