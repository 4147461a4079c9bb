/**
 * Entity-linking accuracy on corpora/kg/eval/link-pairs.jsonl (mentions written from real EMR
 * spellings: brands, salts and dosage forms, abbreviations, typos, traditional characters).
 *
 *   pnpm bench:kg:link-eval [-- --pairs FILE --typed --misses]
 *
 * Prints top-1 accuracy overall and per category. Without --typed the linker gets no kind hint
 * (the harder setting); with --typed it gets the pair's kind, as NER would give it.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { type ConceptKind, createLinker, loadDefaultGraph } from '../packages/knowledge-graph/dist/index.js';

const { values } = parseArgs({
  options: {
    pairs: { type: 'string' },
    typed: { type: 'boolean', default: false },
    misses: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  },
});
const root = join(fileURLToPath(new URL('.', import.meta.url)), '..');
const file = values.pairs ?? join(root, 'corpora/kg/eval/link-pairs.jsonl');
const pairs = readFileSync(file, 'utf8')
  .split('\n')
  .filter((l) => l.trim())
  .map((l) => JSON.parse(l) as { mention: string; conceptId: string; kind?: ConceptKind; category?: string });

const linker = createLinker(loadDefaultGraph());
const per = new Map<string, { n: number; ok: number }>();
const misses: string[] = [];
let ok = 0;
for (const p of pairs) {
  const r = linker.link(p.mention, values.typed && p.kind ? { kind: p.kind } : {});
  const hit = r.candidates[0]?.conceptId === p.conceptId;
  if (hit) ok++;
  else misses.push(`${p.mention} -> ${r.candidates[0]?.conceptId ?? '(unlinked)'} (want ${p.conceptId})`);
  const cat = p.category ?? 'all';
  const s = per.get(cat) ?? { n: 0, ok: 0 };
  s.n++;
  if (hit) s.ok++;
  per.set(cat, s);
}
const result = {
  pairs: pairs.length,
  typed: values.typed,
  top1: ok / pairs.length,
  categories: Object.fromEntries([...per].map(([k, v]) => [k, { n: v.n, top1: v.ok / v.n }])),
};
if (values.json) console.log(JSON.stringify(result));
else {
  console.log(
    `link top-1 accuracy: ${(result.top1 * 100).toFixed(2)}% (${ok}/${pairs.length}, ${values.typed ? 'typed' : 'untyped'})`,
  );
  for (const [k, v] of per)
    console.log(`  ${k.padEnd(14)} ${((v.ok / v.n) * 100).toFixed(1).padStart(5)}%  (${v.ok}/${v.n})`);
}
if (values.misses) for (const m of misses) console.log(`  miss: ${m}`);
