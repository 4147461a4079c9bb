import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { CdssError } from '@yijian/emr';

/**
 * Word-boundary features from a Chinese word segmenter (jieba, through `@node-rs/jieba`): per
 * character four bits, B / M / E / S of the word it sits in. Models trained with
 * `train.py --word-features jieba` take them as the `words` input; the trainer gets the very same
 * bits from models/ner/train/segment.mjs, which calls this module (so training and inference agree
 * by construction; the parity sample in training.json checks it once more).
 *
 * The text is the NORMALISED chunk (`normalizeForModel`, digits already 0), segmented on its own:
 * the segmenter never sees text outside the chunk, exactly as in training.
 */
export const WORD_FEATURE_DIM = 4;
const B = 0;
const M = 1;
const E = 2;
const S = 3;

/** Splits a string into consecutive words whose lengths (UTF-16 code units) add up to the string's. */
export type WordCutter = (text: string) => readonly string[];

/** The segmenter settings a model was trained with (training.json `word_features`). */
export interface WordSegmenterSpec {
  segmenter: 'jieba';
  /** npm package and exact version whose dictionary and code produced the training bits. */
  package: string;
  version: string;
  /** jieba's HMM for words not in its dictionary. */
  hmm: boolean;
}

export const JIEBA_PACKAGE = '@node-rs/jieba';

interface JiebaInstance {
  cut(sentence: string, hmm?: boolean | null): string[];
}

let jieba: { instance: JiebaInstance; version: string; loadMs: number } | undefined;

/** Version of the installed `@node-rs/jieba` (from its package.json). */
export function installedJiebaVersion(): string {
  const require = createRequire(import.meta.url);
  const pkg = require.resolve(`${JIEBA_PACKAGE}/package.json`);
  return (JSON.parse(readFileSync(pkg, 'utf8')) as { version: string }).version;
}

/**
 * The process-wide jieba instance with its default dictionary (about 0.2 s and 40 MB the first
 * time; shared by every tagger of the process). Loaded only by models that take word features.
 */
export function loadJieba(): { instance: JiebaInstance; version: string; loadMs: number } {
  if (jieba) return jieba;
  const t0 = performance.now();
  const require = createRequire(import.meta.url);
  let mod: { Jieba: { withDict(dict: Uint8Array): JiebaInstance } };
  let dict: Buffer;
  try {
    mod = require(JIEBA_PACKAGE) as typeof mod;
    dict = readFileSync(join(dirname(require.resolve(`${JIEBA_PACKAGE}/package.json`)), 'dict.txt'));
  } catch (cause) {
    throw new CdssError('CDSS_ERR_MODEL', `无法加载分词器 ${JIEBA_PACKAGE}`, { cause });
  }
  const instance = mod.Jieba.withDict(dict);
  jieba = { instance, version: installedJiebaVersion(), loadMs: performance.now() - t0 };
  return jieba;
}

/**
 * A cutter for `spec`, refusing a jieba version other than the one the model was trained with
 * (another dictionary gives other boundaries, so the model would see inputs it never saw).
 */
export function createWordCutter(spec: WordSegmenterSpec): WordCutter {
  if (spec.segmenter !== 'jieba' || spec.package !== JIEBA_PACKAGE) {
    throw new CdssError('CDSS_ERR_MODEL', `不支持的分词器 ${spec.segmenter} (${spec.package})`);
  }
  const { instance, version } = loadJieba();
  if (version !== spec.version) {
    throw new CdssError(
      'CDSS_ERR_MODEL',
      `模型用 ${JIEBA_PACKAGE} ${spec.version} 训练，但安装的是 ${version}，分词结果可能不同`,
    );
  }
  const hmm = spec.hmm;
  return (text) => instance.cut(text, hmm);
}

/** Per-character B/M/E/S bits of the words `cut` makes of a chunk. */
export class WordFeaturizer {
  readonly dim = WORD_FEATURE_DIM;

  constructor(private readonly cut: WordCutter) {}

  /**
   * Features of `norm[start, end)` (normalised), segmented on its own, written as
   * `(end - start) × 4` floats into `out` from `offset` (zero there). If the segmenter's words do
   * not add up to the span (it never happened in training; a defensive fallback), every character
   * is marked S. Returns `out`.
   */
  fill(norm: string, start: number, end: number, out: Float32Array, offset = 0): Float32Array {
    const n = end - start;
    if (n <= 0) return out;
    const words = this.cut(norm.slice(start, end));
    let total = 0;
    for (const w of words) total += w.length;
    if (total !== n) {
      for (let i = 0; i < n; i++) out[offset + i * WORD_FEATURE_DIM + S] = 1;
      return out;
    }
    let pos = 0;
    for (const w of words) {
      const len = w.length;
      if (len === 0) continue;
      if (len === 1) {
        out[offset + pos * WORD_FEATURE_DIM + S] = 1;
      } else {
        out[offset + pos * WORD_FEATURE_DIM + B] = 1;
        for (let k = pos + 1; k < pos + len - 1; k++) out[offset + k * WORD_FEATURE_DIM + M] = 1;
        out[offset + (pos + len - 1) * WORD_FEATURE_DIM + E] = 1;
      }
      pos += len;
    }
    return out;
  }

  /** Features of a whole normalised string, `text.length × 4`. */
  features(norm: string): Float32Array {
    return this.fill(norm, 0, norm.length, new Float32Array(norm.length * WORD_FEATURE_DIM));
  }

  /** The B/M/E/S letter of each character (the cache format of models/ner/train/segment.mjs). */
  letters(norm: string): string {
    const f = this.features(norm);
    let s = '';
    for (let i = 0; i < norm.length; i++) {
      const base = i * WORD_FEATURE_DIM;
      s += f[base + B] ? 'B' : f[base + M] ? 'M' : f[base + E] ? 'E' : 'S';
    }
    return s;
  }
}
