import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CdssError } from '@yijian/emr';
import { MemoryGraph } from '../memory-graph.js';
import type { GraphData } from '../types.js';

function asData(graph: MemoryGraph | GraphData): GraphData {
  return graph instanceof MemoryGraph ? graph.toData() : graph;
}

const slug = (s: string): string =>
  s
    .replace(/([a-z])([A-Z])/g, '$1-$2')
    .toLowerCase()
    .replace(/_/g, '-');

/**
 * Write a graph as a JSONL directory (`nodes/<kind>.jsonl`, `edges/<relation>.jsonl`), the format
 * MemoryGraph.fromDirectory reads. Empty fields are left out.
 */
export function writeGraphDirectory(graph: MemoryGraph | GraphData, dir: string): { files: number } {
  const data = asData(graph);
  const groups = new Map<string, string[]>();
  const put = (file: string, line: string): void => {
    const list = groups.get(file);
    if (list) list.push(line);
    else groups.set(file, [line]);
  };
  for (const c of data.nodes) {
    const o: Record<string, unknown> = { id: c.id, kind: c.kind, name: c.name };
    if (c.synonyms.length) o.synonyms = c.synonyms;
    if (c.codes.length) o.codes = c.codes;
    if (Object.keys(c.props).length) o.props = c.props;
    o.source = c.source;
    put(join('nodes', `${slug(c.kind)}.jsonl`), JSON.stringify(o));
  }
  for (const e of data.edges) {
    const o: Record<string, unknown> = { type: e.type, from: e.from, to: e.to };
    if (Object.keys(e.props).length) o.props = e.props;
    o.source = e.source;
    put(join('edges', `${slug(e.type)}.jsonl`), JSON.stringify(o));
  }
  try {
    mkdirSync(join(dir, 'nodes'), { recursive: true });
    mkdirSync(join(dir, 'edges'), { recursive: true });
    for (const [file, lines] of groups) writeFileSync(join(dir, file), `${lines.join('\n')}\n`);
  } catch (cause) {
    throw new CdssError('CDSS_ERR_IO', `cannot write graph directory ${dir}`, { cause });
  }
  return { files: groups.size };
}

/** Write the columnar snapshot file MemoryGraph.fromSnapshot reads. */
export function writeSnapshotFile(graph: MemoryGraph | GraphData, file: string): void {
  const g = graph instanceof MemoryGraph ? graph : MemoryGraph.fromData(graph);
  try {
    writeFileSync(file, g.toSnapshot());
  } catch (cause) {
    throw new CdssError('CDSS_ERR_IO', `cannot write snapshot ${file}`, { cause });
  }
}

/** Read a text file with a coded error. */
export function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (cause) {
    throw new CdssError('CDSS_ERR_IO', `cannot read ${file}`, { cause });
  }
}
