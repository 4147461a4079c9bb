#!/usr/bin/env node
// Writes the lexicon-feature file of a model folder from OUR knowledge graph
// (`loadDefaultGraph().lexicon()` of @yijian/knowledge-graph; build it first: `pnpm build`).
//
//   node models/ner/train/export_lexicon.mjs models/ner/1.1.0/lexicon.json
//
// The file ships with the model (it is our own content, not corpus data): train.py reads it to
// compute the per-character BMES-in-matched-term features, and packages/ner/src/neural/lexicon-features.ts
// computes the same features at inference time from the same file.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { loadDefaultGraph } from '../../../packages/knowledge-graph/dist/index.js';

// Concept kind -> feature type (our MentionType names). Departments are not entities of the model.
const KIND_TYPE = {
  Disease: 'disease',
  Symptom: 'symptom',
  Drug: 'drug',
  DrugClass: 'drug',
  LabTest: 'lab',
  Exam: 'imaging',
  Procedure: 'operation',
  Anatomy: 'anatomy',
};
const TYPES = ['disease', 'symptom', 'drug', 'lab', 'imaging', 'operation', 'anatomy'];

const out = process.argv[2];
if (!out) {
  console.error('usage: export_lexicon.mjs <out.json>');
  process.exit(2);
}
const graph = await loadDefaultGraph();
const terms = Object.fromEntries(TYPES.map((t) => [t, new Set()]));
for (const { term, kind } of graph.lexicon()) {
  const type = KIND_TYPE[kind];
  const t = term.trim();
  if (type && t.length > 0) terms[type].add(t);
}
const file = {
  source: '@yijian/knowledge-graph loadDefaultGraph().lexicon()',
  features: 'per character, per type: B, M, E, S of every matched term (all matches, overlapping)',
  types: TYPES,
  terms: Object.fromEntries(TYPES.map((t) => [t, [...terms[t]].sort()])),
};
mkdirSync(dirname(resolve(out)), { recursive: true });
writeFileSync(resolve(out), `${JSON.stringify(file, null, 0)}\n`);
console.log(`${out}: ${TYPES.map((t) => `${t} ${terms[t].size}`).join(', ')}`);
