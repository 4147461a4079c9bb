/**
 * CPU cost per CDS Hooks call, in-process through app.inject (no sockets, no load generator):
 * the service's own capacity figure, robust to a shared machine (CPU time, not wall time).
 *
 *   pnpm bench:service -- --cpu        (or: node .tmp/service-cpu.js after tsc -p bench/service.tsconfig.json)
 *
 * Prints the median and p90 CPU milliseconds per request for order-sign (10 drafts + 5 active) and
 * patient-view (5,000-character note), the engine's share, and the implied requests/s per core.
 * Then the step every analyze and patient-view now runs after the engine (adverse-event detection,
 * the outbox write, the review-queue ingest) on the sample records, alone.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { detectEvents } from '../packages/adverse-events/dist/index.js';
import { parseRecord } from '../packages/emr/dist/index.js';
import { buildApp } from '../service/dist/app.js';
import { medicationCheckPlan } from '../service/dist/cds-hooks/fhir-context.js';

const { values } = parseArgs({
  options: {
    dir: { type: 'string' },
    iterations: { type: 'string', default: '300' },
    hook: { type: 'string' },
  },
});
const root = join(fileURLToPath(new URL('.', import.meta.url)), '..');
const dir = values.dir ?? join(root, '.tmp');
const iterations = Number(values.iterations);
const bodies: Record<string, string> = {
  'order-sign-typical': readFileSync(join(dir, 'order-sign-typical.json'), 'utf8'),
  'order-sign': readFileSync(join(dir, 'order-sign.json'), 'utf8'),
  'patient-view': readFileSync(join(dir, 'patient-view.json'), 'utf8'),
};

const app = await buildApp({
  config: { dbFile: ':memory:', logLevel: 'silent', docs: false, rateLimitMax: 0 },
  defaultMetrics: false,
});
await app.ready();
const engine = await app.yijian.engine();

function cpuMs(start: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(start);
  return (d.user + d.system) / 1000;
}
const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))]!;

for (const [hook, body] of Object.entries(bodies)) {
  if (values.hook && values.hook !== hook) continue;
  const n = hook === 'patient-view' ? Math.max(20, Math.floor(iterations / 5)) : iterations;
  const total: number[] = [];
  for (let i = 0; i < n + 20; i++) {
    const t = process.cpuUsage();
    const res = await app.inject({
      method: 'POST',
      url: `/cds-services/yijian-${hook.replace('-typical', '')}`,
      headers: { 'content-type': 'application/json' },
      payload: body,
    });
    if (res.statusCode !== 200) throw new Error(`${hook}: ${res.statusCode} ${res.body.slice(0, 200)}`);
    if (i >= 20) total.push(cpuMs(t));
  }
  let engineMs: number[] = [];
  if (hook.startsWith('order-sign')) {
    const plan = medicationCheckPlan(JSON.parse(body));
    for (let i = 0; i < n; i++) {
      const t = process.cpuUsage();
      await engine.checkMedications(plan.input);
      engineMs.push(cpuMs(t));
    }
  } else engineMs = [];
  const p50 = pct(total, 0.5);
  console.log(
    `${hook.padEnd(19)} CPU per request: p50 ${p50.toFixed(2)} ms, p90 ${pct(total, 0.9).toFixed(2)} ms` +
      (engineMs.length ? `; engine.checkMedications alone p50 ${pct(engineMs, 0.5).toFixed(2)} ms` : '') +
      `; ≈ ${Math.round(1000 / p50)} requests/s per core`,
  );
}
if (!values.hook || values.hook === 'after-analysis') {
  // Re-ingesting the same record each time: detection, outbox (de-duplicated) and review upsert.
  const n = Math.max(30, Math.floor(iterations / 5));
  for (const name of ['cardiology-01', 'neurology-01', 'icu-01']) {
    const record = parseRecord(
      JSON.parse(readFileSync(join(root, 'corpora/samples', `${name}.json`), 'utf8')),
    );
    const result = await engine.analyze(record);
    const chars = record.documents.reduce((sum, d) => sum + d.text.length, 0);
    const after: number[] = [];
    const detect: number[] = [];
    for (let i = 0; i < n + 5; i++) {
      let t = process.cpuUsage();
      detectEvents({ record });
      const d = cpuMs(t);
      t = process.cpuUsage();
      app.yijian.afterAnalysis(record, result);
      if (i >= 5) {
        after.push(cpuMs(t));
        detect.push(d);
      }
    }
    const t = process.cpuUsage();
    for (let i = 0; i < 5; i++) await engine.analyze(record);
    const analyzeMs = cpuMs(t) / 5;
    console.log(
      `after-analysis ${name.padEnd(14)} (${chars} chars, ${result.alerts.length} alerts, ${result.qc?.findings.length ?? 0} QC): ` +
        `p50 ${pct(after, 0.5).toFixed(2)} ms, p90 ${pct(after, 0.9).toFixed(2)} ms CPU ` +
        `(detectEvents alone p50 ${pct(detect, 0.5).toFixed(2)} ms); engine.analyze ${analyzeMs.toFixed(1)} ms`,
    );
  }
}
await app.close();
