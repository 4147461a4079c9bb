import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CdssError } from '@yijian/emr';
import ort from 'onnxruntime-node';
import { z } from 'zod';
import { MENTION_TYPES, type MentionType, type RawMention, type Tagger } from '../types.js';
import { LexiconFeaturizer } from './lexicon-features.js';
import { loadModelFiles, type ModelFiles } from './model-files.js';
import { normalizeForModel } from './normalize.js';
import { segmentText, type TextChunk } from './segment.js';
import { ViterbiDecoder } from './viterbi.js';
import { createWordCutter, WordFeaturizer } from './word-features.js';

/** Version folder of the model that ships with this repository (models/ner/<version>/). */
export const DEFAULT_MODEL_VERSION = '1.4.0';

/**
 * The shipped model: `<package>/model/<DEFAULT_MODEL_VERSION>/` when the package was packed with it
 * (npm: `prepack` copies it in), else `<repo>/models/ner/<DEFAULT_MODEL_VERSION>/` in a checkout.
 * Resolved from this module (src/neural/ and dist/neural/ sit at the same depth).
 */
export function defaultModelDir(): string {
  const packed = fileURLToPath(new URL(`../../model/${DEFAULT_MODEL_VERSION}/`, import.meta.url));
  if (existsSync(`${packed}model.onnx`)) return packed;
  return fileURLToPath(new URL(`../../../../models/ner/${DEFAULT_MODEL_VERSION}/`, import.meta.url));
}

export const onnxTaggerOptionsSchema = z.strictObject({
  /** Folder with model.onnx, vocab.json, labels.json, crf.json, training.json. */
  modelDir: z.string().min(1).optional(),
  /** Chunks per ONNX run. */
  batchSize: z.number().int().min(1).max(4096).default(64),
  /** onnxruntime intra-op threads (1 = one core per tagger; scale out with worker threads). */
  intraOpThreads: z.number().int().min(1).max(64).default(1),
  /** Keep only these types (default: all the model produces). */
  types: z.array(z.enum(MENTION_TYPES)).optional(),
  /** Drop mentions whose score is below this. */
  minScore: z.number().min(0).max(1).default(0),
});
export type OnnxTaggerOptions = z.input<typeof onnxTaggerOptionsSchema>;

export interface NeuralModelInfo {
  name: string;
  version: string;
  dir: string;
  maxLength: number;
  types: MentionType[];
}

/** A neural `Tagger` with batch tagging and an explicit release of native resources. */
export interface NeuralTagger extends Tagger {
  readonly info: NeuralModelInfo;
  tag(text: string): Promise<RawMention[]>;
  /** Tag many texts; chunks of all texts are batched together. Result i belongs to texts[i]. */
  tagMany(texts: readonly string[]): Promise<RawMention[][]>;
  close(): Promise<void>;
}

interface Head {
  output: string;
  decoder: ViterbiDecoder;
  /** Label type -> MentionType (types the caller filtered out are absent). */
  types: Map<string, MentionType>;
}

interface PendingChunk {
  doc: number;
  chunk: TextChunk;
  chars: Int32Array;
  left: Int32Array;
  right: Int32Array;
  /** length × dim per extra feature input of the model (lexicon, word bits), in `features` order. */
  features: Float32Array[];
}

/** Per-character features computed on the normalised text (the lexicon bits, the word bits). */
interface CharFeaturizer {
  readonly dim: number;
  fill(norm: string, start: number, end: number, out: Float32Array): Float32Array;
}

/** An extra ONNX input of float features per character, and what computes them. */
interface FeatureInput {
  input: 'lexicon' | 'words';
  featurizer: CharFeaturizer;
}

const MENTION_TYPE_SET = new Set<string>(MENTION_TYPES);

/** An extra input the model takes must be declared by its files, and the other way round. */
function checkFeatureInput(
  session: ort.InferenceSession,
  input: FeatureInput['input'],
  declared: boolean,
  missing: string,
  unused: string,
): void {
  const takes = session.inputNames.includes(input);
  if (takes !== declared) throw new CdssError('CDSS_ERR_MODEL', takes ? missing : unused);
}

class OnnxTagger implements NeuralTagger {
  readonly name: string;
  readonly info: NeuralModelInfo;
  private readonly charIds: Int32Array;
  private readonly bigramIds: Map<number, number>;
  private readonly bos: number;
  private readonly eos: number;
  private readonly heads: Head[];
  private readonly features: FeatureInput[] = [];

  constructor(
    private readonly session: ort.InferenceSession,
    files: ModelFiles,
    private readonly options: z.output<typeof onnxTaggerOptionsSchema>,
  ) {
    const { vocab, labels, manifest } = files;
    this.name = manifest.name;
    this.charIds = new Int32Array(65536).fill(vocab.unk);
    vocab.chars.forEach((c, i) => {
      if (i >= 2) this.charIds[c.charCodeAt(0)] = i;
    });
    this.bigramIds = new Map();
    vocab.bigrams.forEach((b, i) => {
      if (i >= 2) this.bigramIds.set(b.charCodeAt(0) * 65536 + b.charCodeAt(1), i);
    });
    this.bos = vocab.bos.charCodeAt(0);
    this.eos = vocab.eos.charCodeAt(0);
    const { lexicon } = files;
    checkFeatureInput(
      session,
      'lexicon',
      Boolean(lexicon),
      '模型需要词典特征，但模型目录没有声明 lexicon.json',
      '模型目录声明了词典特征，但模型没有 lexicon 输入',
    );
    if (lexicon) this.features.push({ input: 'lexicon', featurizer: new LexiconFeaturizer(lexicon) });
    const words = manifest.word_features;
    checkFeatureInput(
      session,
      'words',
      Boolean(words),
      '模型需要分词特征，但 training.json 没有声明 word_features',
      'training.json 声明了分词特征，但模型没有 words 输入',
    );
    // Only models trained with word features load the segmenter (1.0.0 / 1.1.0 never do).
    if (words)
      this.features.push({ input: 'words', featurizer: new WordFeaturizer(createWordCutter(words)) });
    const wanted = options.types ? new Set<string>(options.types) : undefined;
    this.heads = labels.heads.map((h) => {
      if (!session.outputNames.includes(h.output)) {
        throw new CdssError('CDSS_ERR_MODEL', `模型没有输出 ${h.output}`);
      }
      const decoder = new ViterbiDecoder(h.labels, labels.scheme, files.crf[h.output]);
      const types = new Map<string, MentionType>();
      for (const l of decoder.labels) {
        if (l.type === '') continue;
        if (!MENTION_TYPE_SET.has(l.type))
          throw new CdssError('CDSS_ERR_MODEL', `模型标签类型 ${l.type} 不是已知的实体类型`);
        if (!wanted || wanted.has(l.type)) types.set(l.type, l.type as MentionType);
      }
      return { output: h.output, decoder, types };
    });
    this.info = {
      name: manifest.name,
      version: manifest.version,
      dir: files.dir,
      maxLength: manifest.max_len,
      types: [...new Set(this.heads.flatMap((h) => [...h.types.values()]))],
    };
  }

  async tag(text: string): Promise<RawMention[]> {
    const [out] = await this.tagMany([text]);
    return out ?? [];
  }

  async tagMany(texts: readonly string[]): Promise<RawMention[][]> {
    const results: RawMention[][] = texts.map(() => []);
    const pending: PendingChunk[] = [];
    texts.forEach((text, doc) => {
      if (typeof text !== 'string')
        throw new CdssError('CDSS_ERR_INVALID_REQUEST', `第 ${doc + 1} 个文本不是字符串`);
      const norm = normalizeForModel(text);
      for (const chunk of segmentText(text, this.info.maxLength)) pending.push(this.encode(doc, chunk, norm));
    });
    // Longest first, so each batch holds chunks of similar length (less padding).
    pending.sort((a, b) => b.chars.length - a.chars.length || a.doc - b.doc || a.chunk.start - b.chunk.start);
    for (let i = 0; i < pending.length; i += this.options.batchSize) {
      await this.runBatch(pending.slice(i, i + this.options.batchSize), texts, results);
    }
    for (const r of results)
      r.sort((a, b) => a.start - b.start || a.end - b.end || a.type.localeCompare(b.type));
    return results;
  }

  async close(): Promise<void> {
    await this.session.release();
  }

  private encode(doc: number, chunk: TextChunk, norm: string): PendingChunk {
    const n = chunk.end - chunk.start;
    const chars = new Int32Array(n);
    const left = new Int32Array(n);
    const right = new Int32Array(n);
    const unk = 1;
    let prev = this.bos;
    for (let i = 0; i < n; i++) {
      const c = norm.charCodeAt(chunk.start + i);
      chars[i] = this.charIds[c]!;
      left[i] = this.bigramIds.get(prev * 65536 + c) ?? unk;
      prev = c;
    }
    for (let i = 0; i < n; i++) {
      const next = i + 1 < n ? norm.charCodeAt(chunk.start + i + 1) : this.eos;
      right[i] = this.bigramIds.get(norm.charCodeAt(chunk.start + i) * 65536 + next) ?? unk;
    }
    const features = this.features.map(({ featurizer: f }) =>
      f.fill(norm, chunk.start, chunk.end, new Float32Array(n * f.dim)),
    );
    return { doc, chunk, chars, left, right, features };
  }

  private async runBatch(
    batch: PendingChunk[],
    texts: readonly string[],
    results: RawMention[][],
  ): Promise<void> {
    const b = batch.length;
    const t = Math.max(...batch.map((p) => p.chars.length));
    const chars = new BigInt64Array(b * t);
    const left = new BigInt64Array(b * t);
    const right = new BigInt64Array(b * t);
    const lengths = new Int32Array(b);
    const features = this.features.map(({ featurizer: f }) => new Float32Array(b * t * f.dim));
    batch.forEach((p, row) => {
      this.features.forEach(({ featurizer: f }, k) => {
        features[k]!.set(p.features[k]!, row * t * f.dim);
      });
      const n = p.chars.length;
      lengths[row] = n;
      const base = row * t;
      for (let i = 0; i < n; i++) {
        chars[base + i] = BigInt(p.chars[i]!);
        left[base + i] = BigInt(p.left[i]!);
        right[base + i] = BigInt(p.right[i]!);
      }
    });
    let out: ort.InferenceSession.OnnxValueMapType;
    try {
      const feeds: Record<string, ort.Tensor> = {
        chars: new ort.Tensor('int64', chars, [b, t]),
        bigrams_left: new ort.Tensor('int64', left, [b, t]),
        bigrams_right: new ort.Tensor('int64', right, [b, t]),
        lengths: new ort.Tensor('int32', lengths, [b]),
      };
      this.features.forEach(({ input, featurizer: f }, k) => {
        feeds[input] = new ort.Tensor('float32', features[k]!, [b, t, f.dim]);
      });
      out = await this.session.run(feeds);
    } catch (cause) {
      throw new CdssError('CDSS_ERR_MODEL', `神经网络模型 ${this.name} 运行失败`, { cause });
    }
    const source = `model:${this.name}`;
    for (const head of this.heads) {
      if (head.types.size === 0) continue;
      const tensor = out[head.output];
      if (!tensor || !(tensor.data instanceof Float32Array)) {
        throw new CdssError('CDSS_ERR_MODEL', `模型输出 ${head.output} 不是 float32 张量`);
      }
      const data = tensor.data;
      const k = head.decoder.size;
      batch.forEach((p, row) => {
        const offset = row * t * k;
        const path = head.decoder.decode(data, offset, p.chars.length);
        const text = texts[p.doc]!;
        for (const span of head.decoder.spans(path, data, offset)) {
          const type = head.types.get(span.type);
          if (type === undefined || span.score < this.options.minScore) continue;
          const start = p.chunk.start + span.start;
          const end = p.chunk.start + span.end;
          results[p.doc]!.push({ start, end, type, text: text.slice(start, end), score: span.score, source });
        }
      });
    }
    for (const v of Object.values(out)) v.dispose?.();
  }
}

/** Load a model folder (default: {@link defaultModelDir}) into an onnxruntime-node session. */
export async function createOnnxTagger(options: OnnxTaggerOptions = {}): Promise<NeuralTagger> {
  const parsed = onnxTaggerOptionsSchema.safeParse(options);
  if (!parsed.success) {
    throw new CdssError('CDSS_ERR_INVALID_CONFIG', 'ONNX 实体识别模型的配置不正确', {
      issues: parsed.error.issues.map((i) => ({ path: i.path.map((p) => String(p)), message: i.message })),
    });
  }
  const dir = parsed.data.modelDir ?? defaultModelDir();
  if (!existsSync(dir)) throw new CdssError('CDSS_ERR_MODEL', `模型目录不存在：${dir}`);
  const files = loadModelFiles(dir);
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(files.onnxPath, {
      intraOpNumThreads: parsed.data.intraOpThreads,
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
      executionProviders: ['cpu'],
    });
  } catch (cause) {
    throw new CdssError('CDSS_ERR_MODEL', `无法加载 ONNX 模型 ${files.onnxPath}`, { cause });
  }
  try {
    return new OnnxTagger(session, files, parsed.data);
  } catch (err) {
    await session.release();
    throw err;
  }
}
