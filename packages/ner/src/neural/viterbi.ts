/**
 * Constrained Viterbi decoding over per-character emission scores. The allowed transitions of the
 * tagging scheme (BIOES or BIO) are hard constraints; a learned CRF transition matrix (exported by
 * the trainer as JSON) is added on top. Mirrors `allowed_transitions` in models/ner/train/train.py.
 */
export type TagScheme = 'BIOES' | 'BIO';

export interface ParsedLabel {
  prefix: 'O' | 'B' | 'I' | 'E' | 'S';
  /** Entity type ('' for O). */
  type: string;
}

/** Learned CRF parameters: `transitions[from][to]`, plus start and end scores per label. */
export interface CrfParameters {
  transitions: number[][];
  start: number[];
  end: number[];
}

export interface DecodedSpan {
  /** Offsets into the decoded sequence, end exclusive. */
  start: number;
  end: number;
  type: string;
  /** Mean softmax probability of the chosen label over the span's positions, in [0, 1]. */
  score: number;
}

const FORBIDDEN = -1e4;

export function parseLabel(label: string): ParsedLabel {
  if (label === 'O') return { prefix: 'O', type: '' };
  const m = /^([BIESU])[-_](.+)$/.exec(label);
  if (!m) throw new RangeError(`unrecognised tag label '${label}' (expected O or B-/I-/E-/S- plus a type)`);
  const p = m[1] === 'U' ? 'S' : (m[1] as ParsedLabel['prefix']);
  return { prefix: p, type: m[2]! };
}

/** Whether `to` may follow `from` in the scheme. */
export function isAllowedTransition(from: ParsedLabel, to: ParsedLabel, scheme: TagScheme): boolean {
  if (scheme === 'BIOES') {
    if (from.prefix === 'O' || from.prefix === 'E' || from.prefix === 'S') {
      return to.prefix === 'O' || to.prefix === 'B' || to.prefix === 'S';
    }
    return (to.prefix === 'I' || to.prefix === 'E') && to.type === from.type;
  }
  // BIO: I-x only after B-x or I-x.
  if (to.prefix === 'I') return (from.prefix === 'B' || from.prefix === 'I') && from.type === to.type;
  return true;
}

export class ViterbiDecoder {
  readonly labels: readonly ParsedLabel[];
  readonly size: number;
  private readonly trans: Float32Array;
  private readonly startScores: Float32Array;
  private readonly endScores: Float32Array;
  private back = new Int32Array(0);
  /** For each label j, the labels i with an allowed i -> j transition (forbidden ones can never win). */
  private readonly predecessors: Int32Array[];

  constructor(labels: readonly string[], scheme: TagScheme, crf?: CrfParameters) {
    const parsed = labels.map(parseLabel);
    const k = parsed.length;
    if (k === 0) throw new RangeError('no labels');
    if (crf) {
      if (crf.transitions.length !== k || crf.transitions.some((r) => r.length !== k)) {
        throw new RangeError(`CRF transition matrix must be ${k}x${k}`);
      }
      if (crf.start.length !== k || crf.end.length !== k)
        throw new RangeError(`CRF start/end must have ${k} entries`);
    }
    this.labels = parsed;
    this.size = k;
    this.trans = new Float32Array(k * k);
    this.startScores = new Float32Array(k);
    this.endScores = new Float32Array(k);
    for (let i = 0; i < k; i++) {
      const a = parsed[i]!;
      const startOk = scheme === 'BIOES' ? a.prefix !== 'I' && a.prefix !== 'E' : a.prefix !== 'I';
      const endOk = scheme === 'BIOES' ? a.prefix !== 'B' && a.prefix !== 'I' : true;
      this.startScores[i] = (crf?.start[i] ?? 0) + (startOk ? 0 : FORBIDDEN);
      this.endScores[i] = (crf?.end[i] ?? 0) + (endOk ? 0 : FORBIDDEN);
      for (let j = 0; j < k; j++) {
        const ok = isAllowedTransition(a, parsed[j]!, scheme);
        this.trans[i * k + j] = (crf?.transitions[i]?.[j] ?? 0) + (ok ? 0 : FORBIDDEN);
      }
    }
    this.predecessors = parsed.map((to) => {
      const from: number[] = [];
      parsed.forEach((p, i) => {
        if (isAllowedTransition(p, to, scheme)) from.push(i);
      });
      // Every label has an allowed predecessor in BIO/BIOES; keep all if a custom set had none.
      return Int32Array.from(from.length > 0 ? from : parsed.map((_, i) => i));
    });
  }

  /**
   * Best label path for `length` positions whose emissions start at `offset` in `emissions`
   * (row-major, `size` scores per position). Returns label indices.
   */
  decode(emissions: Float32Array, offset: number, length: number): Int32Array {
    const k = this.size;
    const path = new Int32Array(length);
    if (length === 0) return path;
    if (this.back.length < length * k) this.back = new Int32Array(length * k * 2);
    const back = this.back;
    const trans = this.trans;
    let score = new Float32Array(k);
    let next = new Float32Array(k);
    for (let j = 0; j < k; j++) score[j] = this.startScores[j]! + emissions[offset + j]!;
    for (let t = 1; t < length; t++) {
      const row = offset + t * k;
      for (let j = 0; j < k; j++) {
        let best = -Infinity;
        let arg = 0;
        const pred = this.predecessors[j]!;
        for (let p = 0; p < pred.length; p++) {
          const i = pred[p]!;
          const v = score[i]! + trans[i * k + j]!;
          if (v > best) {
            best = v;
            arg = i;
          }
        }
        next[j] = best + emissions[row + j]!;
        back[t * k + j] = arg;
      }
      const tmp = score;
      score = next;
      next = tmp;
    }
    let best = -Infinity;
    let arg = 0;
    for (let j = 0; j < k; j++) {
      const v = score[j]! + this.endScores[j]!;
      if (v > best) {
        best = v;
        arg = j;
      }
    }
    path[length - 1] = arg;
    for (let t = length - 1; t > 0; t--) {
      arg = back[t * k + arg]!;
      path[t - 1] = arg;
    }
    return path;
  }

  /** Spans of a decoded path (B..E / S in BIOES; B I* in BIO), with a confidence score each. */
  spans(path: Int32Array, emissions: Float32Array, offset: number): DecodedSpan[] {
    const out: DecodedSpan[] = [];
    const labels = this.labels;
    let start = -1;
    let type = '';
    const close = (end: number) => {
      if (start >= 0)
        out.push({ start, end, type, score: this.meanProbability(path, emissions, offset, start, end) });
      start = -1;
    };
    for (let t = 0; t < path.length; t++) {
      const l = labels[path[t]!]!;
      switch (l.prefix) {
        case 'O':
          close(t);
          break;
        case 'S':
          close(t);
          start = t;
          type = l.type;
          close(t + 1);
          break;
        case 'B':
          close(t);
          start = t;
          type = l.type;
          break;
        case 'I':
          if (start < 0 || l.type !== type) {
            close(t);
            start = t;
            type = l.type;
          }
          break;
        case 'E':
          if (start < 0 || l.type !== type) {
            close(t);
            start = t;
            type = l.type;
          }
          close(t + 1);
          break;
      }
    }
    close(path.length);
    return out;
  }

  private meanProbability(
    path: Int32Array,
    emissions: Float32Array,
    offset: number,
    start: number,
    end: number,
  ): number {
    const k = this.size;
    let sum = 0;
    for (let t = start; t < end; t++) {
      const row = offset + t * k;
      let max = -Infinity;
      for (let j = 0; j < k; j++) max = Math.max(max, emissions[row + j]!);
      let z = 0;
      for (let j = 0; j < k; j++) z += Math.exp(emissions[row + j]! - max);
      sum += Math.exp(emissions[row + path[t]!]! - max) / z;
    }
    return sum / (end - start);
  }
}
