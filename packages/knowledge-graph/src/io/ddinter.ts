import { CdssError } from '@yijian/emr';
import type { MemoryGraph } from '../memory-graph.js';
import type { Concept, Edge, GraphData, Severity } from '../types.js';
import { parseCsv } from './csv.js';

export interface DdinterImportOptions {
  /**
   * Map DDInter drugs onto this graph's drugs by English INN (props.inn and English synonyms);
   * pairs whose drugs are both known become edges between existing drug ids, others create
   * `ddinter:` drug nodes unless `onlyKnown` is set.
   */
  linkTo?: MemoryGraph;
  onlyKnown?: boolean;
  /** DDInter rows with level Unknown are skipped unless a severity is given for them. */
  unknownAs?: Severity;
  source?: string;
  where?: string;
}

const LEVELS: Record<string, Severity> = { major: 'major', moderate: 'moderate', minor: 'minor' };

function innKey(s: string): string {
  return s.toLowerCase().replace(/[^a-z0-9]/g, '');
}

/**
 * Import a DDInter CSV (`DDInterID_A,Drug_A,DDInterID_B,Drug_B,Level`, or the deduplicated
 * `ddinter_id_a,drug_a,ddinter_id_b,drug_b,level[,atc_files]`). DDInter gives no mechanism or
 * management text; the edges say so. DDInter is CC BY-NC-SA 4.0: use it only where licensed.
 */
export function importDdinter(text: string, opts: DdinterImportOptions = {}): GraphData & { mapped: number } {
  const where = opts.where ?? 'ddinter.csv';
  const source = opts.source ?? 'DDInter (CC BY-NC-SA 4.0)';
  const rows = parseCsv(text);
  const header = rows[0]?.map((h) => h.trim().toLowerCase());
  const col = (name: string): number => header?.indexOf(name) ?? -1;
  const [ia, na, ib, nb, lv] = ['ddinterid_a', 'drug_a', 'ddinterid_b', 'drug_b', 'level'].map((h) =>
    col(h) >= 0 ? col(h) : col(h.replace('ddinterid', 'ddinter_id')),
  );
  if ([ia, na, ib, nb, lv].some((i) => i === undefined || i < 0)) {
    throw new CdssError(
      'CDSS_ERR_INVALID_DATA',
      `${where}:1: expected DDInter columns (ddinter id, drug, level)`,
    );
  }
  const known = new Map<string, string>();
  if (opts.linkTo) {
    for (const c of opts.linkTo.allConcepts()) {
      if (c.kind !== 'Drug') continue;
      const inn = typeof c.props.inn === 'string' ? [c.props.inn] : [];
      for (const t of [...inn, ...c.synonyms.filter((s) => /^[A-Za-z][A-Za-z0-9 ,/()-]+$/.test(s))]) {
        const k = innKey(t);
        if (k && !known.has(k)) known.set(k, c.id);
      }
    }
  }
  const nodes = new Map<string, Concept>();
  const edges: Edge[] = [];
  const seen = new Set<string>();
  let mapped = 0;
  const drug = (ddId: string, name: string): string | undefined => {
    const hit = known.get(innKey(name));
    if (hit) return hit;
    if (opts.onlyKnown) return undefined;
    const id = `ddinter:${ddId}`;
    if (!nodes.has(id)) {
      nodes.set(id, { id, kind: 'Drug', name, synonyms: [], codes: [], props: { inn: name }, source });
    }
    return id;
  };
  rows.slice(1).forEach((cells, i) => {
    const level = (cells[lv!] ?? '').trim().toLowerCase();
    const severity = LEVELS[level] ?? (level === 'unknown' ? opts.unknownAs : undefined);
    if (!severity) {
      if (level !== 'unknown')
        throw new CdssError('CDSS_ERR_INVALID_DATA', `${where}:${i + 2}: unknown level ${cells[lv!]}`);
      return;
    }
    const a = drug(cells[ia!]!.trim(), cells[na!]!.trim());
    const b = drug(cells[ib!]!.trim(), cells[nb!]!.trim());
    if (!a || !b || a === b) return;
    const [x, y] = a < b ? [a, b] : [b, a];
    if (seen.has(`${x}|${y}`)) return;
    seen.add(`${x}|${y}`);
    if (!a.startsWith('ddinter:') && !b.startsWith('ddinter:')) mapped++;
    edges.push({
      type: 'INTERACTS_WITH',
      from: x,
      to: y,
      props: {
        id: `ddinter:${cells[ia!]!.trim()}+${cells[ib!]!.trim()}`,
        severity,
        mechanism: 'DDInter未提供机制说明',
        effect: `DDInter相互作用等级：${cells[lv!]!.trim()}`,
        management: '请查阅药品说明书或咨询临床药师',
      },
      source,
    });
  });
  return { nodes: [...nodes.values()], edges, mapped };
}
