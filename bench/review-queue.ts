/**
 * Review-queue benchmark: the queue API over real HTTP with 100k findings in a file-backed store.
 *
 *   pnpm bench:review [-- --findings 100000 --runs 40 --json]
 *
 * 1. Import: `findings` synthetic findings (25 departments, 300 doctors, 80 rules, four QC categories
 *    plus CDSS and adverse events, three severities, 24 months of discharges) through
 *    `importFindingsNdjson`, the path of `yijian qc batch` output. Prints findings/s.
 * 2. Review actions: 10% of the findings get a status through `store.act` (one transaction and one
 *    audit row each). Prints actions/s.
 * 3. Queue: `GET /review/api/queue` over loopback HTTP (fastify, zod validation, token check,
 *    serialisation included) for 14 filter/sort/page scenarios, `runs` requests each with random
 *    filter values. Prints median and p95 per scenario and over all requests (target p95 < 100 ms).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createReviewApp, createReviewStore, hashToken } from '../packages/review/dist/index.js';

const { values } = parseArgs({
  options: {
    findings: { type: 'string', default: '100000' },
    runs: { type: 'string', default: '40' },
    json: { type: 'boolean', default: false },
    /** Keep the store in this file (for EXPLAIN QUERY PLAN) instead of a temporary directory. */
    db: { type: 'string' },
  },
});
const N = Number(values.findings);
const RUNS = Number(values.runs);

// Deterministic pseudo-random numbers (mulberry32).
let seed = 20250601;
function rand(): number {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
/** Skewed pick: early items are much more frequent (as real rule hit counts are). */
const pickSkewed = <T>(xs: readonly T[]): T => xs[Math.floor(rand() ** 2.2 * xs.length)]!;

const DEPARTMENTS = Array.from({ length: 25 }, (_, i) => `科室${String(i + 1).padStart(2, '0')}`);
const DOCTORS = Array.from({ length: 300 }, (_, i) => `医生${String(i + 1).padStart(3, '0')}`);
const CATEGORIES = ['front-page', 'timeliness', 'completeness', 'consistency', 'drug-drug', 'adverse-event'];
const RULES = Array.from({ length: 80 }, (_, i) => ({
  id: `rule.${String(i).padStart(2, '0')}`,
  category: CATEGORIES[i % CATEGORIES.length]!,
}));
const SEVERITIES = ['info', 'warning', 'critical'] as const;
const MONTHS = Array.from(
  { length: 24 },
  (_, i) => `${2024 + Math.floor(i / 12)}-${String((i % 12) + 1).padStart(2, '0')}`,
);

const keys: string[] = [];
function* lines(): Generator<string> {
  let record = 0;
  let left = 0;
  let meta = { recordId: '', department: '', doctor: '', dischargeDate: '' };
  for (let i = 0; i < N; i++) {
    if (left === 0) {
      record++;
      left = 1 + Math.floor(rand() * 7);
      const department = pick(DEPARTMENTS);
      meta = {
        recordId: `R${String(record).padStart(7, '0')}`,
        department,
        doctor: DOCTORS[(DEPARTMENTS.indexOf(department) * 12 + Math.floor(rand() * 12)) % DOCTORS.length]!,
        dischargeDate: `${pick(MONTHS)}-${String(1 + Math.floor(rand() * 28)).padStart(2, '0')}`,
      };
    }
    left--;
    const rule = pickSkewed(RULES);
    keys.push(`${meta.recordId}:f${i}`);
    yield JSON.stringify({
      ...meta,
      id: `f${i}`,
      ruleId: rule.id,
      ruleVersion: '1.0.0',
      category: rule.category,
      severity: pick(SEVERITIES),
      summary: `合成问题 ${rule.id}：病历 ${meta.recordId} 的第 ${i} 条发现`,
      detail: '基准测试数据',
      evidence: [{ kind: 'field', ref: 'frontPage.name', text: '姓名', data: { path: 'frontPage.name' } }],
      suggestions: [],
      source: { label: 'bench' },
      suppressionKey: `${rule.id}:${meta.recordId}`,
      ...(rule.category === 'adverse-event'
        ? { adverseEvent: { grade: pick(['I', 'II', 'III', 'IV']) } }
        : {}),
    });
  }
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}
const ms = (x: number) => Math.round(x * 100) / 100;

const dir = mkdtempSync(join(tmpdir(), 'yijian-review-bench-'));
const store = createReviewStore({ file: values.db ?? join(dir, 'review.sqlite') });
try {
  let t = performance.now();
  const imported = store.importFindingsNdjson(lines());
  const importMs = performance.now() - t;

  const reviewer = { id: 'bench', name: '基准审核员', role: 'reviewer' as const };
  const actions: [string, string | undefined][] = [
    ['confirm', undefined],
    ['dismiss', '基准：误报'],
    ['resolve', undefined],
    ['return', '基准：请补充'],
  ];
  const acted = Math.floor(N * 0.1);
  t = performance.now();
  for (let i = 0; i < acted; i++) {
    const key = pick(keys);
    const [action, note] = pick(actions);
    try {
      store.act(key, { action: action as 'confirm', user: reviewer, ...(note ? { note } : {}) });
    } catch {
      // already handled: an invalid transition, as in real use
    }
  }
  const actMs = performance.now() - t;
  store.analyze();

  const app = await createReviewApp({
    store,
    users: [{ id: 'bench', name: '基准审核员', role: 'reviewer', tokenSha256: hashToken('bench-token') }],
  });
  const base = await app.listen({ host: '127.0.0.1', port: 0 });
  const headers = { authorization: 'Bearer bench-token' };
  const get = async (query: Record<string, string>) => {
    const started = performance.now();
    const res = await fetch(`${base}/review/api/queue?${new URLSearchParams(query)}`, { headers });
    const body = (await res.json()) as { total: number; nextCursor: string | null; items: unknown[] };
    const elapsed = performance.now() - started;
    if (!res.ok) throw new Error(`HTTP ${res.status}: ${JSON.stringify(body)}`);
    return { elapsed, body };
  };
  const month = () => pick(MONTHS);
  const scenarios: [string, () => Record<string, string>][] = [
    ['no filter, by discharge date', () => ({})],
    ['status=open', () => ({ status: 'open' })],
    ['department', () => ({ department: pick(DEPARTMENTS) })],
    ['department + status=open', () => ({ department: pick(DEPARTMENTS), status: 'open' })],
    ['doctor', () => ({ doctor: pick(DOCTORS) })],
    ['rule + status=open', () => ({ ruleId: pick(RULES).id, status: 'open' })],
    ['category + severity=critical', () => ({ category: pick(CATEGORIES), severity: 'critical' })],
    [
      'date range (one month)',
      () => {
        const m = month();
        return { from: `${m}-01`, to: `${m}-31` };
      },
    ],
    [
      'department + date range + open',
      () => {
        const m = month();
        return { department: pick(DEPARTMENTS), status: 'open', from: `${m}-01`, to: `${m}-31` };
      },
    ],
    ['status=open, sort by severity', () => ({ status: 'open', sort: 'severity' })],
    ['sort by department asc', () => ({ sort: 'department', order: 'asc' })],
    ['status=open, sort by rule', () => ({ status: 'open', sort: 'ruleId', order: 'asc' })],
    [
      'all seven filters',
      () => ({
        department: pick(DEPARTMENTS),
        category: pick(CATEGORIES),
        severity: pick(SEVERITIES),
        status: 'open',
        source: 'qc',
        from: '2024-01-01',
        to: '2025-12-31',
        doctor: pick(DOCTORS),
      }),
    ],
    ['page 10 via keyset cursor (status=open)', () => ({ status: 'open' })],
  ];
  // Warm-up.
  for (let i = 0; i < 20; i++) await get({ status: 'open' });

  const results: { scenario: string; median: number; p95: number; max: number; meanTotal: number }[] = [];
  const all: number[] = [];
  for (const [name, params] of scenarios) {
    const times: number[] = [];
    let totals = 0;
    for (let r = 0; r < RUNS; r++) {
      const q = { ...params(), limit: '50' };
      if (name.startsWith('page 10')) {
        let cursor: string | null = null;
        for (let p = 0; p < 10; p++) {
          const { elapsed, body } = await get(cursor ? { ...q, cursor } : q);
          if (p === 9) {
            times.push(elapsed);
            totals += body.total;
          }
          cursor = body.nextCursor;
          if (!cursor) break;
        }
        continue;
      }
      const { elapsed, body } = await get(q);
      times.push(elapsed);
      totals += body.total;
    }
    times.sort((a, b) => a - b);
    all.push(...times);
    results.push({
      scenario: name,
      median: ms(quantile(times, 0.5)),
      p95: ms(quantile(times, 0.95)),
      max: ms(times.at(-1)!),
      meanTotal: Math.round(totals / RUNS),
    });
  }
  all.sort((a, b) => a - b);
  const summary = {
    findings: imported.imported,
    machine: {
      cpus: cpus().length,
      model: cpus()[0]?.model,
      loadavg: loadavg().map((x) => Math.round(x * 100) / 100),
    },
    import: {
      ms: Math.round(importMs),
      findingsPerSecond: Math.round(imported.imported / (importMs / 1000)),
    },
    actions: { attempted: acted, ms: Math.round(actMs), perSecond: Math.round(acted / (actMs / 1000)) },
    queue: {
      requests: all.length,
      median: ms(quantile(all, 0.5)),
      p95: ms(quantile(all, 0.95)),
      max: ms(all.at(-1)!),
      target: 'p95 < 100 ms',
    },
    scenarios: results,
  };
  if (values.json) console.log(JSON.stringify(summary, null, 2));
  else {
    console.log(
      `review queue bench: ${summary.findings} findings, ${summary.machine.cpus} CPUs (${summary.machine.model}), load ${summary.machine.loadavg.join(' ')}`,
    );
    console.log(
      `import (qc batch NDJSON): ${summary.import.ms} ms, ${summary.import.findingsPerSecond} findings/s`,
    );
    console.log(
      `review actions: ${summary.actions.attempted} in ${summary.actions.ms} ms, ${summary.actions.perSecond}/s`,
    );
    console.log(
      'scenario'.padEnd(44),
      'median ms'.padStart(10),
      'p95 ms'.padStart(9),
      'max ms'.padStart(9),
      'rows'.padStart(8),
    );
    for (const r of results)
      console.log(
        r.scenario.padEnd(44),
        String(r.median).padStart(10),
        String(r.p95).padStart(9),
        String(r.max).padStart(9),
        String(r.meanTotal).padStart(8),
      );
    console.log(
      `queue over all ${summary.queue.requests} requests: median ${summary.queue.median} ms, p95 ${summary.queue.p95} ms, max ${summary.queue.max} ms (target p95 < 100 ms)`,
    );
  }
  await app.close();
} finally {
  store.close();
  rmSync(dir, { recursive: true, force: true });
}
