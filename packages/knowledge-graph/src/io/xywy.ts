import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { CdssError } from '@yijian/emr';
import type { Concept, ConceptKind, Edge, GraphData, RelationType } from '../types.js';
import { readText } from './files.js';

/** One disease of the xywy (寻医问药) disease graph, in either the raw or the compact layout. */
export interface XywyDisease {
  name: string;
  departments?: string[];
  symptoms?: string[];
  complications?: string[];
  checks?: string[];
  common_drugs?: string[];
}

interface RawRecord {
  gaishu_info?: {
    name?: string;
    belongs_to_department?: string[];
    has_complication?: string[];
    common_drug?: string[];
  };
  symptom_data?: { symptoms?: string[] };
  inspect_info?: string[];
}

/** Normalise a raw `medical_N.json` record or a compact line to XywyDisease. */
export function toXywyDisease(value: unknown): XywyDisease | undefined {
  const v = value as RawRecord & XywyDisease;
  if (typeof v?.name === 'string') return v;
  const g = v?.gaishu_info;
  if (!g?.name) return undefined;
  return {
    name: g.name,
    departments: g.belongs_to_department ?? [],
    symptoms: v.symptom_data?.symptoms ?? [],
    complications: g.has_complication ?? [],
    checks: v.inspect_info ?? [],
    common_drugs: g.common_drug ?? [],
  };
}

/**
 * Import the xywy disease-graph format (as in ../shared/kg-data/medicalkgqa-xywy-json/): diseases
 * with their symptoms, complications, checks, departments and common drugs. Concepts get ids under
 * `xywy:` so they never collide with curated ones; link them to curated concepts with the Linker.
 * The source is consumer-web content: edges are a weak prior, not clinical rules.
 */
export function importXywy(
  diseases: Iterable<XywyDisease>,
  source = 'xywy (寻医问药) disease graph',
): GraphData {
  const nodes = new Map<string, Concept>();
  const edges: Edge[] = [];
  const seen = new Set<string>();
  const node = (kind: ConceptKind, prefix: string, name: string): string => {
    const id = `xywy:${prefix}:${name}`;
    if (!nodes.has(id)) nodes.set(id, { id, kind, name, synonyms: [], codes: [], props: {}, source });
    return id;
  };
  const edge = (type: RelationType, from: string, to: string): void => {
    const key = `${type}|${from}|${to}`;
    if (seen.has(key) || from === to) return;
    seen.add(key);
    edges.push({ type, from, to, props: {}, source });
  };
  for (const d of diseases) {
    const name = d.name?.trim();
    if (!name) continue;
    const id = node('Disease', 'disease', name);
    for (const s of d.symptoms ?? [])
      if (s.trim()) edge('HAS_SYMPTOM', id, node('Symptom', 'symptom', s.trim()));
    for (const c of d.complications ?? [])
      if (c.trim()) edge('HAS_COMPLICATION', id, node('Disease', 'disease', c.trim()));
    for (const c of d.checks ?? []) if (c.trim()) edge('NEEDS_TEST', id, node('Exam', 'check', c.trim()));
    for (const c of d.departments ?? [])
      if (c.trim()) edge('TREATED_IN', id, node('Department', 'department', c.trim()));
    for (const c of d.common_drugs ?? [])
      if (c.trim()) edge('INDICATED_FOR', node('Drug', 'drug', c.trim()), id);
  }
  return { nodes: [...nodes.values()], edges };
}

/**
 * Read an xywy directory: `diseases_compact.jsonl` when present, else every `medical_*.json`
 * (objects `{"<index>": record}`).
 */
export function readXywyDirectory(dir: string): XywyDisease[] {
  const compact = join(dir, 'diseases_compact.jsonl');
  const out: XywyDisease[] = [];
  if (existsSync(compact)) {
    readText(compact)
      .split('\n')
      .forEach((line, i) => {
        if (!line.trim()) return;
        let v: unknown;
        try {
          v = JSON.parse(line);
        } catch (cause) {
          throw new CdssError('CDSS_ERR_INVALID_DATA', `${compact}:${i + 1}: not valid JSON`, { cause });
        }
        const d = toXywyDisease(v);
        if (!d)
          throw new CdssError('CDSS_ERR_INVALID_DATA', `${compact}:${i + 1}: not an xywy disease record`);
        out.push(d);
      });
    return out;
  }
  const files = readdirSync(dir).filter((f) => /^medical_\d+\.json$/.test(f));
  if (files.length === 0) throw new CdssError('CDSS_ERR_IO', `${dir} holds no xywy disease files`);
  for (const f of files.sort()) {
    let obj: Record<string, unknown>;
    try {
      obj = JSON.parse(readText(join(dir, f))) as Record<string, unknown>;
    } catch (cause) {
      throw new CdssError('CDSS_ERR_INVALID_DATA', `${join(dir, f)}: not valid JSON`, { cause });
    }
    for (const v of Object.values(obj)) {
      const d = toXywyDisease(v);
      if (d) out.push(d);
    }
  }
  return out;
}
