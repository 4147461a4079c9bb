/**
 * Wall time of each stage of a CDS Hooks order-sign call in process, without HTTP: JSON parse of the
 * body, zod validation, FHIR → medication-check input, the engine, cards, serialising the answer.
 *
 *   pnpm build && tsc -p bench/service.tsconfig.json && node .tmp/service-stages.js [--body order-sign-typical] [--iterations 3000]
 *
 * Bodies come from `node .tmp/service-cds-hooks.js --dump-dir .tmp` (order-sign-typical, order-sign).
 * Prints the median and mean microseconds per stage after 1,000 warm-up calls.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createEngine } from '../packages/cdss/dist/index.js';
import { alertToCard } from '../service/dist/cds-hooks/cards.js';
import { medicationCheckPlan } from '../service/dist/cds-hooks/fhir-context.js';
import { hookRequestSchema } from '../service/dist/cds-hooks/services.js';
import { median } from './stats.js';

const { values } = parseArgs({
  options: {
    body: { type: 'string', default: 'order-sign-typical' },
    iterations: { type: 'string', default: '3000' },
    dir: { type: 'string' },
  },
});
const root = join(fileURLToPath(new URL('.', import.meta.url)), '..');
const text = readFileSync(join(values.dir ?? join(root, '.tmp'), `${values.body}.json`), 'utf8');
const n = Number(values.iterations);
const warmUp = 1000;
const engine = await createEngine();

const stages = ['parse', 'zod', 'plan', 'engine', 'cards', 'stringify'] as const;
const times: Record<(typeof stages)[number], number[]> = {
  parse: [],
  zod: [],
  plan: [],
  engine: [],
  cards: [],
  stringify: [],
};
for (let i = 0; i < n + warmUp; i++) {
  const keep = i >= warmUp;
  const mark = (stage: (typeof stages)[number], since: number) => {
    const now = performance.now();
    if (keep) times[stage].push(now - since);
    return now;
  };
  let t = performance.now();
  const raw = JSON.parse(text) as unknown;
  t = mark('parse', t);
  const body = hookRequestSchema.parse(raw);
  t = mark('zod', t);
  const plan = medicationCheckPlan(body);
  t = mark('plan', t);
  const alerts = await engine.checkMedications(plan.input, { concerning: plan.draftIndices });
  t = mark('engine', t);
  const cards = alerts.map((a) => alertToCard(a, { resourceRefs: plan.refs, draftOrders: plan.drafts }));
  t = mark('cards', t);
  JSON.stringify({ cards });
  mark('stringify', t);
}
const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
console.log(`${values.body}: ${n} calls after ${warmUp} warm-up`);
for (const s of stages)
  console.log(
    `${s.padEnd(10)} median ${(median(times[s]) * 1000).toFixed(0).padStart(5)} µs   mean ${(mean(times[s]) * 1000).toFixed(0).padStart(5)} µs`,
  );
await engine.close();
