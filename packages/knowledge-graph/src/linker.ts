import { fromZodIssues } from '@yijian/emr';
import { z } from 'zod';
import type { MemoryGraph } from './memory-graph.js';
import { editDistance, normaliseTerm, qualifierVariants, termVariants } from './normalise.js';
import type { ConceptKind } from './types.js';

export type MatchKind = 'exact' | 'synonym' | 'normalised' | 'abbreviation' | 'fuzzy';

export interface LinkCandidate {
  conceptId: string;
  name: string;
  kind: ConceptKind;
  matchKind: MatchKind;
  score: number;
}

export interface LinkResult {
  text: string;
  /** False when nothing reached the threshold; the mention is still returned, never dropped. */
  linked: boolean;
  candidates: LinkCandidate[];
}

export interface Linker {
  link(text: string, opts?: { kind?: ConceptKind }): LinkResult;
}

export const linkerOptionsSchema = z.strictObject({
  /** Try fuzzy matching when nothing matches exactly or after normalisation. */
  fuzzy: z.boolean().default(true),
  /** Minimum similarity (1 - edit distance / length) of a fuzzy match. */
  fuzzyThreshold: z.number().min(0).max(1).default(0.66),
  /** Fuzzy matching needs a normalised mention at least this long. */
  fuzzyMinLength: z.number().int().min(1).default(3),
  /** Largest edit distance a fuzzy match may have. */
  fuzzyMaxDistance: z.number().int().min(1).default(2),
  /** Most candidates returned per mention. */
  maxCandidates: z.number().int().min(1).default(5),
  /** Results remembered per (kind, mention); 0 turns the cache off. */
  cacheSize: z.number().int().min(0).default(100_000),
});
export type LinkerOptions = z.input<typeof linkerOptionsSchema>;

/** Scores by match kind: an exact name beats a synonym beats a normalised hit beats a fuzzy one. */
export const MATCH_SCORES: Record<Exclude<MatchKind, 'fuzzy'>, number> = {
  exact: 1,
  synonym: 0.97,
  abbreviation: 0.95,
  normalised: 0.9,
};

interface Entry {
  conceptId: string;
  name: string;
  kind: ConceptKind;
  /** How the raw term relates to the concept: its name, a synonym, or an abbreviation. */
  termKind: 'exact' | 'synonym' | 'abbreviation';
}

const NO_CANDIDATES: LinkCandidate[] = [];
Object.freeze(NO_CANDIDATES);

/**
 * Link mention text to graph concepts. Matching order: the raw text as written (name, synonym,
 * abbreviation), then its normalised form and its variants without strength, dosage form and salt
 * words, then fuzzy matching over character bigrams (edit distance with a threshold). A kind
 * restricts every step.
 */
export function createLinker(graph: MemoryGraph, options: LinkerOptions = {}): Linker {
  const parsed = linkerOptionsSchema.safeParse(options);
  if (!parsed.success)
    throw fromZodIssues('CDSS_ERR_INVALID_CONFIG', 'invalid linker options', parsed.error.issues);
  return new GraphLinker(graph, parsed.data);
}

class GraphLinker implements Linker {
  private readonly raw = new Map<string, Entry[]>();
  private readonly norm = new Map<string, Entry[]>();
  private readonly normKeys: string[] = [];
  private readonly bigrams = new Map<string, number[]>();
  private readonly cache = new Map<string, LinkCandidate[]>();

  constructor(
    graph: MemoryGraph,
    private readonly opts: z.output<typeof linkerOptionsSchema>,
  ) {
    for (const c of graph.allConcepts()) {
      const abbr = new Set<string>(
        Array.isArray(c.props.abbreviations) ? (c.props.abbreviations as string[]) : [],
      );
      const terms: [string, Entry['termKind']][] = [[c.name, 'exact']];
      for (const s of c.synonyms) terms.push([s, abbr.has(s) ? 'abbreviation' : 'synonym']);
      for (const a of abbr) if (!c.synonyms.includes(a)) terms.push([a, 'abbreviation']);
      for (const [term, termKind] of terms) {
        const e: Entry = { conceptId: c.id, name: c.name, kind: c.kind, termKind };
        add(this.raw, term.trim(), e);
        const k = normaliseTerm(term);
        if (!k) continue;
        if (!this.norm.has(k)) {
          this.normKeys.push(k);
          const id = this.normKeys.length - 1;
          const keyGrams = grams(k);
          for (const ch of k) keyGrams.add(ch);
          for (const g of keyGrams) {
            const list = this.bigrams.get(g);
            if (list) list.push(id);
            else this.bigrams.set(g, [id]);
          }
        }
        add(this.norm, k, e);
      }
    }
  }

  link(text: string, opts: { kind?: ConceptKind } = {}): LinkResult {
    const kind = opts.kind;
    const rawHit = this.raw.get(text) ?? (text.length > 0 ? this.raw.get(text.trim()) : undefined);
    if (rawHit) {
      const c = this.fromEntries(rawHit, kind, undefined);
      if (c.length > 0) return { text, linked: true, candidates: c };
    }
    const cacheKey = kind === undefined ? text : `${kind}\u0000${text}`;
    let candidates = this.opts.cacheSize > 0 ? this.cache.get(cacheKey) : undefined;
    if (candidates === undefined) {
      candidates = this.resolve(text, kind);
      if (this.opts.cacheSize > 0) {
        if (this.cache.size >= this.opts.cacheSize) this.cache.clear();
        this.cache.set(cacheKey, candidates);
      }
    }
    return { text, linked: candidates.length > 0, candidates };
  }

  private resolve(text: string, kind: ConceptKind | undefined): LinkCandidate[] {
    // Text in brackets is often a brand or a note: 氯吡格雷（波立维）. Try outside, then inside.
    const forms = [text];
    const bracket = /[(（[【]([^)）\]】]*)[)）\]】]/g;
    if (bracket.test(text)) {
      forms.push(text.replace(bracket, ''));
      for (const m of text.matchAll(bracket)) if (m[1]) forms.push(m[1]);
    }
    // Several words (冠心病 不稳定型心绞痛): the last is usually the most specific.
    const words = forms[forms.length > 1 ? 1 : 0]!.trim().split(/\s+/);
    if (words.length > 1) forms.push(...words.reverse());
    const keys: string[] = [];
    for (const form of forms) {
      const key = normaliseTerm(form);
      if (!key) continue;
      const variants = termVariants(key);
      keys.push(variants[variants.length - 1]!);
      const c =
        this.firstHit(variants, kind) ??
        this.firstHit(qualifierVariants(variants[variants.length - 1]!), kind);
      if (c) return c;
    }
    if (!this.opts.fuzzy || keys.length === 0) return NO_CANDIDATES;
    for (const k of [keys[0]!, ...qualifierVariants(keys[0]!)]) {
      const head = this.headMatch(k, kind);
      if (head.length > 0) return head;
    }
    return this.fuzzy(keys[0]!, kind, normaliseTerm(text));
  }

  private firstHit(keys: string[], kind: ConceptKind | undefined): LinkCandidate[] | undefined {
    for (const v of keys) {
      const hit = this.norm.get(v);
      if (!hit) continue;
      const c = this.fromEntries(hit, kind, 'normalised');
      if (c.length > 0) return c;
    }
    return undefined;
  }

  /**
   * Chinese clinical terms are head-final (乙肝肝硬化 is a 肝硬化): the longest known suffix that
   * covers at least half of the key and three characters is returned as an approximate match.
   */
  private headMatch(key: string, kind: ConceptKind | undefined): LinkCandidate[] {
    const chars = [...key];
    if (chars.length < 4 || !/[\u4e00-\u9fff]$/.test(key)) return NO_CANDIDATES;
    for (let i = 1; i <= chars.length - 3 && chars.length - i >= chars.length / 2; i++) {
      const hit = this.norm.get(chars.slice(i).join(''));
      if (!hit) continue;
      const c = this.fromEntries(hit, kind, 'normalised');
      if (c.length === 0) continue;
      const score = Math.round((0.55 + 0.3 * ((chars.length - i) / chars.length)) * 1000) / 1000;
      return c.map((x) => ({ ...x, matchKind: 'fuzzy' as const, score }));
    }
    return NO_CANDIDATES;
  }

  private fromEntries(
    entries: Entry[],
    kind: ConceptKind | undefined,
    as: 'normalised' | undefined,
  ): LinkCandidate[] {
    const out: LinkCandidate[] = [];
    const at = new Map<string, number>();
    for (const e of entries) {
      if (kind !== undefined && e.kind !== kind) continue;
      const matchKind: MatchKind = e.termKind === 'abbreviation' ? 'abbreviation' : (as ?? e.termKind);
      const score = MATCH_SCORES[matchKind as Exclude<MatchKind, 'fuzzy'>];
      const prev = at.get(e.conceptId);
      if (prev !== undefined) {
        if (out[prev]!.score < score) out[prev] = { ...out[prev]!, matchKind, score };
        continue;
      }
      at.set(e.conceptId, out.length);
      out.push({ conceptId: e.conceptId, name: e.name, kind: e.kind, matchKind, score });
    }
    out.sort(byRank);
    return out.length > this.opts.maxCandidates ? out.slice(0, this.opts.maxCandidates) : out;
  }

  private fuzzy(stripped: string, kind: ConceptKind | undefined, full: string): LinkCandidate[] {
    const probes = stripped === full ? [full] : [stripped, full];
    const best = new Map<string, LinkCandidate>();
    for (const probe of probes) {
      if ([...probe].length < this.opts.fuzzyMinLength) continue;
      const counts = new Map<number, number>();
      const probeGrams = grams(probe);
      if ([...probe].length <= 4) for (const ch of probe) probeGrams.add(ch);
      for (const g of probeGrams) {
        const list = this.bigrams.get(g);
        if (!list || list.length > 5000) continue;
        for (const id of list) counts.set(id, (counts.get(id) ?? 0) + 1);
      }
      for (const [id] of counts) {
        const cand = this.normKeys[id]!;
        const len = Math.max(cand.length, probe.length);
        const maxD = Math.min(
          this.opts.fuzzyMaxDistance,
          Math.floor(len * (1 - this.opts.fuzzyThreshold)) + 1,
        );
        const d = editDistance(probe, cand, maxD);
        if (d === 0 || d > maxD) continue;
        const sim = 1 - d / len;
        if (sim < this.opts.fuzzyThreshold) continue;
        const score = Math.round((0.5 + 0.35 * sim) * 1000) / 1000;
        for (const e of this.norm.get(cand)!) {
          if (kind !== undefined && e.kind !== kind) continue;
          const prev = best.get(e.conceptId);
          if (!prev || prev.score < score) {
            best.set(e.conceptId, {
              conceptId: e.conceptId,
              name: e.name,
              kind: e.kind,
              matchKind: 'fuzzy',
              score,
            });
          }
        }
      }
    }
    const out = [...best.values()].sort(byRank);
    return out.slice(0, this.opts.maxCandidates);
  }
}

/** Ties between kinds: a bare term in a record is most often a diagnosis, a drug or a symptom. */
const KIND_ORDER: Record<ConceptKind, number> = {
  Disease: 0,
  Drug: 1,
  Symptom: 2,
  LabTest: 3,
  DrugClass: 4,
  Procedure: 5,
  Exam: 6,
  Anatomy: 7,
  Department: 8,
};

function byRank(a: LinkCandidate, b: LinkCandidate): number {
  return (
    b.score - a.score ||
    KIND_ORDER[a.kind] - KIND_ORDER[b.kind] ||
    (a.conceptId < b.conceptId ? -1 : a.conceptId > b.conceptId ? 1 : 0)
  );
}

function add(map: Map<string, Entry[]>, key: string, e: Entry): void {
  const list = map.get(key);
  if (!list) map.set(key, [e]);
  else if (!list.some((x) => x.conceptId === e.conceptId && x.termKind === e.termKind)) list.push(e);
}

/** Character bigrams of a key (a single character for keys of length one). */
function grams(key: string): Set<string> {
  const chars = [...key];
  const out = new Set<string>();
  if (chars.length === 1) out.add(chars[0]!);
  for (let i = 0; i + 1 < chars.length; i++) out.add(chars[i]! + chars[i + 1]!);
  return out;
}
