import { existsSync, statSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { CdssError } from '@yijian/emr';
import {
  CONCEPT_KINDS,
  type ConceptKind,
  createLinker,
  type GraphStore,
  loadDefaultGraph,
  MemoryGraph,
  Neo4jGraph,
  writeGraphDirectory,
  writeSnapshotFile,
} from '@yijian/knowledge-graph';
import type { Command, CommandContext } from './types.js';

const USAGE = `Usage: yijian kg <link|stats|push|pull> [options]

Knowledge-graph tools (the curated default graph unless --graph is given).

  yijian kg link "<text>" ["<text>" …] [--type drug|disease|symptom|lab|…] [--json]
      Link mention text to concepts: ranked candidates with match kind and score; mentions that
      link to nothing are printed as unlinked.
  yijian kg stats [--json] [--neo4j URI …]
      Counts per node kind and relation type (of the local graph, or of a Neo4j database).
  yijian kg push --neo4j URI [--graph DIR|FILE] [--replace] [connection options]
      Load a graph (JSONL directory or snapshot; default: the curated graph) into Neo4j: creates
      the constraint and indexes, then batched UNWIND MERGE writes.
  yijian kg pull --neo4j URI --out DIR|FILE.json [connection options]
      Read a Neo4j graph back as a JSONL directory, or as a snapshot when --out ends in .json.

Options:
  --graph PATH         graph directory (nodes/, edges/) or snapshot file to use instead of the default
  --type KIND          restrict linking to a kind: ${CONCEPT_KINDS.join(', ')} (or drug, disease, symptom, lab, class, procedure, exam, anatomy, department)
  --json               print JSON
  --neo4j URI          Neo4j URI (bolt://host:7687, neo4j+s://…)
  --user NAME          Neo4j user (default neo4j)
  --password TEXT      Neo4j password
  --database NAME      Neo4j database, named on every session (default neo4j)
  --batch N            rows per UNWIND batch (default 5000)
  --replace            delete every :Concept in the database before pushing`;

const KIND_ALIASES: Record<string, ConceptKind> = {
  drug: 'Drug',
  disease: 'Disease',
  diagnosis: 'Disease',
  symptom: 'Symptom',
  lab: 'LabTest',
  labtest: 'LabTest',
  class: 'DrugClass',
  drugclass: 'DrugClass',
  procedure: 'Procedure',
  operation: 'Procedure',
  exam: 'Exam',
  anatomy: 'Anatomy',
  department: 'Department',
};

function kindOf(value: string | undefined): ConceptKind | undefined {
  if (value === undefined) return undefined;
  const k =
    KIND_ALIASES[value.toLowerCase()] ?? CONCEPT_KINDS.find((c) => c.toLowerCase() === value.toLowerCase());
  if (!k) {
    throw new CdssError(
      'CDSS_ERR_INVALID_REQUEST',
      `--type must be one of ${Object.keys(KIND_ALIASES).join(', ')}`,
      {
        issues: [{ path: ['type'], message: `unknown kind ${value}` }],
      },
    );
  }
  return k;
}

function localGraph(path: string | undefined): MemoryGraph {
  return path ? MemoryGraph.load(path) : loadDefaultGraph();
}

function neo4jFrom(values: Record<string, string | boolean | undefined>): Neo4jGraph {
  const uri = values.neo4j;
  if (typeof uri !== 'string' || !uri) {
    throw new CdssError('CDSS_ERR_INVALID_REQUEST', '--neo4j URI is required', {
      issues: [{ path: ['neo4j'], message: 'required' }],
    });
  }
  const batch = values.batch === undefined ? undefined : Number(values.batch);
  return Neo4jGraph.connect({
    uri,
    ...(typeof values.user === 'string' ? { user: values.user } : {}),
    ...(typeof values.password === 'string' ? { password: values.password } : {}),
    ...(typeof values.database === 'string' ? { database: values.database } : {}),
    ...(batch !== undefined ? { batchSize: batch } : {}),
  });
}

function formatStats(s: Awaited<ReturnType<GraphStore['stats']>>): string {
  const lines = ['nodes:'];
  for (const [k, v] of Object.entries(s.nodes).sort()) lines.push(`  ${k.padEnd(14)} ${v}`);
  lines.push('edges:');
  for (const [k, v] of Object.entries(s.edges).sort()) lines.push(`  ${k.padEnd(20)} ${v}`);
  return `${lines.join('\n')}\n`;
}

async function run(args: string[], ctx: CommandContext): Promise<number> {
  const [sub, ...rest] = args;
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: {
      type: { type: 'string' },
      json: { type: 'boolean' },
      graph: { type: 'string' },
      neo4j: { type: 'string' },
      user: { type: 'string' },
      password: { type: 'string' },
      database: { type: 'string' },
      batch: { type: 'string' },
      replace: { type: 'boolean' },
      out: { type: 'string' },
    },
  });
  switch (sub) {
    case 'link': {
      if (positionals.length === 0) {
        ctx.err(`yijian kg link: give at least one mention\n\n${USAGE}\n`);
        return 2;
      }
      const kind = kindOf(values.type);
      const linker = createLinker(localGraph(values.graph));
      const results = positionals.map((t) => linker.link(t, kind ? { kind } : {}));
      if (values.json) ctx.out(`${JSON.stringify(results.length === 1 ? results[0] : results, null, 2)}\n`);
      else {
        for (const r of results) {
          if (!r.linked) ctx.out(`${r.text}\t(unlinked)\n`);
          for (const c of r.candidates) {
            ctx.out(`${r.text}\t${c.conceptId}\t${c.name}\t${c.kind}\t${c.matchKind}\t${c.score}\n`);
          }
        }
      }
      return 0;
    }
    case 'stats': {
      const store: GraphStore = values.neo4j ? neo4jFrom(values) : localGraph(values.graph);
      try {
        const s = await store.stats();
        ctx.out(values.json ? `${JSON.stringify(s, null, 2)}\n` : formatStats(s));
      } finally {
        if (values.neo4j) await store.close();
      }
      return 0;
    }
    case 'push': {
      const graph = localGraph(values.graph);
      const neo = neo4jFrom(values);
      try {
        await neo.setupSchema();
        if (values.replace) await neo.clear();
        const done = await neo.load(graph, (p) => {
          if (!values.json) ctx.err(`\rpushed ${p.nodes} nodes, ${p.edges} edges`);
        });
        if (!values.json) ctx.err('\n');
        const s = await neo.stats();
        ctx.out(
          values.json
            ? `${JSON.stringify({ database: neo.database, written: done, stats: s }, null, 2)}\n`
            : `pushed to ${neo.database}: ${done.nodes} nodes, ${done.edges} edges\n${formatStats(s)}`,
        );
      } finally {
        await neo.close();
      }
      return 0;
    }
    case 'pull': {
      if (!values.out) {
        ctx.err(`yijian kg pull: --out DIR|FILE.json is required\n\n${USAGE}\n`);
        return 2;
      }
      const neo = neo4jFrom(values);
      try {
        const data = await neo.readAll();
        const graph = MemoryGraph.fromData(data);
        const asFile =
          values.out.endsWith('.json') || (existsSync(values.out) && statSync(values.out).isFile());
        if (asFile) writeSnapshotFile(graph, values.out);
        else writeGraphDirectory(graph, values.out);
        const s = graph.statsSync();
        ctx.out(
          values.json
            ? `${JSON.stringify({ out: values.out, stats: s }, null, 2)}\n`
            : `pulled into ${values.out}\n${formatStats(s)}`,
        );
      } finally {
        await neo.close();
      }
      return 0;
    }
    default:
      ctx.err(`yijian kg: unknown subcommand ${JSON.stringify(sub ?? '')}\n\n${USAGE}\n`);
      return 2;
  }
}

export const kgCommand: Command = {
  name: 'kg',
  summary: 'Knowledge graph: link mentions, counts, push to and pull from Neo4j',
  usage: USAGE,
  run,
};
