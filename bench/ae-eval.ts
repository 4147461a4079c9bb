/**
 * Adverse-event detection evaluation: recall on the gold event sentences, grade accuracy, and false
 * positives on the hard negatives (negated, hypothetical, historical, pre-admission, planned
 * removals) in corpora/adverse-events/*.jsonl, then the planted events in corpora/samples.
 *
 *   pnpm eval:ae            (root script; runs the TypeScript sources, no build needed)
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type AdverseEvent, detectEvents } from '@yijian/adverse-events';

interface GoldEvent {
  category: string;
  grade?: string;
  drug?: string;
}
interface GoldLine {
  id: string;
  text: string;
  expect: GoldEvent[];
  trap?: string;
}

const root = fileURLToPath(new URL('..', import.meta.url));
const goldDir = `${root}corpora/adverse-events/`;
const files = readdirSync(goldDir)
  .filter((f) => f.endsWith('.jsonl'))
  .sort();

let gold = 0;
let found = 0;
let graded = 0;
let gradeOk = 0;
let drugs = 0;
let drugOk = 0;
let extra = 0;
let negatives = 0;
let negFp = 0;
const fpByTrap = new Map<string, number>();
const misses: string[] = [];
const wrongGrades: string[] = [];
const falsePositives: string[] = [];
const perCategory = new Map<string, { gold: number; found: number }>();
const started = performance.now();
let chars = 0;

for (const file of files) {
  for (const raw of readFileSync(goldDir + file, 'utf8').split('\n')) {
    if (!raw.trim()) continue;
    const line = JSON.parse(raw) as GoldLine;
    chars += line.text.length;
    const events: AdverseEvent[] = detectEvents({ text: line.text });
    if (line.expect.length === 0) {
      negatives += 1;
      if (events.length) {
        negFp += 1;
        fpByTrap.set(line.trap ?? 'other', (fpByTrap.get(line.trap ?? 'other') ?? 0) + 1);
        falsePositives.push(`${line.id} ${line.text} -> ${events.map((e) => e.category).join(',')}`);
      }
      continue;
    }
    for (const g of line.expect) {
      gold += 1;
      const pc = perCategory.get(g.category) ?? { gold: 0, found: 0 };
      pc.gold += 1;
      perCategory.set(g.category, pc);
      const e = events.find((x) => x.category === g.category);
      if (!e) {
        misses.push(
          `${line.id} [${g.category}] ${line.text} -> ${events.map((x) => x.category).join(',') || 'none'}`,
        );
        continue;
      }
      found += 1;
      pc.found += 1;
      if (g.grade) {
        graded += 1;
        if (e.grade === g.grade) gradeOk += 1;
        else
          wrongGrades.push(`${line.id} expected ${g.grade} got ${e.grade} (${e.gradeReason}) ${line.text}`);
      }
      if (g.drug) {
        drugs += 1;
        if (e.details.drug === g.drug) drugOk += 1;
        else wrongGrades.push(`${line.id} drug expected ${g.drug} got ${e.details.drug ?? '-'}`);
      }
    }
    extra += events.filter((e) => !line.expect.some((g) => g.category === e.category)).length;
  }
}
const coldMs = performance.now() - started;
// Warm speed: the detector is built; five more passes over every sentence.
const allTexts = files.flatMap((f) =>
  readFileSync(goldDir + f, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => (JSON.parse(l) as GoldLine).text),
);
const warmStart = performance.now();
for (let pass = 0; pass < 5; pass++) for (const t of allTexts) detectEvents({ text: t });
const warmMs = (performance.now() - warmStart) / 5;

// Planted events in the sample records.
const samplesDir = `${root}corpora/samples/`;
let planted = 0;
let plantedFound = 0;
let plantedGradeOk = 0;
let sampleFp = 0;
const sampleNotes: string[] = [];
for (const f of readdirSync(samplesDir).filter((x) => x.endsWith('.expected.json'))) {
  const expected = JSON.parse(readFileSync(samplesDir + f, 'utf8')) as {
    recordId: string;
    problems: { kind: string; category?: string; grade?: string; evidence?: string[] }[];
  };
  const record = JSON.parse(readFileSync(samplesDir + f.replace('.expected.json', '.json'), 'utf8'));
  const events = detectEvents({ record });
  const plantedHere = expected.problems.filter((p) => p.kind === 'adverse-event');
  for (const p of plantedHere) {
    planted += 1;
    const e = events.find((x) => x.category === p.category);
    if (!e) {
      sampleNotes.push(`${expected.recordId}: missed planted ${p.category}`);
      continue;
    }
    plantedFound += 1;
    if (e.grade === p.grade) plantedGradeOk += 1;
    else sampleNotes.push(`${expected.recordId}: ${p.category} grade ${e.grade}, planted ${p.grade}`);
    const refs = e.evidence.map((x) => x.refId);
    const missingRefs = (p.evidence ?? []).filter((id) => !refs.includes(id));
    if (missingRefs.length) sampleNotes.push(`${expected.recordId}: evidence lacks ${missingRefs.join(',')}`);
  }
  for (const e of events) {
    if (!plantedHere.some((p) => p.category === e.category)) {
      sampleFp += 1;
      sampleNotes.push(`${expected.recordId}: unplanted ${e.category} (${e.evidence[0]?.text.slice(0, 50)})`);
    }
  }
}

const pct = (a: number, b: number) => (b ? `${((100 * a) / b).toFixed(1)}%` : 'n/a');
console.log(`gold files: ${files.join(', ')}`);
console.log(`event recall: ${found}/${gold} = ${pct(found, gold)}   (target >= 95%)`);
for (const [c, v] of [...perCategory].sort()) console.log(`  ${c.padEnd(28)} ${v.found}/${v.gold}`);
console.log(`grade accuracy: ${gradeOk}/${graded} = ${pct(gradeOk, graded)}`);
console.log(`suspected-drug accuracy: ${drugOk}/${drugs} = ${pct(drugOk, drugs)}`);
console.log(`extra categories on positive sentences: ${extra}`);
console.log(
  `false positives on negated/hypothetical/historical sentences: ${negFp}/${negatives}   (target 0)`,
);
for (const [t, n] of fpByTrap) console.log(`  ${t}: ${n}`);
console.log(
  `samples: planted events found ${plantedFound}/${planted}, grade ${plantedGradeOk}/${planted}, unplanted events ${sampleFp}`,
);
console.log(
  `speed: ${(chars / (warmMs / 1000)).toFixed(0)} chars/s warm (${((1000 * warmMs) / allTexts.length).toFixed(0)} µs per sentence), first pass incl. set-up ${coldMs.toFixed(0)} ms`,
);
const verbose = process.argv.includes('--verbose');
for (const [title, list] of [
  ['misses', misses],
  ['false positives', falsePositives],
  ['grade/drug disagreements', wrongGrades],
  ['samples', sampleNotes],
] as const) {
  if (!list.length) continue;
  console.log(`\n${title} (${list.length}):`);
  for (const l of verbose ? list : list.slice(0, 15)) console.log(`  ${l}`);
}
