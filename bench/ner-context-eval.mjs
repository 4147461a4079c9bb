// Evaluate the clinical-context rule path on the hand-written gold sets in corpora/context/*.jsonl.
//
//   pnpm eval:context                     all gold files
//   node bench/ner-context-eval.mjs corpora/context/gold.jsonl --errors
//
// Prints assertion accuracy (on gold mention spans), attribute precision / recall / F1 (drug and
// lab attributes of gold spans, plus vital signs read from the text), and an end-to-end run where
// a lexicon tagger built from the gold terms finds the mentions. Needs `tsc -b packages/ner` first.
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createAnnotator, createLexiconTagger } from '../packages/ner/dist/index.js';

const ATTR_KEYS = ['dose', 'unit', 'route', 'frequency', 'duration', 'value', 'flag', 'qualitative'];
const args = process.argv.slice(2);
const showErrors = args.includes('--errors');
let files = args.filter((a) => !a.startsWith('--'));
if (files.length === 0) {
  const dir = fileURLToPath(new URL('../corpora/context/', import.meta.url));
  files = readdirSync(dir)
    .filter((f) => f.endsWith('.jsonl'))
    .sort()
    .map((f) => dir + f);
}

const annotator = createAnnotator({ taggers: [] });

function pairsOf(attrs) {
  const out = new Set();
  for (const k of ATTR_KEYS) if (attrs && attrs[k] !== undefined) out.add(`${k}=${attrs[k]}`);
  return out;
}
function vitalPairs(vitals) {
  return new Set(
    vitals.map((v) => `${v.kind}=${v.value}${v.diastolic === undefined ? '' : `/${v.diastolic}`}`),
  );
}

function evaluate(records, label) {
  let total = 0;
  let correct = 0;
  const confusion = {};
  let tp = 0;
  let fp = 0;
  let fn = 0;
  const errors = [];
  for (const rec of records) {
    const raw = rec.mentions.map((m) => ({
      start: m.start,
      end: m.end,
      type: m.type,
      text: m.text,
      score: 1,
      source: 'gold',
    }));
    const ann = annotator.annotateMentions(rec.text, raw);
    const byKey = new Map(ann.mentions.map((m) => [`${m.start}:${m.end}`, m]));
    for (const g of rec.mentions) {
      const p = byKey.get(`${g.start}:${g.end}`);
      const status = p ? p.assertion.status : 'missing';
      total++;
      const key = `${g.assertion}->${status}`;
      if (status === g.assertion) correct++;
      else {
        confusion[key] = (confusion[key] ?? 0) + 1;
        errors.push(
          `[assertion] ${rec.id} ${g.text}: gold ${g.assertion}, got ${status} (${p?.assertion.trigger?.rule ?? '-'} "${p?.assertion.trigger?.text ?? ''}")  ${rec.text.replace(/\n/g, '⏎')}`,
        );
      }
      if (g.type === 'drug' || g.type === 'lab') {
        const gp = pairsOf(g.attributes);
        const pp = pairsOf(p?.attributes);
        for (const x of pp)
          if (gp.has(x)) tp++;
          else {
            fp++;
            errors.push(`[attr FP] ${rec.id} ${g.text}: ${x}  ${rec.text.replace(/\n/g, '⏎')}`);
          }
        for (const x of gp)
          if (!pp.has(x)) {
            fn++;
            errors.push(`[attr FN] ${rec.id} ${g.text}: ${x}  ${rec.text.replace(/\n/g, '⏎')}`);
          }
      }
    }
    const gv = vitalPairs(rec.vitals ?? []);
    const pv = vitalPairs(ann.vitals);
    for (const x of pv)
      if (gv.has(x)) tp++;
      else {
        fp++;
        errors.push(`[vital FP] ${rec.id} ${x}  ${rec.text.replace(/\n/g, '⏎')}`);
      }
    for (const x of gv)
      if (!pv.has(x)) {
        fn++;
        errors.push(`[vital FN] ${rec.id} ${x}  ${rec.text.replace(/\n/g, '⏎')}`);
      }
  }
  const precision = tp / Math.max(1, tp + fp);
  const recall = tp / Math.max(1, tp + fn);
  const f1 = (2 * precision * recall) / Math.max(1e-9, precision + recall);

  // End to end: a lexicon built from the gold terms finds the mentions.
  const entries = [];
  const seen = new Set();
  for (const r of records)
    for (const m of r.mentions)
      if (!seen.has(m.text)) {
        seen.add(m.text);
        entries.push({ term: m.text, type: m.type });
      }
  const lexicon = createLexiconTagger(entries);
  let spanTp = 0;
  let predicted = 0;
  let e2eCorrect = 0;
  for (const rec of records) {
    const ann = annotator.annotateMentions(rec.text, lexicon.tag(rec.text));
    predicted += ann.mentions.length;
    const gold = new Map(rec.mentions.map((m) => [`${m.start}:${m.end}`, m]));
    for (const p of ann.mentions) {
      const g = gold.get(`${p.start}:${p.end}`);
      if (!g) continue;
      spanTp++;
      if (g.assertion === p.assertion.status) e2eCorrect++;
    }
  }

  console.log(`\n== ${label}: ${records.length} sentences, ${total} gold mentions`);
  console.log(
    `assertion accuracy (gold spans): ${((100 * correct) / Math.max(1, total)).toFixed(2)}% (${correct}/${total})`,
  );
  const conf = Object.entries(confusion).sort((a, b) => b[1] - a[1]);
  if (conf.length)
    console.log(`  errors by gold->predicted: ${conf.map(([k, v]) => `${k} ${v}`).join(', ')}`);
  console.log(
    `attribute P/R/F1 (drug + lab attributes, vital signs): ${(100 * precision).toFixed(2)}% / ${(100 * recall).toFixed(2)}% / ${(100 * f1).toFixed(2)}% (tp ${tp}, fp ${fp}, fn ${fn})`,
  );
  console.log(
    `end to end (lexicon from gold terms): span recall ${((100 * spanTp) / Math.max(1, total)).toFixed(2)}%, span precision ${((100 * spanTp) / Math.max(1, predicted)).toFixed(2)}%, assertion accuracy on found spans ${((100 * e2eCorrect) / Math.max(1, spanTp)).toFixed(2)}%`,
  );
  if (showErrors) for (const e of errors) console.log(`  ${e}`);
  return { total, correct, tp, fp, fn };
}

const all = [];
for (const file of files) {
  const records = readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l));
  all.push(...records);
  if (files.length > 1) evaluate(records, file.replace(/.*\//, ''));
}
evaluate(all, files.length > 1 ? 'all gold files' : files[0].replace(/.*\//, ''));
