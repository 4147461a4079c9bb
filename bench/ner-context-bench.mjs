// Throughput of the clinical-context rule path (sections + assertion + attributes + vital signs)
// on one core, in characters per second; also the lexicon tagger and the whole annotate().
//
//   pnpm bench:context            (builds @yijian/ner first)
//   node bench/ner-context-bench.mjs [--runs 7]
//
// Text: the real case texts in ../shared/unlabeled/cmb_clin_cases.txt when present (read at
// bench time, never committed), else our own gold sentences repeated. Mentions come from a
// lexicon built from the terms of our gold sets. Each document is annotated separately.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createAnnotator, createLexiconTagger } from '../packages/ner/dist/index.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const shared = process.env.YIJIAN_SHARED_DIR ?? `${root}../shared`;
const runsArg = process.argv.indexOf('--runs');
const runs = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 7;

const goldDir = `${root}corpora/context/`;
const gold = readdirSync(goldDir)
  .filter((f) => f.endsWith('.jsonl'))
  .flatMap((f) =>
    readFileSync(goldDir + f, 'utf8')
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => JSON.parse(l)),
  );
const entries = [];
const seen = new Set();
for (const r of gold)
  for (const m of r.mentions)
    if (!seen.has(m.text)) {
      seen.add(m.text);
      entries.push({ term: m.text, type: m.type });
    }

let docs;
let source;
const casesFile = `${shared}/unlabeled/cmb_clin_cases.txt`;
if (existsSync(casesFile)) {
  // Documents of ~2,000 characters cut at line ends.
  const lines = readFileSync(casesFile, 'utf8').split('\n');
  docs = [];
  let cur = '';
  for (const line of lines) {
    cur += `${line}\n`;
    if (cur.length >= 2000) {
      docs.push(cur);
      cur = '';
    }
  }
  if (cur) docs.push(cur);
  source = casesFile;
} else {
  console.warn(`[bench] ${casesFile} not found: using our gold sentences instead`);
  const all = gold.map((r) => r.text).join('\n');
  docs = [];
  for (let i = 0; i < 400; i++)
    docs.push(all.slice((i * 997) % all.length) + all.slice(0, (i * 997) % all.length));
  source = 'corpora/context gold sentences, rotated';
}
const chars = docs.reduce((n, d) => n + d.length, 0);

const lexicon = createLexiconTagger(entries);
const annotator = createAnnotator({ taggers: [lexicon] });
const raws = docs.map((d) => lexicon.tag(d));
const mentionCount = raws.reduce((n, r) => n + r.length, 0);

function time(fn) {
  const t0 = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t0) / 1e9;
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

// Each timed run goes over the documents `reps` times (about 1M characters), after a warm-up.
const reps = Math.max(1, Math.round(1_000_000 / chars));
const total = chars * reps;
for (let i = 0; i < 3 * reps; i++)
  for (let k = 0; k < docs.length; k++) annotator.annotateMentions(docs[k], raws[k]);

const rule = [];
const tag = [];
for (let r = 0; r < runs; r++) {
  rule.push(
    time(() => {
      for (let i = 0; i < reps; i++)
        for (let k = 0; k < docs.length; k++) annotator.annotateMentions(docs[k], raws[k]);
    }),
  );
  tag.push(
    time(() => {
      for (let i = 0; i < reps; i++) for (const d of docs) lexicon.tag(d);
    }),
  );
}
const e2e = [];
for (let r = 0; r < Math.max(3, Math.floor(runs / 2)); r++) {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < reps; i++) for (const d of docs) await annotator.annotate(d);
  e2e.push(Number(process.hrtime.bigint() - t0) / 1e9);
}

const fmt = (s) => `${(total / s / 1e6).toFixed(2)}M chars/s`;
console.log(
  `text: ${source}; ${docs.length} documents, ${chars.toLocaleString('en')} chars, ${mentionCount.toLocaleString('en')} lexicon mentions (${entries.length} terms); ${reps} passes per timed run, one core`,
);
console.log(
  `rule path (merge + sections + assertion + attributes + vitals), median of ${runs}: ${fmt(median(rule))}`,
);
console.log(`lexicon tagger, median of ${runs}: ${fmt(median(tag))}`);
console.log(`annotate() end to end (tagger + rule path), median of ${e2e.length}: ${fmt(median(e2e))}`);
