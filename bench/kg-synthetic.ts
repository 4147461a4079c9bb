/**
 * Synthetic scale test: writes a graph of 1M nodes and 5M edges under .tmp/kg-synthetic-* (once),
 * both as JSONL (nodes/, edges/) and as a columnar snapshot (graph.snapshot.json), then loads each
 * in a fresh child process and prints load time and the child's peak RSS (VmHWM).
 *
 *   pnpm bench:kg:synthetic [-- --nodes 1000000 --edges 5000000]
 */
import { execFileSync } from 'node:child_process';
import {
  createWriteStream,
  existsSync,
  mkdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { MemoryGraph, RELATION_TYPES } from '../packages/knowledge-graph/dist/index.js';

const { values } = parseArgs({
  options: {
    nodes: { type: 'string', default: '1000000' },
    edges: { type: 'string', default: '5000000' },
    child: { type: 'string' },
    json: { type: 'boolean', default: false },
  },
});

if (values.child) {
  const cpu0 = process.cpuUsage();
  const t = performance.now();
  const g = values.child.endsWith('.json')
    ? MemoryGraph.fromSnapshot(values.child)
    : MemoryGraph.fromDirectory(values.child);
  const ms = performance.now() - t;
  const c = process.cpuUsage(cpu0);
  const cpuMs = (c.user + c.system) / 1000;
  const probe = g.neighboursSync('n:42').length + g.ancestorsSync('n:7').length;
  const hwm = /VmHWM:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'));
  const rssMb = process.memoryUsage().rss / 2 ** 20;
  const peakRssMb = hwm ? Number(hwm[1]) / 1024 : rssMb;
  console.log(JSON.stringify({ ms, cpuMs, nodes: g.nodeCount, edges: g.edgeCount, rssMb, peakRssMb, probe }));
  process.exit(0);
}

const N = Number(values.nodes);
const M = Number(values.edges);
const root = join(fileURLToPath(new URL('.', import.meta.url)), '..');
const dir = join(root, '.tmp', `kg-synthetic-v2-${N}-${M}`);
const KINDS = ['Disease', 'Symptom', 'Drug', 'DrugClass', 'LabTest', 'Procedure', 'Exam', 'Anatomy'];
const TYPES = [
  'IS_A',
  'HAS_SYMPTOM',
  'BELONGS_TO',
  'INDICATED_FOR',
  'NEEDS_TEST',
  'HAS_COMPLICATION',
  'LOCATED_IN',
];

async function write(file: string, count: number, line: (i: number) => string): Promise<void> {
  const out = createWriteStream(file);
  let buf = '';
  for (let i = 0; i < count; i++) {
    buf += line(i);
    if (buf.length > 1 << 20) {
      if (!out.write(buf)) await new Promise<void>((r) => out.once('drain', () => r()));
      buf = '';
    }
  }
  out.end(buf);
  await new Promise<void>((r) => out.on('finish', () => r()));
}

if (!existsSync(join(dir, 'done'))) {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'nodes'), { recursive: true });
  mkdirSync(join(dir, 'edges'), { recursive: true });
  let seed = 12345;
  const rand = (n: number): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const t = performance.now();
  await write(join(dir, 'nodes', 'nodes.jsonl'), N, (i) =>
    i % 10 === 0
      ? `{"id":"n:${i}","kind":"${KINDS[i % KINDS.length]}","name":"概念${i}","synonyms":["别名${i}"],"codes":[{"system":"SYN","code":"C${i}"}],"source":"synthetic"}\n`
      : `{"id":"n:${i}","kind":"${KINDS[i % KINDS.length]}","name":"概念${i}","source":"synthetic"}\n`,
  );
  await write(join(dir, 'edges', 'edges.jsonl'), M, (i) => {
    const from = i < N - 1 ? i + 1 : rand(N);
    const to = i < N - 1 ? rand(i + 1) : rand(N);
    return `{"type":"${TYPES[i % TYPES.length]}","from":"n:${from}","to":"n:${to}","source":"synthetic"}\n`;
  });
  // The same graph as a columnar snapshot.
  const snap = createWriteStream(join(dir, 'graph.snapshot.json'));
  const put = async (text: string): Promise<void> => {
    if (!snap.write(text)) await new Promise<void>((r) => snap.once('drain', () => r()));
  };
  await put('{"format":"yijian-kg-snapshot/2","nodes":[');
  let chunk = '';
  for (let i = 0; i < N; i++) {
    chunk += `${i ? ',' : ''}{"id":"n:${i}","kind":"${KINDS[i % KINDS.length]}","name":"概念${i}","synonyms":${i % 10 === 0 ? `["别名${i}"]` : '[]'},"codes":${i % 10 === 0 ? `[{"system":"SYN","code":"C${i}"}]` : '[]'},"props":{},"source":"synthetic"}`;
    if (chunk.length > 1 << 20) {
      await put(chunk);
      chunk = '';
    }
  }
  await put(`${chunk}],"edges":{"type":[`);
  seed = 12345;
  const froms: number[] = new Array(M);
  const tos: number[] = new Array(M);
  for (let i = 0; i < M; i++) {
    froms[i] = i < N - 1 ? i + 1 : rand(N);
    tos[i] = i < N - 1 ? rand(i + 1) : rand(N);
  }
  const typeCodes = TYPES.map((t) => RELATION_TYPES.indexOf(t as never));
  for (const [name, col] of [
    ['type', (i: number) => typeCodes[i % TYPES.length]!],
    ['from', (i: number) => froms[i]!],
    ['to', (i: number) => tos[i]!],
    ['source', () => 0],
  ] as const) {
    if (name !== 'type') await put(`],"${name}":[`);
    chunk = '';
    for (let i = 0; i < M; i++) {
      chunk += `${i ? ',' : ''}${col(i)}`;
      if (chunk.length > 1 << 20) {
        await put(chunk);
        chunk = '';
      }
    }
    await put(chunk);
  }
  await put('],"sources":["synthetic"],"props":[]}}');
  snap.end();
  await new Promise<void>((r) => snap.on('finish', () => r()));
  writeFileSync(join(dir, 'done'), '');
  console.error(
    `generated ${N} nodes / ${M} edges in ${((performance.now() - t) / 1000).toFixed(1)} s under ${dir}`,
  );
}

const self = fileURLToPath(import.meta.url);
function loadInChild(target: string): {
  ms: number;
  cpuMs: number;
  nodes: number;
  edges: number;
  rssMb: number;
  peakRssMb: number;
} {
  const out = execFileSync(process.execPath, ['--max-old-space-size=4096', self, '--child', target], {
    encoding: 'utf8',
    maxBuffer: 1 << 20,
  });
  return JSON.parse(out.trim().split('\n').pop()!);
}
const jsonl = loadInChild(dir);
const snapshot = loadInChild(join(dir, 'graph.snapshot.json'));
const sizes = {
  jsonlMb: Math.round(
    (statSync(join(dir, 'nodes', 'nodes.jsonl')).size + statSync(join(dir, 'edges', 'edges.jsonl')).size) /
      2 ** 20,
  ),
  snapshotMb: Math.round(statSync(join(dir, 'graph.snapshot.json')).size / 2 ** 20),
};
if (values.json) console.log(JSON.stringify({ jsonl, snapshot, sizes }));
else {
  for (const [name, r, mb] of [
    ['JSONL', jsonl, sizes.jsonlMb],
    ['snapshot', snapshot, sizes.snapshotMb],
  ] as const) {
    console.log(
      `synthetic ${name} load: ${r.nodes.toLocaleString()} nodes, ${r.edges.toLocaleString()} edges in ${(r.ms / 1000).toFixed(2)} s wall (${(r.cpuMs / 1000).toFixed(2)} s CPU), peak rss ${Math.round(r.peakRssMb)} MB (file ${mb} MB)`,
    );
  }
}
