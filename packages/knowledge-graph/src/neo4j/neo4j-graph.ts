import { CdssError, fromZodIssues } from '@yijian/emr';
import neo4j, { type Driver, type Node as NeoNode, type Session } from 'neo4j-driver';
import { z } from 'zod';
import { codeKey, codeLookupKeys, MemoryGraph, nameKey } from '../memory-graph.js';
import type {
  AllergyConflict,
  Concept,
  ConceptCode,
  ConceptKind,
  Contraindication,
  Direction,
  Edge,
  GraphData,
  GraphStats,
  GraphStore,
  Interaction,
  RelationType,
} from '../types.js';
import { CYPHER, type Statement } from './cypher.js';

export const neo4jOptionsSchema = z.strictObject({
  /** bolt://, neo4j://, neo4j+s:// … */
  uri: z.string().min(1),
  user: z.string().default('neo4j'),
  password: z.string().default(''),
  /** Named on every session. */
  database: z.string().min(1).default('neo4j'),
  /** Rows per UNWIND batch on writes and per page on reads. */
  batchSize: z.number().int().min(1).max(100_000).default(5_000),
});
export type Neo4jOptions = z.input<typeof neo4jOptionsSchema>;

/** One driver per process and (uri, user): drivers are pooled and expensive to create. */
const drivers = new Map<string, { driver: Driver; users: number }>();

function acquireDriver(o: z.output<typeof neo4jOptionsSchema>): { key: string; driver: Driver } {
  const key = `${o.uri}\u0000${o.user}`;
  let entry = drivers.get(key);
  if (!entry) {
    entry = {
      driver: neo4j.driver(o.uri, neo4j.auth.basic(o.user, o.password), { disableLosslessIntegers: true }),
      users: 0,
    };
    drivers.set(key, entry);
  }
  entry.users++;
  return { key, driver: entry.driver };
}

async function releaseDriver(key: string): Promise<void> {
  const entry = drivers.get(key);
  if (!entry) return;
  entry.users--;
  if (entry.users <= 0) {
    drivers.delete(key);
    await entry.driver.close();
  }
}

type Row = Record<string, unknown>;

/** Concept as stored on a `:Concept` node (props as JSON text, codes as "SYSTEM|CODE"). */
export function conceptToRow(c: Concept): Row {
  const terms = new Set([nameKey(c.name), ...c.synonyms.map(nameKey)]);
  return {
    id: c.id,
    kind: c.kind,
    name: c.name,
    nameKey: nameKey(c.name),
    synonyms: c.synonyms,
    termKeys: [...terms],
    codes: c.codes.map((k) => `${k.system}|${k.code}`),
    codeKeys: c.codes.map((k) => codeKey(k.system, k.code)),
    props: JSON.stringify(c.props),
    source: c.source,
  };
}

function rowToConcept(p: Record<string, unknown>): Concept {
  const codes = ((p.codes as string[] | undefined) ?? []).map((s) => {
    const at = s.indexOf('|');
    return { system: s.slice(0, at), code: s.slice(at + 1) };
  });
  return {
    id: String(p.id),
    kind: p.kind as ConceptKind,
    name: String(p.name),
    synonyms: (p.synonyms as string[] | undefined) ?? [],
    codes,
    props: typeof p.props === 'string' ? (JSON.parse(p.props) as Record<string, unknown>) : {},
    source: String(p.source ?? ''),
  };
}

function nodeToConcept(n: NeoNode): Concept {
  return rowToConcept(n.properties as Record<string, unknown>);
}

function parseProps(v: unknown): Record<string, unknown> {
  return typeof v === 'string' && v ? (JSON.parse(v) as Record<string, unknown>) : {};
}

/**
 * GraphStore over Neo4j (neo4j-driver 6). Reads answer rule queries by fetching the small subgraph
 * above the given concepts and running the MemoryGraph algorithm on it, so both stores give the same
 * results and explanation paths.
 */
export class Neo4jGraph implements GraphStore {
  private readonly opts: z.output<typeof neo4jOptionsSchema>;
  private readonly driver: Driver;
  private readonly driverKey: string;
  private closed = false;

  private constructor(opts: z.output<typeof neo4jOptionsSchema>) {
    this.opts = opts;
    const { key, driver } = acquireDriver(opts);
    this.driver = driver;
    this.driverKey = key;
  }

  static connect(options: Neo4jOptions): Neo4jGraph {
    const parsed = neo4jOptionsSchema.safeParse(options);
    if (!parsed.success)
      throw fromZodIssues('CDSS_ERR_INVALID_CONFIG', 'invalid Neo4j options', parsed.error.issues);
    return new Neo4jGraph(parsed.data);
  }

  get database(): string {
    return this.opts.database;
  }

  private session(mode: 'READ' | 'WRITE'): Session {
    if (this.closed) throw new CdssError('CDSS_ERR_GRAPH', 'Neo4jGraph is closed');
    return this.driver.session({
      database: this.opts.database,
      defaultAccessMode: mode === 'READ' ? neo4j.session.READ : neo4j.session.WRITE,
    });
  }

  private async read(st: Statement, params: Row): Promise<Row[]> {
    const session = this.session('READ');
    try {
      const res = await session.executeRead((tx) => tx.run(st.cypher, params));
      return res.records.map((r) => r.toObject() as Row);
    } catch (cause) {
      throw new CdssError('CDSS_ERR_GRAPH', `Neo4j ${st.name} failed: ${(cause as Error).message}`, {
        cause,
      });
    } finally {
      await session.close();
    }
  }

  private async write(st: Statement, params: Row, autoCommit = false): Promise<void> {
    const session = this.session('WRITE');
    try {
      if (autoCommit) await session.run(st.cypher, params);
      else await session.executeWrite((tx) => tx.run(st.cypher, params));
    } catch (cause) {
      throw new CdssError('CDSS_ERR_GRAPH', `Neo4j ${st.name} failed: ${(cause as Error).message}`, {
        cause,
      });
    } finally {
      await session.close();
    }
  }

  // ---- schema and bulk I/O --------------------------------------------------------------------

  /** Create the uniqueness constraint and indexes (idempotent). */
  async setupSchema(): Promise<void> {
    for (const st of [CYPHER.constraintConceptId, CYPHER.indexConceptNameKey, CYPHER.indexConceptKind]) {
      await this.write(st, {}, true);
    }
  }

  /** Delete every `:Concept` and its relationships (in batches). */
  async clear(): Promise<void> {
    await this.write(CYPHER.deleteAll, {}, true);
  }

  /**
   * Load a graph with batched UNWIND writes (MERGE, so re-running is safe). Returns the counts
   * written. `onProgress` is called after each batch.
   */
  async load(
    data: GraphData | MemoryGraph,
    onProgress?: (done: { nodes: number; edges: number }) => void,
  ): Promise<{ nodes: number; edges: number }> {
    const nodes = data instanceof MemoryGraph ? [...data.allConcepts()] : data.nodes;
    const edges = data instanceof MemoryGraph ? [...data.allEdges()] : data.edges;
    const n = this.opts.batchSize;
    const done = { nodes: 0, edges: 0 };
    for (let i = 0; i < nodes.length; i += n) {
      await this.write(CYPHER.upsertConcepts, { rows: nodes.slice(i, i + n).map(conceptToRow) });
      done.nodes = Math.min(nodes.length, i + n);
      onProgress?.(done);
    }
    for (let i = 0; i < edges.length; i += n) {
      const rows = edges.slice(i, i + n).map((e) => ({
        type: e.type,
        from: e.from,
        to: e.to,
        props: JSON.stringify(e.props),
        source: e.source,
      }));
      await this.write(CYPHER.upsertEdges, { rows });
      done.edges = Math.min(edges.length, i + n);
      onProgress?.(done);
    }
    return done;
  }

  /** Read the whole graph back (paged by id). */
  async readAll(): Promise<GraphData> {
    const nodes: Concept[] = [];
    let after = '';
    for (;;) {
      const rows = await this.read(CYPHER.pageConcepts, { after, limit: this.opts.batchSize });
      for (const r of rows) nodes.push(nodeToConcept(r.c as NeoNode));
      if (rows.length < this.opts.batchSize) break;
      after = nodes[nodes.length - 1]!.id;
    }
    const edges: Edge[] = [];
    let afterFrom = '';
    let afterRel = '';
    for (;;) {
      const rows = await this.read(CYPHER.pageEdges, {
        after: afterFrom,
        afterRel,
        limit: this.opts.batchSize,
      });
      for (const r of rows) {
        edges.push({
          type: r.type as RelationType,
          from: String(r.from),
          to: String(r.to),
          props: parseProps(r.props),
          source: String(r.source ?? ''),
        });
      }
      if (rows.length < this.opts.batchSize) break;
      const last = rows[rows.length - 1]!;
      afterFrom = String(last.from);
      afterRel = String(last.rel);
    }
    return { nodes, edges };
  }

  /** The subgraph above `ids` with edges of `types`, as a MemoryGraph. */
  private async subgraph(ids: string[], types: RelationType[]): Promise<MemoryGraph> {
    const rows = await this.read(CYPHER.subgraphAbove, { ids: [...new Set(ids)], types });
    const row = rows[0];
    if (!row) return MemoryGraph.fromData({ nodes: [], edges: [] });
    const nodes = (row.nodes as NeoNode[]).map(nodeToConcept);
    const edges = (row.rels as (Row | null)[])
      .filter((r): r is Row => r !== null)
      .map((r) => ({
        type: r.type as RelationType,
        from: String(r.from),
        to: String(r.to),
        props: parseProps(r.props),
        source: String(r.source ?? ''),
      }));
    return MemoryGraph.fromData({ nodes, edges });
  }

  // ---- GraphStore ----------------------------------------------------------------------------

  async conceptById(id: string): Promise<Concept | undefined> {
    const rows = await this.read(CYPHER.conceptById, { id });
    return rows[0] ? nodeToConcept(rows[0].c as NeoNode) : undefined;
  }

  async findByName(name: string, kind?: ConceptKind): Promise<Concept[]> {
    const rows = await this.read(CYPHER.findByName, { key: nameKey(name), kind: kind ?? null });
    return rows.map((r) => nodeToConcept(r.c as NeoNode));
  }

  async neighbours(
    id: string,
    opts: { type?: RelationType; direction?: Direction } = {},
  ): Promise<{ edge: Edge; concept: Concept }[]> {
    const rows = await this.read(CYPHER.neighbours, {
      id,
      type: opts.type ?? null,
      direction: opts.direction ?? 'both',
    });
    return rows.map((r) => ({
      edge: {
        type: r.type as RelationType,
        from: String(r.from),
        to: String(r.to),
        props: parseProps(r.props),
        source: String(r.source ?? ''),
      },
      concept: nodeToConcept(r.o as NeoNode),
    }));
  }

  async ancestors(id: string): Promise<Concept[]> {
    return (await this.read(CYPHER.ancestors, { id })).map((r) => nodeToConcept(r.a as NeoNode));
  }

  async descendants(id: string): Promise<Concept[]> {
    return (await this.read(CYPHER.descendants, { id })).map((r) => nodeToConcept(r.d as NeoNode));
  }

  async interactionsAmong(drugIds: string[]): Promise<Interaction[]> {
    const g = await this.subgraph(drugIds, ['IS_A', 'BELONGS_TO', 'INTERACTS_WITH']);
    return g.interactionsAmongSync(drugIds);
  }

  async contraindicationsOf(drugIds: string[], conditionIds: string[]): Promise<Contraindication[]> {
    const g = await this.subgraph(
      [...drugIds, ...conditionIds],
      ['IS_A', 'BELONGS_TO', 'CONTRAINDICATED_IN', 'CAUTION_IN'],
    );
    return g.contraindicationsOfSync(drugIds, conditionIds);
  }

  async allergyConflicts(allergenIds: string[], drugIds: string[]): Promise<AllergyConflict[]> {
    const g = await this.subgraph([...allergenIds, ...drugIds], ['IS_A', 'BELONGS_TO', 'CROSS_REACTS']);
    return g.allergyConflictsSync(allergenIds, drugIds);
  }

  async codesOf(id: string): Promise<ConceptCode[]> {
    return (await this.conceptById(id))?.codes ?? [];
  }

  async conceptByCode(system: string, code: string): Promise<Concept | undefined> {
    const keys = codeLookupKeys(system, code);
    const rows = await this.read(CYPHER.conceptsByCodeKeys, { keys });
    let best: { rank: number; concept: Concept } | undefined;
    for (const r of rows) {
      const rank = Math.min(...(r.matched as string[]).map((k) => keys.indexOf(k)));
      if (!best || rank < best.rank) best = { rank, concept: nodeToConcept(r.c as NeoNode) };
    }
    return best?.concept;
  }

  async stats(): Promise<GraphStats> {
    const nodes: Record<string, number> = {};
    for (const r of await this.read(CYPHER.countNodesByKind, {})) nodes[String(r.kind)] = Number(r.n);
    const edges: Record<string, number> = {};
    for (const r of await this.read(CYPHER.countEdgesByType, {})) edges[String(r.type)] = Number(r.n);
    return { nodes, edges };
  }

  /** Release this store's share of the process-wide driver. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await releaseDriver(this.driverKey);
  }
}
