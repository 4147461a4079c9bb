/**
 * Knowledge-graph benchmark: default-graph load time, link throughput, interactionsAmong
 * throughput. Prints medians; no pass/fail.
 *
 *   pnpm bench:kg [-- --rounds 7 --json]
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createLinker, defaultGraphDir, MemoryGraph } from '../packages/knowledge-graph/dist/index.js';
import { median } from './stats.js';

const { values } = parseArgs({
  options: { rounds: { type: 'string', default: '7' }, json: { type: 'boolean', default: false } },
});
const rounds = Number(values.rounds);
const root = join(fileURLToPath(new URL('.', import.meta.url)), '..');

// 1. Load time of the default graph (JSONL, validated), in-process, after one warm-up.
const dir = defaultGraphDir();
MemoryGraph.fromDirectory(dir);
const loads: number[] = [];
let graph = MemoryGraph.fromDirectory(dir);
for (let i = 0; i < rounds; i++) {
  const t = performance.now();
  graph = MemoryGraph.fromDirectory(dir);
  loads.push(performance.now() - t);
}
const stats = graph.statsSync();

// 2. Link throughput: the evaluation mentions (mixed exact / normalised / fuzzy), and exact names only.
const pairs = readFileSync(join(root, 'corpora/kg/eval/link-pairs.jsonl'), 'utf8')
  .split('\n')
  .filter(Boolean)
  .map((l) => (JSON.parse(l) as { mention: string }).mention);
const exact = graph.lexicon().map((e) => e.term);
function linkRate(mentions: string[], cache: boolean): number {
  const linker = createLinker(graph, cache ? {} : { cacheSize: 0 });
  for (const m of mentions) linker.link(m);
  const rates: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const n = Math.max(200_000, mentions.length);
    const t = performance.now();
    for (let i = 0; i < n; i++) linker.link(mentions[i % mentions.length]!);
    rates.push(n / ((performance.now() - t) / 1000));
  }
  return median(rates);
}
const linkExact = linkRate(exact, true);
const linkMixed = linkRate(pairs, true);
const linkMixedCold = linkRate(pairs, false);

// 3. interactionsAmong of 10 drugs (a typical inpatient order list), after warm-up.
const ten = [
  '华法林',
  '阿司匹林',
  '氯吡格雷',
  '阿托伐他汀',
  '美托洛尔',
  '呋塞米',
  '螺内酯',
  '奥美拉唑',
  '头孢曲松',
  '胺碘酮',
].map((n) => graph.findByNameSync(n, 'Drug')[0]!.id);
const found = graph.interactionsAmongSync(ten);
const ddiRates: number[] = [];
for (let r = 0; r < rounds; r++) {
  const n = 200_000;
  const t = performance.now();
  for (let i = 0; i < n; i++) graph.interactionsAmongSync(ten);
  ddiRates.push(n / ((performance.now() - t) / 1000));
}
// Cold: a fresh graph per batch, so every drug's partner table is built on first use.
const coldStart = performance.now();
const fresh = MemoryGraph.fromDirectory(dir);
const tc = performance.now();
fresh.interactionsAmongSync(ten);
const coldFirstCallMs = performance.now() - tc;
void coldStart;

const result = {
  graph: stats,
  loadDefaultMs: { median: median(loads), min: Math.min(...loads), rounds },
  linkPerSec: {
    exactNames: Math.round(linkExact),
    evalMentions: Math.round(linkMixed),
    evalMentionsNoCache: Math.round(linkMixedCold),
  },
  interactionsAmong10: {
    callsPerSec: Math.round(median(ddiRates)),
    interactionsFound: found.length,
    coldFirstCallMs,
  },
  rssMb: Math.round(process.memoryUsage().rss / 2 ** 20),
};
if (values.json) console.log(JSON.stringify(result));
else {
  console.log(`default graph: ${JSON.stringify(stats.nodes)}`);
  console.log(
    `load default graph: median ${result.loadDefaultMs.median.toFixed(1)} ms (min ${result.loadDefaultMs.min.toFixed(1)}, ${rounds} rounds)`,
  );
  console.log(
    `link: ${result.linkPerSec.exactNames.toLocaleString()} /s exact names; ${result.linkPerSec.evalMentions.toLocaleString()} /s eval mentions (cache on); ${result.linkPerSec.evalMentionsNoCache.toLocaleString()} /s eval mentions (no cache)`,
  );
  console.log(
    `interactionsAmong(10 drugs): ${result.interactionsAmong10.callsPerSec.toLocaleString()} calls/s (${found.length} interactions; first call on a fresh graph ${coldFirstCallMs.toFixed(2)} ms)`,
  );
  console.log(`rss: ${result.rssMb} MB`);
}
