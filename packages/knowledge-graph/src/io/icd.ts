import { CdssError } from '@yijian/emr';
import type { Concept, Edge, GraphData } from '../types.js';
import { parseCsv } from './csv.js';

export interface IcdImportOptions {
  /** Code system written on each concept, e.g. ICD-10-YB2.0, ICD-10-GL2.0, ICD-9-CM-3. */
  system: string;
  /** Diagnoses become Disease, operation tables Procedure. */
  kind: 'Disease' | 'Procedure';
  /** Id prefix, e.g. `icd10yb` gives `icd10yb:A00.000`. */
  idPrefix: string;
  source: string;
  where?: string;
}

/** Code without the national extension (A00.000x001 -> A00.000) and without dagger/asterisk parts. */
function base(code: string): string {
  return code.replace(/[+*].*$/, '').replace(/x\d+$/i, '');
}

/**
 * Import an ICD code table (`code,name` CSV, the format of the 医保版 2.0 tables). Each row becomes
 * a concept; a code's IS_A parent is the nearest code in the same table that it extends (the code
 * without its x-extension, then shorter prefixes: A00.000x001 -> A00.000 -> A00.0 -> A00).
 */
export function importIcdTable(text: string, opts: IcdImportOptions): GraphData {
  const where = opts.where ?? 'icd.csv';
  const rows = parseCsv(text);
  const header = rows[0]?.map((h) => h.trim().toLowerCase());
  if (header?.[0] !== 'code' || header[1] !== 'name') {
    throw new CdssError('CDSS_ERR_INVALID_DATA', `${where}:1: expected a header starting code,name`);
  }
  const nodes: Concept[] = [];
  const byCode = new Map<string, string>();
  rows.slice(1).forEach((cells, i) => {
    const code = cells[0]?.trim();
    const name = cells[1]?.trim();
    if (!code || !name)
      throw new CdssError('CDSS_ERR_INVALID_DATA', `${where}:${i + 2}: code and name are required`);
    const id = `${opts.idPrefix}:${code}`;
    if (byCode.has(code.toUpperCase())) return; // a repeated row
    byCode.set(code.toUpperCase(), id);
    nodes.push({
      id,
      kind: opts.kind,
      name,
      synonyms: [],
      codes: [{ system: opts.system, code }],
      props: {},
      source: opts.source,
    });
  });
  const edges: Edge[] = [];
  for (const c of nodes) {
    const code = c.codes[0]!.code;
    const candidates: string[] = [];
    const b = base(code);
    if (b !== code) candidates.push(b);
    for (let len = b.length - 1; len >= 3; len--) candidates.push(b.slice(0, len).replace(/\.$/, ''));
    for (const p of candidates) {
      const parent = byCode.get(p.toUpperCase());
      if (parent && parent !== c.id) {
        edges.push({ type: 'IS_A', from: c.id, to: parent, props: {}, source: opts.source });
        break;
      }
    }
  }
  return { nodes, edges };
}
