import { CdssError } from '@yijian/emr';
import { z } from 'zod';
import { normalizeForModel } from './normalize.js';

/**
 * `lexicon.json` of a model folder (written by models/ner/train/export_lexicon.mjs from our own
 * knowledge graph). Types are feature groups, not necessarily the model's output types.
 */
export const lexiconFeatureFileSchema = z.strictObject({
  source: z.string(),
  features: z.string(),
  types: z.array(z.string().min(1)).min(1).max(30),
  terms: z.record(z.string(), z.array(z.string())),
});
export type LexiconFeatureFile = z.infer<typeof lexiconFeatureFileSchema>;

/** Feature offsets inside one type's group of four. */
const B = 0;
const M = 1;
const E = 2;
const S = 3;

/**
 * Per-character lexicon features, identical to `Lexicon.features` in models/ner/train/train.py:
 * for each type four bits (B, M, E, S), set for EVERY term of that type that matches the
 * normalised text at that position (overlapping matches included; a term listed under several
 * types sets each). Terms are normalised like the text (`normalizeForModel`), so a match never
 * changes offsets.
 */
export class LexiconFeaturizer {
  /** Number of features per character (4 × types). */
  readonly dim: number;
  readonly types: readonly string[];
  /** Children per node (code unit -> node) and the type bitmask of the terms ending at a node. */
  private readonly children: Map<number, number>[] = [new Map()];
  private readonly ends: number[] = [0];
  private readonly firstChar = new Uint8Array(65536);

  constructor(file: LexiconFeatureFile) {
    this.types = file.types;
    this.dim = 4 * file.types.length;
    file.types.forEach((type, ti) => {
      const terms = file.terms[type];
      if (!terms) throw new CdssError('CDSS_ERR_MODEL', `模型词典 lexicon.json 缺少类型 ${type} 的词条`);
      for (const raw of terms) {
        const term = normalizeForModel(raw.trim());
        if (term.length === 0) continue;
        let node = 0;
        for (let i = 0; i < term.length; i++) {
          const code = term.charCodeAt(i);
          let next = this.children[node]!.get(code);
          if (next === undefined) {
            next = this.children.length;
            this.children.push(new Map());
            this.ends.push(0);
            this.children[node]!.set(code, next);
          }
          node = next;
        }
        this.ends[node]! |= 1 << ti;
        this.firstChar[term.charCodeAt(0)] = 1;
      }
    });
  }

  /**
   * Features of `norm[start, end)` (already normalised with `normalizeForModel`), matched inside
   * that span only, written as `(end - start) × dim` floats into `out` from `offset` (which must be
   * zero there). Returns `out`.
   */
  fill(norm: string, start: number, end: number, out: Float32Array, offset = 0): Float32Array {
    const dim = this.dim;
    const root = this.children[0]!;
    for (let i = start; i < end; i++) {
      const c0 = norm.charCodeAt(i);
      if (this.firstChar[c0] === 0) continue;
      let node = root.get(c0);
      let j = i + 1;
      while (node !== undefined) {
        let mask = this.ends[node]!;
        for (let ti = 0; mask !== 0; ti++, mask >>>= 1) {
          if ((mask & 1) === 0) continue;
          const base = offset + 4 * ti;
          if (j - i === 1) {
            out[base + (i - start) * dim + S] = 1;
          } else {
            out[base + (i - start) * dim + B] = 1;
            for (let k = i + 1; k < j - 1; k++) out[base + (k - start) * dim + M] = 1;
            out[base + (j - 1 - start) * dim + E] = 1;
          }
        }
        if (j >= end) break;
        node = this.children[node]!.get(norm.charCodeAt(j));
        j++;
      }
    }
    return out;
  }

  /** Features of a whole normalised string, `text.length × dim`. */
  features(norm: string): Float32Array {
    return this.fill(norm, 0, norm.length, new Float32Array(norm.length * this.dim));
  }
}
