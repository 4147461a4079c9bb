import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { CdssError } from '@yijian/emr';
import { forEachJsonLine } from './jsonl.js';
import {
  type AllergyConflict,
  type Concept,
  type ConceptCode,
  type ConceptKind,
  type ConceptRef,
  type Contraindication,
  type Direction,
  type Edge,
  type GraphData,
  type GraphStats,
  type GraphStore,
  type Interaction,
  type PathStep,
  RELATION_TYPES,
  type RelationType,
  SEVERITY_RANK,
  type Severity,
} from './types.js';
import { invalidData, isEmptyProps, toConcept, toEdge } from './validate.js';

const TYPE_CODE = new Map<RelationType, number>(RELATION_TYPES.map((t, i) => [t, i]));
const T_IS_A = TYPE_CODE.get('IS_A')!;
const T_BELONGS_TO = TYPE_CODE.get('BELONGS_TO')!;
const T_INTERACTS = TYPE_CODE.get('INTERACTS_WITH')!;
const T_CONTRA = TYPE_CODE.get('CONTRAINDICATED_IN')!;
const T_CAUTION = TYPE_CODE.get('CAUTION_IN')!;
const T_CROSS = TYPE_CODE.get('CROSS_REACTS')!;

/** Key of the name index: trimmed, Latin letters lower-cased. */
export function nameKey(term: string): string {
  return term.trim().toLowerCase();
}

/**
 * Keys to try, in order, when looking a code up: the code in its system, for 医保版/国临版 ICD-10
 * also in plain ICD-10, then for ICD systems ever shorter prefixes down to the 3-character
 * category (I10.x00x002 -> I10.x00 -> … -> I10). Dagger/asterisk parts are dropped.
 */
export function codeLookupKeys(system: string, code: string): string[] {
  const systems = [system];
  if (/^ICD-10-/i.test(system)) systems.push('ICD-10');
  const keys = systems.map((s) => codeKey(s, code));
  if (/^ICD/i.test(system)) {
    const clean = code.replace(/\s+/g, '').replace(/[+*†].*$/, '');
    for (let len = clean.length - 1; len >= 3; len--) {
      const prefix = clean.slice(0, len).replace(/\.$/, '');
      for (const s of systems) keys.push(codeKey(s, prefix));
    }
  }
  return [...new Set(keys)];
}

/** Codes compare case-insensitively (HIS systems write `x` and `X` alike) and without spaces. */
export function codeKey(system: string, code: string): string {
  return `${system.trim().toUpperCase()}|${code.replace(/\s+/g, '').toUpperCase()}`;
}

class IntBuf {
  data = new Int32Array(1024);
  length = 0;
  push(v: number): void {
    if (this.length === this.data.length) {
      const next = new Int32Array(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length++] = v;
  }
  done(): Int32Array {
    return this.data.slice(0, this.length);
  }
}

/** Step in a hierarchy walk: node index, the edge that reached it, and the walk entry it came from. */
interface Reach {
  node: number;
  edge: number;
  prev: number;
}

interface PartnerMatch {
  edge: number;
  pair: boolean;
  rank: number;
  pathLength: number;
  result: Interaction;
}

/**
 * Accumulates nodes and edges (from files, importers or API values) and builds a MemoryGraph.
 * Node ids must be unique; an edge must name nodes that exist when `build()` runs.
 */
export class GraphBuilder {
  private readonly concepts: Concept[] = [];
  private readonly ids = new Map<string, number>();
  private readonly edgeFrom = new IntBuf();
  private readonly edgeTo = new IntBuf();
  private readonly edgeTypes = new IntBuf();
  private readonly edgeProps: (Record<string, unknown> | undefined)[] = [];
  private readonly edgeSources: string[] = [];
  /** Edges whose ends were not known when added: index -> [from, to, where]. */
  private readonly pending = new Map<number, [string, string, string | undefined]>();
  private readonly sources = new Map<string, string>();

  private intern(s: string): string {
    const hit = this.sources.get(s);
    if (hit !== undefined) return hit;
    this.sources.set(s, s);
    return s;
  }

  /** Add a node; `where` (file:line) names the place in errors. */
  addNode(value: unknown, where = 'node'): this {
    const c = toConcept(value, where);
    if (this.ids.has(c.id)) throw invalidData(where, `duplicate node id ${c.id}`);
    c.source = this.intern(c.source);
    this.ids.set(c.id, this.concepts.length);
    this.concepts.push(c);
    return this;
  }

  addEdge(value: unknown, where?: string): this {
    const e = toEdge(value, where ?? `edge ${this.edgeTypes.length}`);
    const f = this.ids.get(e.from);
    const t = this.ids.get(e.to);
    // Ends not known yet are resolved in build(), so edges may come before their nodes.
    if (f === undefined || t === undefined) this.pending.set(this.edgeTypes.length, [e.from, e.to, where]);
    this.edgeFrom.push(f ?? -1);
    this.edgeTo.push(t ?? -1);
    this.edgeTypes.push(TYPE_CODE.get(e.type)!);
    this.edgeProps.push(isEmptyProps(e.props) ? undefined : e.props);
    this.edgeSources.push(this.intern(e.source));
    return this;
  }

  /** Read `nodes/*.jsonl` then `edges/*.jsonl` under a directory (files in name order). */
  addDirectory(dir: string): this {
    const nodeDir = join(dir, 'nodes');
    const edgeDir = join(dir, 'edges');
    if (!existsSync(nodeDir))
      throw new CdssError('CDSS_ERR_IO', `graph directory ${dir} has no nodes/ folder`);
    for (const f of listJsonl(nodeDir)) forEachJsonLine(f, (v, line) => this.addNode(v, `${f}:${line}`));
    if (existsSync(edgeDir)) {
      for (const f of listJsonl(edgeDir)) forEachJsonLine(f, (v, line) => this.addEdge(v, `${f}:${line}`));
    }
    return this;
  }

  /** Build with edges given as columns over the nodes added so far (used by snapshot load). */
  buildWith(
    from: Int32Array,
    to: Int32Array,
    type: Uint8Array,
    props: (Record<string, unknown> | undefined)[],
    sources: string[],
  ): MemoryGraph {
    return new MemoryGraph(this.concepts, this.ids, from, to, type, props, sources);
  }

  build(): MemoryGraph {
    const from = this.edgeFrom.done();
    const to = this.edgeTo.done();
    for (const [i, [f, t, where]] of this.pending) {
      const fi = this.ids.get(f);
      const ti = this.ids.get(t);
      if (fi === undefined || ti === undefined) {
        throw invalidData(where ?? `edge ${i}`, `edge names unknown node ${fi === undefined ? f : t}`);
      }
      from[i] = fi;
      to[i] = ti;
    }
    return new MemoryGraph(
      this.concepts,
      this.ids,
      from,
      to,
      Uint8Array.from(this.edgeTypes.done()),
      this.edgeProps,
      this.edgeSources,
    );
  }
}

function listJsonl(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.jsonl'))
    .sort()
    .map((f) => join(dir, f));
}

function ref(c: Concept): ConceptRef {
  return { id: c.id, name: c.name };
}

const SEVERITIES = new Set(['major', 'moderate', 'minor']);
function severityOf(props: Record<string, unknown> | undefined, fallback: Severity): Severity {
  const s = props?.severity;
  return typeof s === 'string' && SEVERITIES.has(s) ? (s as Severity) : fallback;
}
function str(props: Record<string, unknown> | undefined, key: string): string {
  const v = props?.[key];
  return typeof v === 'string' ? v : '';
}

/**
 * The embedded graph store: everything in memory, indexed for each query of GraphStore. Edges are
 * kept in typed arrays with CSR adjacency so that millions of edges fit in little memory; Edge
 * objects are made when asked for. Concept objects are shared: treat them as read-only.
 */
export class MemoryGraph implements GraphStore {
  private readonly concepts: Concept[];
  private readonly ids: Map<string, number>;
  private readonly eFrom: Int32Array;
  private readonly eTo: Int32Array;
  private readonly eType: Uint8Array;
  private readonly eProps: (Record<string, unknown> | undefined)[];
  private readonly eSource: string[];
  private readonly outStart: Int32Array;
  private readonly outList: Int32Array;
  private readonly inStart: Int32Array;
  private readonly inList: Int32Array;
  private readonly names = new Map<string, number[]>();
  private readonly codes = new Map<string, number>();
  private readonly upCache = new Map<number, Reach[]>();
  private readonly downCache = new Map<number, Reach[]>();
  private readonly partnerCache = new Map<number, Map<number, PartnerMatch>>();
  private lexiconCache: { term: string; kind: ConceptKind; conceptId: string }[] | undefined;

  constructor(
    concepts: Concept[],
    ids: Map<string, number>,
    from: Int32Array,
    to: Int32Array,
    type: Uint8Array,
    props: (Record<string, unknown> | undefined)[],
    sources: string[],
  ) {
    this.concepts = concepts;
    this.ids = ids;
    this.eFrom = from;
    this.eTo = to;
    this.eType = type;
    this.eProps = props;
    this.eSource = sources;
    const n = concepts.length;
    [this.outStart, this.outList] = csr(n, from);
    [this.inStart, this.inList] = csr(n, to);
    for (let i = 0; i < n; i++) {
      const c = concepts[i]!;
      this.indexName(c.name, i);
      for (const s of c.synonyms) this.indexName(s, i);
      for (const code of c.codes) {
        const k = codeKey(code.system, code.code);
        if (!this.codes.has(k)) this.codes.set(k, i);
      }
    }
  }

  private indexName(term: string, i: number): void {
    const k = nameKey(term);
    const list = this.names.get(k);
    if (list === undefined) this.names.set(k, [i]);
    else if (!list.includes(i)) list.push(i);
  }

  // ---- construction ------------------------------------------------------------------------

  static fromData(data: GraphData): MemoryGraph {
    const b = new GraphBuilder();
    data.nodes.forEach((n, i) => {
      b.addNode(n, `nodes[${i}]`);
    });
    data.edges.forEach((e, i) => {
      b.addEdge(e, `edges[${i}]`);
    });
    return b.build();
  }

  /** Load `nodes/*.jsonl` and `edges/*.jsonl` from a directory, synchronously. */
  static fromDirectory(dir: string): MemoryGraph {
    return new GraphBuilder().addDirectory(dir).build();
  }

  /**
   * Load a snapshot file written by {@link MemoryGraph.toSnapshot}: one JSON document with the
   * concepts and the edges in columns (types, node indices, sparse props), which loads far faster
   * than JSONL because edge ends need no id lookups. Everything is validated as on JSONL load.
   */
  static fromSnapshot(file: string): MemoryGraph {
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(file, 'utf8'));
    } catch (cause) {
      throw new CdssError('CDSS_ERR_INVALID_DATA', `${file}: cannot read graph snapshot`, { cause });
    }
    return MemoryGraph.fromSnapshotObject(raw, file);
  }

  /** Build from a parsed snapshot object (see {@link MemoryGraph.fromSnapshot}). */
  static fromSnapshotObject(raw: unknown, where = 'snapshot'): MemoryGraph {
    const r = raw as Partial<Snapshot> | null;
    const e = r?.edges;
    if (
      !r ||
      r.format !== SNAPSHOT_FORMAT ||
      !Array.isArray(r.nodes) ||
      !e ||
      !Array.isArray(e.type) ||
      !Array.isArray(e.from) ||
      !Array.isArray(e.to) ||
      !Array.isArray(e.source) ||
      !Array.isArray(e.sources) ||
      !Array.isArray(e.props) ||
      e.from.length !== e.type.length ||
      e.to.length !== e.type.length ||
      e.source.length !== e.type.length
    ) {
      throw invalidData(where, `not a graph snapshot (expected format ${SNAPSHOT_FORMAT} with edge columns)`);
    }
    const b = new GraphBuilder();
    r.nodes.forEach((n, i) => {
      b.addNode(n, `${where}: nodes[${i}]`);
    });
    const n = r.nodes.length;
    const m = e.type.length;
    const from = Int32Array.from(e.from);
    const to = Int32Array.from(e.to);
    const type = Uint8Array.from(e.type);
    const sources = e.sources.map((s, i) => {
      if (typeof s !== 'string' || !s)
        throw invalidData(where, `edges.sources[${i}] must be a non-empty string`);
      return s;
    });
    const source: string[] = new Array(m);
    for (let i = 0; i < m; i++) {
      if (
        !(
          from[i]! >= 0 &&
          from[i]! < n &&
          to[i]! >= 0 &&
          to[i]! < n &&
          from[i] === e.from[i] &&
          to[i] === e.to[i]
        )
      ) {
        throw invalidData(where, `edge ${i} names a node index out of range`);
      }
      if (type[i] !== e.type[i] || type[i]! >= RELATION_TYPES.length)
        throw invalidData(where, `edge ${i} has an unknown type`);
      const s = sources[e.source[i]!];
      if (s === undefined) throw invalidData(where, `edge ${i} names an unknown source`);
      source[i] = s;
    }
    const props: (Record<string, unknown> | undefined)[] = new Array(m);
    for (const entry of e.props) {
      const [i, value] = entry as [number, unknown];
      if (!Number.isInteger(i) || i < 0 || i >= m)
        throw invalidData(where, 'edges.props names an edge out of range');
      const checked = toEdge(
        { type: RELATION_TYPES[type[i]!], from: 'a', to: 'b', props: value, source: source[i] },
        `${where}: edge ${i}`,
      );
      props[i] = checked.props;
    }
    return b.buildWith(from, to, type, props, source);
  }

  /** Load a directory or a snapshot file, whichever `path` is. */
  static load(path: string): MemoryGraph {
    if (!existsSync(path)) throw new CdssError('CDSS_ERR_IO', `graph path ${path} does not exist`);
    return statSync(path).isDirectory() ? MemoryGraph.fromDirectory(path) : MemoryGraph.fromSnapshot(path);
  }

  // ---- plain data ----------------------------------------------------------------------------

  get nodeCount(): number {
    return this.concepts.length;
  }

  get edgeCount(): number {
    return this.eType.length;
  }

  /** Every concept, in load order. */
  *allConcepts(): IterableIterator<Concept> {
    yield* this.concepts;
  }

  /** Every edge, in load order (objects made on the fly). */
  *allEdges(): IterableIterator<Edge> {
    for (let i = 0; i < this.eType.length; i++) yield this.edge(i);
  }

  toData(): GraphData {
    return { nodes: [...this.concepts], edges: [...this.allEdges()] };
  }

  /** The columnar snapshot document (see {@link MemoryGraph.fromSnapshot}). */
  toSnapshotObject(): Snapshot {
    const sourceIndex = new Map<string, number>();
    const source: number[] = new Array(this.eType.length);
    const props: [number, Record<string, unknown>][] = [];
    for (let i = 0; i < this.eType.length; i++) {
      const s = this.eSource[i]!;
      let k = sourceIndex.get(s);
      if (k === undefined) {
        k = sourceIndex.size;
        sourceIndex.set(s, k);
      }
      source[i] = k;
      const p = this.eProps[i];
      if (p) props.push([i, p]);
    }
    return {
      format: SNAPSHOT_FORMAT,
      nodes: this.concepts,
      edges: {
        type: Array.from(this.eType),
        from: Array.from(this.eFrom),
        to: Array.from(this.eTo),
        source,
        sources: [...sourceIndex.keys()],
        props,
      },
    };
  }

  toSnapshot(): string {
    return JSON.stringify(this.toSnapshotObject());
  }

  private edge(i: number): Edge {
    return {
      type: RELATION_TYPES[this.eType[i]!]!,
      from: this.concepts[this.eFrom[i]!]!.id,
      to: this.concepts[this.eTo[i]!]!.id,
      props: this.eProps[i] ?? {},
      source: this.eSource[i]!,
    };
  }

  // ---- sync queries --------------------------------------------------------------------------

  getConcept(id: string): Concept | undefined {
    const i = this.ids.get(id);
    return i === undefined ? undefined : this.concepts[i];
  }

  findByNameSync(name: string, kind?: ConceptKind): Concept[] {
    const list = this.names.get(nameKey(name));
    if (!list) return [];
    const out: Concept[] = [];
    for (const i of list) {
      const c = this.concepts[i]!;
      if (kind === undefined || c.kind === kind) out.push(c);
    }
    return out;
  }

  neighboursSync(
    id: string,
    opts: { type?: RelationType; direction?: Direction } = {},
  ): { edge: Edge; concept: Concept }[] {
    const i = this.ids.get(id);
    if (i === undefined) return [];
    const dir = opts.direction ?? 'both';
    const t = opts.type === undefined ? -1 : TYPE_CODE.get(opts.type)!;
    const out: { edge: Edge; concept: Concept }[] = [];
    if (dir !== 'in') {
      for (let k = this.outStart[i]!; k < this.outStart[i + 1]!; k++) {
        const e = this.outList[k]!;
        if (t < 0 || this.eType[e] === t)
          out.push({ edge: this.edge(e), concept: this.concepts[this.eTo[e]!]! });
      }
    }
    if (dir !== 'out') {
      for (let k = this.inStart[i]!; k < this.inStart[i + 1]!; k++) {
        const e = this.inList[k]!;
        if (t < 0 || this.eType[e] === t)
          out.push({ edge: this.edge(e), concept: this.concepts[this.eFrom[e]!]! });
      }
    }
    return out;
  }

  /** IS_A / BELONGS_TO walk upwards (breadth first, nearest first), self at index 0. */
  private up(i: number): Reach[] {
    const hit = this.upCache.get(i);
    if (hit) return hit;
    const walk: Reach[] = [{ node: i, edge: -1, prev: -1 }];
    const seen = new Set([i]);
    for (let w = 0; w < walk.length; w++) {
      const n = walk[w]!.node;
      for (let k = this.outStart[n]!; k < this.outStart[n + 1]!; k++) {
        const e = this.outList[k]!;
        const t = this.eType[e];
        if (t !== T_IS_A && t !== T_BELONGS_TO) continue;
        const p = this.eTo[e]!;
        if (seen.has(p)) continue;
        seen.add(p);
        walk.push({ node: p, edge: e, prev: w });
      }
    }
    this.upCache.set(i, walk);
    return walk;
  }

  /** IS_A / BELONGS_TO walk downwards, self at index 0. */
  private down(i: number): Reach[] {
    const hit = this.downCache.get(i);
    if (hit) return hit;
    const walk: Reach[] = [{ node: i, edge: -1, prev: -1 }];
    const seen = new Set([i]);
    for (let w = 0; w < walk.length; w++) {
      const n = walk[w]!.node;
      for (let k = this.inStart[n]!; k < this.inStart[n + 1]!; k++) {
        const e = this.inList[k]!;
        const t = this.eType[e];
        if (t !== T_IS_A && t !== T_BELONGS_TO) continue;
        const c = this.eFrom[e]!;
        if (seen.has(c)) continue;
        seen.add(c);
        walk.push({ node: c, edge: e, prev: w });
      }
    }
    this.downCache.set(i, walk);
    return walk;
  }

  /** Edges from walk[0] to walk[w], in walking order. */
  private pathTo(walk: Reach[], w: number): PathStep[] {
    const steps: PathStep[] = [];
    for (let r = walk[w]!; r.edge >= 0; r = walk[r.prev]!) steps.push(this.step(r.edge));
    return steps.reverse();
  }

  private step(e: number): PathStep {
    return {
      from: ref(this.concepts[this.eFrom[e]!]!),
      type: RELATION_TYPES[this.eType[e]!]!,
      to: ref(this.concepts[this.eTo[e]!]!),
    };
  }

  ancestorsSync(id: string): Concept[] {
    const i = this.ids.get(id);
    if (i === undefined) return [];
    return this.up(i)
      .slice(1)
      .map((r) => this.concepts[r.node]!);
  }

  descendantsSync(id: string): Concept[] {
    const i = this.ids.get(id);
    if (i === undefined) return [];
    return this.down(i)
      .slice(1)
      .map((r) => this.concepts[r.node]!);
  }

  /** True when `id` is `ancestorId` or reaches it through IS_A / BELONGS_TO. */
  isA(id: string, ancestorId: string): boolean {
    const i = this.ids.get(id);
    const a = this.ids.get(ancestorId);
    if (i === undefined || a === undefined) return false;
    return this.up(i).some((r) => r.node === a);
  }

  /**
   * Concepts interacting with drug (or class) `a`: every drug and class below the far end of each
   * rule that applies to `a` or its classes, with the single best rule per partner (computed once).
   */
  private partners(a: number): Map<number, PartnerMatch> {
    const hit = this.partnerCache.get(a);
    if (hit) return hit;
    const best = new Map<number, PartnerMatch>();
    const upA = this.up(a);
    for (let wa = 0; wa < upA.length; wa++) {
      const x = upA[wa]!.node;
      const visit = (e: number, y: number): void => {
        const props = this.eProps[e];
        const severity = severityOf(props, 'moderate');
        const rank = SEVERITY_RANK[severity];
        const downY = this.down(y);
        for (let wb = 0; wb < downY.length; wb++) {
          const d = downY[wb]!.node;
          if (d === a) continue;
          const pair = wa === 0 && wb === 0;
          const pathLength = upA[wa]!.prev === -1 ? 0 : this.depth(upA, wa);
          const len = pathLength + this.depth(downY, wb);
          const prev = best.get(d);
          if (prev && !better(pair, rank, len, e, prev)) continue;
          best.set(d, {
            edge: e,
            pair,
            rank,
            pathLength: len,
            result: this.makeInteraction(a, d, e, upA, wa, downY, wb, severity, pair),
          });
        }
      };
      for (let k = this.outStart[x]!; k < this.outStart[x + 1]!; k++) {
        const e = this.outList[k]!;
        if (this.eType[e] === T_INTERACTS) visit(e, this.eTo[e]!);
      }
      for (let k = this.inStart[x]!; k < this.inStart[x + 1]!; k++) {
        const e = this.inList[k]!;
        if (this.eType[e] === T_INTERACTS && this.eFrom[e] !== this.eTo[e]) visit(e, this.eFrom[e]!);
      }
    }
    this.partnerCache.set(a, best);
    return best;
  }

  private depth(walk: Reach[], w: number): number {
    let d = 0;
    for (let r = walk[w]!; r.edge >= 0; r = walk[r.prev]!) d++;
    return d;
  }

  private makeInteraction(
    a: number,
    d: number,
    e: number,
    upA: Reach[],
    wa: number,
    downY: Reach[],
    wb: number,
    severity: Severity,
    pair: boolean,
  ): Interaction {
    const props = this.eProps[e];
    // downY walks from the rule's far end down to d; reversed it is d's way up to that end.
    const tail: PathStep[] = [];
    for (let r = downY[wb]!; r.edge >= 0; r = downY[r.prev]!) tail.push(this.step(r.edge));
    const ageMaxDays = props?.ageMaxDays;
    const otherwise = props?.severityOtherwise;
    return {
      drugs: [ref(this.concepts[a]!), ref(this.concepts[d]!)],
      severity,
      mechanism: str(props, 'mechanism'),
      effect: str(props, 'effect'),
      management: str(props, 'management'),
      source: this.eSource[e]!,
      level: pair ? 'pair' : 'class',
      ruleId: str(props, 'id') || `edge:${e}`,
      ...(typeof ageMaxDays === 'number' ? { ageMaxDays } : {}),
      ...(otherwise === 'major' || otherwise === 'moderate' || otherwise === 'minor'
        ? { severityOtherwise: otherwise }
        : {}),
      path: [...this.pathTo(upA, wa), this.step(e), ...tail.reverse()],
    };
  }

  interactionsAmongSync(drugIds: readonly string[]): Interaction[] {
    const idx: number[] = [];
    for (const id of drugIds) {
      const i = this.ids.get(id);
      if (i !== undefined && !idx.includes(i)) idx.push(i);
    }
    const out: { m: PartnerMatch; order: number }[] = [];
    for (let p = 0; p < idx.length; p++) {
      const partners = this.partners(idx[p]!);
      if (partners.size === 0) continue;
      for (let q = p + 1; q < idx.length; q++) {
        const m = partners.get(idx[q]!);
        if (m) out.push({ m, order: out.length });
      }
    }
    if (out.length > 1) {
      out.sort((x, y) => y.m.rank - x.m.rank || Number(y.m.pair) - Number(x.m.pair) || x.order - y.order);
    }
    return out.map((o) => o.m.result);
  }

  contraindicationsOfSync(drugIds: readonly string[], conditionIds: readonly string[]): Contraindication[] {
    // Every condition and its IS_A ancestors, remembering the way up for the explanation.
    const reach = new Map<number, { walk: Reach[]; w: number }>();
    for (const cid of conditionIds) {
      const c = this.ids.get(cid);
      if (c === undefined) continue;
      const walk = this.up(c);
      walk.forEach((r, w) => {
        if (!reach.has(r.node)) reach.set(r.node, { walk, w });
      });
    }
    const out: Contraindication[] = [];
    const seenDrug = new Set<number>();
    for (const did of drugIds) {
      const a = this.ids.get(did);
      if (a === undefined || seenDrug.has(a)) continue;
      seenDrug.add(a);
      const best = new Map<number, { score: number; result: Contraindication }>();
      const upA = this.up(a);
      for (let wa = 0; wa < upA.length; wa++) {
        const x = upA[wa]!.node;
        for (let k = this.outStart[x]!; k < this.outStart[x + 1]!; k++) {
          const e = this.outList[k]!;
          const t = this.eType[e];
          if (t !== T_CONTRA && t !== T_CAUTION) continue;
          const hit = reach.get(this.eTo[e]!);
          if (!hit) continue;
          const props = this.eProps[e];
          const severity = severityOf(props, t === T_CONTRA ? 'major' : 'moderate');
          const condition = hit.walk[0]!.node;
          // Prefer contraindication over caution, then severity, then the closer rule.
          const score = (t === T_CONTRA ? 100 : 0) + SEVERITY_RANK[severity] * 10 - wa - hit.w;
          const prev = best.get(condition);
          if (prev && prev.score >= score) continue;
          const tail: PathStep[] = [];
          for (let r = hit.walk[hit.w]!; r.edge >= 0; r = hit.walk[r.prev]!) tail.push(this.step(r.edge));
          best.set(condition, {
            score,
            result: {
              drug: ref(this.concepts[a]!),
              condition: ref(this.concepts[condition]!),
              relation: t === T_CONTRA ? 'CONTRAINDICATED_IN' : 'CAUTION_IN',
              severity,
              reason: str(props, 'reason'),
              source: this.eSource[e]!,
              ruleId: str(props, 'id') || `edge:${e}`,
              path: [...this.pathTo(upA, wa), this.step(e), ...tail],
            },
          });
        }
      }
      for (const v of best.values()) out.push(v.result);
    }
    return stableSortBy(
      out,
      (c) => (c.relation === 'CONTRAINDICATED_IN' ? 10 : 0) + SEVERITY_RANK[c.severity],
    );
  }

  allergyConflictsSync(allergenIds: readonly string[], drugIds: readonly string[]): AllergyConflict[] {
    const out: AllergyConflict[] = [];
    const drugs = [...new Set(drugIds.map((d) => this.ids.get(d)).filter((d) => d !== undefined))];
    for (const aid of new Set(allergenIds)) {
      const al = this.ids.get(aid);
      if (al === undefined) continue;
      const upAl = this.up(al);
      // Groups the allergen stands for: itself, and allergy-group classes above it.
      const groups: number[] = [];
      upAl.forEach((r, w) => {
        const c = this.concepts[r.node]!;
        if (w === 0 || (c.kind === 'DrugClass' && c.props.allergyGroup === true)) groups.push(w);
      });
      for (const d of drugs) {
        const upD = this.up(d);
        const posInD = new Map<number, number>();
        upD.forEach((r, w) => {
          posInD.set(r.node, w);
        });
        let found: AllergyConflict | undefined;
        // Direct: the drug is the allergen, or a member of one of its groups.
        for (const wg of groups) {
          const wd = posInD.get(upAl[wg]!.node);
          if (wd === undefined) continue;
          const group = this.concepts[upAl[wg]!.node]!;
          const tail = this.pathTo(upD, wd).reverse();
          found = {
            allergen: ref(this.concepts[al]!),
            drug: ref(this.concepts[d]!),
            kind: 'direct',
            severity: 'major',
            reason:
              wg === 0 && wd === 0
                ? '患者对该药物过敏'
                : `患者对${this.concepts[al]!.name}过敏，${this.concepts[d]!.name}属于同一过敏组（${group.name}）`,
            source: 'yijian-curated',
            path: [...this.pathTo(upAl, wg), ...tail],
          };
          break;
        }
        if (!found) {
          // Cross-reactive: a CROSS_REACTS edge between one of the allergen's groups and the drug's line.
          let bestRank = 0;
          for (const wg of groups) {
            const g = upAl[wg]!.node;
            const consider = (e: number, other: number): void => {
              const wd = posInD.get(other);
              if (wd === undefined) return;
              const props = this.eProps[e];
              const severity = severityOf(props, 'moderate');
              if (SEVERITY_RANK[severity] <= bestRank) return;
              bestRank = SEVERITY_RANK[severity];
              const tail = this.pathTo(upD, wd).reverse();
              found = {
                allergen: ref(this.concepts[al]!),
                drug: ref(this.concepts[d]!),
                kind: 'cross-reactive',
                severity,
                reason: str(props, 'reason'),
                source: this.eSource[e]!,
                path: [...this.pathTo(upAl, wg), this.step(e), ...tail],
              };
            };
            for (let k = this.outStart[g]!; k < this.outStart[g + 1]!; k++) {
              const e = this.outList[k]!;
              if (this.eType[e] === T_CROSS) consider(e, this.eTo[e]!);
            }
            for (let k = this.inStart[g]!; k < this.inStart[g + 1]!; k++) {
              const e = this.inList[k]!;
              if (this.eType[e] === T_CROSS) consider(e, this.eFrom[e]!);
            }
          }
        }
        if (found) out.push(found);
      }
    }
    return stableSortBy(out, (c) => (c.kind === 'direct' ? 10 : 0) + SEVERITY_RANK[c.severity]);
  }

  codesOfSync(id: string): ConceptCode[] {
    return this.getConcept(id)?.codes ?? [];
  }

  /**
   * Concept of a code. Codes compare case-insensitively. For ICD systems a code we do not hold
   * falls back to its longest known prefix (I10.x00x002 -> I10.x00 -> I10), and the 医保版 and
   * 国临版 variants fall back to plain ICD-10.
   */
  conceptByCodeSync(system: string, code: string): Concept | undefined {
    for (const k of codeLookupKeys(system, code)) {
      const hit = this.codes.get(k);
      if (hit !== undefined) return this.concepts[hit];
    }
    return undefined;
  }

  statsSync(): GraphStats {
    const nodes: Record<string, number> = {};
    for (const c of this.concepts) nodes[c.kind] = (nodes[c.kind] ?? 0) + 1;
    const edges: Record<string, number> = {};
    for (let i = 0; i < this.eType.length; i++) {
      const t = RELATION_TYPES[this.eType[i]!]!;
      edges[t] = (edges[t] ?? 0) + 1;
    }
    return { nodes, edges };
  }

  /**
   * Every name and synonym that is safe to tag in free text, for the NER lexicon tagger: terms a
   * concept marks `ambiguous` (VT is also tidal volume) and junk (`isLexiconJunk`: single Latin
   * letters, bare numbers, unit words such as mm or mg) are left out. They still link by name.
   */
  lexicon(): { term: string; kind: ConceptKind; conceptId: string }[] {
    if (this.lexiconCache) return this.lexiconCache;
    const out: { term: string; kind: ConceptKind; conceptId: string }[] = [];
    for (const c of this.concepts) {
      const seen = new Set<string>();
      const amb = c.props.ambiguous;
      const skip = Array.isArray(amb)
        ? new Set(amb.filter((x): x is string => typeof x === 'string'))
        : undefined;
      for (const term of [c.name, ...c.synonyms]) {
        if (seen.has(term)) continue;
        seen.add(term);
        if (skip?.has(term) || isLexiconJunk(term)) continue;
        out.push({ term, kind: c.kind, conceptId: c.id });
      }
    }
    this.lexiconCache = out;
    return out;
  }

  // ---- GraphStore (async) --------------------------------------------------------------------

  async conceptById(id: string): Promise<Concept | undefined> {
    return this.getConcept(id);
  }
  conceptByIdSync(id: string): Concept | undefined {
    return this.getConcept(id);
  }
  async findByName(name: string, kind?: ConceptKind): Promise<Concept[]> {
    return this.findByNameSync(name, kind);
  }
  async neighbours(
    id: string,
    opts?: { type?: RelationType; direction?: Direction },
  ): Promise<{ edge: Edge; concept: Concept }[]> {
    return this.neighboursSync(id, opts);
  }
  async ancestors(id: string): Promise<Concept[]> {
    return this.ancestorsSync(id);
  }
  async descendants(id: string): Promise<Concept[]> {
    return this.descendantsSync(id);
  }
  async interactionsAmong(drugIds: string[]): Promise<Interaction[]> {
    return this.interactionsAmongSync(drugIds);
  }
  async contraindicationsOf(drugIds: string[], conditionIds: string[]): Promise<Contraindication[]> {
    return this.contraindicationsOfSync(drugIds, conditionIds);
  }
  async allergyConflicts(allergenIds: string[], drugIds: string[]): Promise<AllergyConflict[]> {
    return this.allergyConflictsSync(allergenIds, drugIds);
  }
  async codesOf(id: string): Promise<ConceptCode[]> {
    return this.codesOfSync(id);
  }
  async conceptByCode(system: string, code: string): Promise<Concept | undefined> {
    return this.conceptByCodeSync(system, code);
  }
  async stats(): Promise<GraphStats> {
    return this.statsSync();
  }
  async close(): Promise<void> {}
}

const UNIT_WORDS = new Set(
  'mm cm m km mg g kg μg ug mcg ng pg ml l dl μl ul mmol μmol umol mol meq u iu ku s min h d bpm mmhg kpa cmh2o'.split(
    ' ',
  ),
);

/**
 * True for terms no lexicon tagger should match in clinical free text: one Latin letter or digit
 * (H, R, Z, E of TB regimens; T; P; K), bare numbers and punctuation, and unit words (mm, mg, ml…)
 * written in lower or upper case (MG, MM); a mixed-case element symbol such as Mg is kept.
 */
export function isLexiconJunk(term: string): boolean {
  const t = term.trim();
  if (t.length === 0) return true;
  if (/^[A-Za-z0-9]$/.test(t)) return true;
  if (/^[\d\s.,%+\-/]+$/.test(t)) return true;
  const lower = t.toLowerCase().replace('µ', 'μ');
  return UNIT_WORDS.has(lower) && (t === lower || t === t.toUpperCase());
}

export const SNAPSHOT_FORMAT = 'yijian-kg-snapshot/2';

/** Columnar snapshot document: concepts as objects, edges as parallel arrays. */
export interface Snapshot {
  format: typeof SNAPSHOT_FORMAT;
  nodes: Concept[];
  edges: {
    /** Index into RELATION_TYPES. */
    type: number[];
    /** Node indices into `nodes`. */
    from: number[];
    to: number[];
    /** Index into `sources`. */
    source: number[];
    sources: string[];
    /** Sparse: [edge index, props] for edges that have props. */
    props: [number, Record<string, unknown>][];
  };
}

function better(pair: boolean, rank: number, len: number, e: number, prev: PartnerMatch): boolean {
  // A rule naming both drugs overrides class rules; then severity; then the closer rule; then file order.
  if (pair !== prev.pair) return pair;
  if (rank !== prev.rank) return rank > prev.rank;
  if (len !== prev.pathLength) return len < prev.pathLength;
  return e < prev.edge;
}

function csr(n: number, ends: Int32Array): [Int32Array, Int32Array] {
  const start = new Int32Array(n + 1);
  for (let i = 0; i < ends.length; i++) start[ends[i]! + 1]!++;
  for (let i = 0; i < n; i++) start[i + 1]! += start[i]!;
  const fill = start.slice(0, n);
  const list = new Int32Array(ends.length);
  for (let i = 0; i < ends.length; i++) list[fill[ends[i]!]!++] = i;
  return [start, list];
}

function stableSortBy<T>(items: T[], weight: (t: T) => number): T[] {
  return items
    .map((t, i) => ({ t, i, w: weight(t) }))
    .sort((a, b) => b.w - a.w || a.i - b.i)
    .map((x) => x.t);
}
