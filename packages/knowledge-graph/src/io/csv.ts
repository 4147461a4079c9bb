import { CdssError } from '@yijian/emr';
import { z } from 'zod';
import { CONCEPT_KINDS, type Concept, type Edge, type GraphData, RELATION_TYPES } from '../types.js';

/** RFC 4180 CSV: quoted fields, doubled quotes, CRLF or LF. Returns rows of cells. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  const s = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]!;
    if (quoted) {
      if (ch === '"') {
        if (s[i + 1] === '"') {
          cell += '"';
          i++;
        } else quoted = false;
      } else cell += ch;
    } else if (ch === '"' && cell === '') quoted = true;
    else if (ch === ',') {
      row.push(cell);
      cell = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && s[i + 1] === '\n') i++;
      row.push(cell);
      if (row.length > 1 || row[0] !== '') rows.push(row);
      row = [];
      cell = '';
    } else cell += ch;
  }
  if (cell !== '' || row.length > 0) {
    row.push(cell);
    rows.push(row);
  }
  return rows;
}

/** Quote a CSV cell when needed. */
export function csvCell(v: string): string {
  return /[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

/** Rows as objects keyed by the header; unknown or missing required columns fail with the line. */
function records(
  text: string,
  where: string,
  required: string[],
  optional: string[],
): { rec: Record<string, string>; line: number }[] {
  const rows = parseCsv(text);
  const header = rows[0]?.map((h) => h.trim());
  if (!header) throw new CdssError('CDSS_ERR_INVALID_DATA', `${where}: empty CSV`);
  const allowed = new Set([...required, ...optional]);
  for (const h of header) {
    if (!allowed.has(h))
      throw new CdssError('CDSS_ERR_INVALID_DATA', `${where}:1: unknown column ${JSON.stringify(h)}`);
  }
  for (const r of required) {
    if (!header.includes(r)) throw new CdssError('CDSS_ERR_INVALID_DATA', `${where}:1: missing column ${r}`);
  }
  return rows.slice(1).map((cells, i) => {
    if (cells.length !== header.length) {
      throw new CdssError(
        'CDSS_ERR_INVALID_DATA',
        `${where}:${i + 2}: expected ${header.length} cells, got ${cells.length}`,
      );
    }
    return { rec: Object.fromEntries(header.map((h, k) => [h, cells[k]!])), line: i + 2 };
  });
}

const kindSchema = z.enum(CONCEPT_KINDS);
const typeSchema = z.enum(RELATION_TYPES);

function json(where: string, text: string): Record<string, unknown> {
  if (!text) return {};
  try {
    const v = JSON.parse(text) as unknown;
    if (typeof v === 'object' && v !== null && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    // reported below
  }
  throw new CdssError('CDSS_ERR_INVALID_DATA', `${where}: props must be a JSON object`);
}

/**
 * Generic node CSV: `id,kind,name[,synonyms][,codes][,props][,source]`. Synonyms are separated by
 * `|`; codes are `SYSTEM:CODE` separated by `|`; props is a JSON object. Values are checked again
 * when the graph is built.
 */
export function importNodesCsv(text: string, opts: { where?: string; source?: string } = {}): Concept[] {
  const where = opts.where ?? 'nodes.csv';
  return records(text, where, ['id', 'kind', 'name'], ['synonyms', 'codes', 'props', 'source']).map(
    ({ rec, line }) => {
      const kind = kindSchema.safeParse(rec.kind);
      if (!kind.success)
        throw new CdssError('CDSS_ERR_INVALID_DATA', `${where}:${line}: unknown kind ${rec.kind}`);
      return {
        id: rec.id!,
        kind: kind.data,
        name: rec.name!,
        synonyms: (rec.synonyms ?? '').split('|').filter(Boolean),
        codes: (rec.codes ?? '')
          .split('|')
          .filter(Boolean)
          .map((c) => {
            const at = c.indexOf(':');
            if (at <= 0)
              throw new CdssError('CDSS_ERR_INVALID_DATA', `${where}:${line}: code ${c} is not SYSTEM:CODE`);
            return { system: c.slice(0, at), code: c.slice(at + 1) };
          }),
        props: json(`${where}:${line}`, rec.props ?? ''),
        source: rec.source || opts.source || 'import',
      };
    },
  );
}

/** Generic edge CSV: `type,from,to[,props][,source]`. */
export function importEdgesCsv(text: string, opts: { where?: string; source?: string } = {}): Edge[] {
  const where = opts.where ?? 'edges.csv';
  return records(text, where, ['type', 'from', 'to'], ['props', 'source']).map(({ rec, line }) => {
    const type = typeSchema.safeParse(rec.type);
    if (!type.success)
      throw new CdssError('CDSS_ERR_INVALID_DATA', `${where}:${line}: unknown relation ${rec.type}`);
    return {
      type: type.data,
      from: rec.from!,
      to: rec.to!,
      props: json(`${where}:${line}`, rec.props ?? ''),
      source: rec.source || opts.source || 'import',
    };
  });
}

/** Export nodes and edges as the two generic CSV files. */
export function exportCsv(data: GraphData): { nodes: string; edges: string } {
  const nodes = ['id,kind,name,synonyms,codes,props,source'];
  for (const c of data.nodes) {
    nodes.push(
      [
        c.id,
        c.kind,
        c.name,
        c.synonyms.join('|'),
        c.codes.map((k) => `${k.system}:${k.code}`).join('|'),
        Object.keys(c.props).length ? JSON.stringify(c.props) : '',
        c.source,
      ]
        .map(csvCell)
        .join(','),
    );
  }
  const edges = ['type,from,to,props,source'];
  for (const e of data.edges) {
    edges.push(
      [e.type, e.from, e.to, Object.keys(e.props).length ? JSON.stringify(e.props) : '', e.source]
        .map(csvCell)
        .join(','),
    );
  }
  return { nodes: `${nodes.join('\n')}\n`, edges: `${edges.join('\n')}\n` };
}
