import { existsSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { CdssError } from '@yijian/emr';
import { z } from 'zod';
import { MENTION_TYPES, type MentionType, type RawMention } from '../types.js';
import type { NeuralModelInfo, NeuralTagger } from './onnx-tagger.js';
import { segmentText, type TextChunk } from './segment.js';
import { type TagScheme, ViterbiDecoder } from './viterbi.js';

/**
 * Corpus label -> MentionType, applied to the type part of a model's labels (`B-<type>`):
 * CCKS 2019/2020, CCKS 2017, CMeEE and our own names. Labels not listed here are ignored.
 */
export const DEFAULT_LABEL_TYPE_MAP: Readonly<Record<string, MentionType>> = {
  疾病和诊断: 'disease',
  影像检查: 'imaging',
  实验室检验: 'lab',
  手术: 'operation',
  药物: 'drug',
  解剖部位: 'anatomy',
  症状和体征: 'symptom',
  身体部位: 'anatomy',
  dis: 'disease',
  sym: 'symptom',
  dru: 'drug',
  bod: 'anatomy',
  disease: 'disease',
  symptom: 'symptom',
  drug: 'drug',
  operation: 'operation',
  lab: 'lab',
  imaging: 'imaging',
  anatomy: 'anatomy',
};

export const transformersTaggerOptionsSchema = z.strictObject({
  /** A local Hugging Face model folder: config.json (id2label), tokenizer.json, onnx/model.onnx. */
  modelDir: z.string().min(1),
  /** Name used in `source` ('model:<name>'); default: the folder name. */
  name: z.string().min(1).optional(),
  /** Type part of the labels -> MentionType; merged over {@link DEFAULT_LABEL_TYPE_MAP}. */
  labelMap: z.record(z.string(), z.enum(MENTION_TYPES)).default({}),
  /** Characters per model input (the model adds [CLS] and [SEP]). */
  maxLength: z.number().int().min(8).max(510).default(256),
  /** Texts' chunks per model call. */
  batchSize: z.number().int().min(1).max(512).default(16),
  /** ONNX weights variant in onnx/ (fp32 = model.onnx, q8 = model_quantized.onnx, …). */
  dtype: z.enum(['fp32', 'fp16', 'q8', 'int8', 'uint8', 'q4', 'bnb4', 'q4f16']).default('fp32'),
  minScore: z.number().min(0).max(1).default(0),
});
export type TransformersTaggerOptions = z.input<typeof transformersTaggerOptionsSchema>;

type TransformersModule = typeof import('@huggingface/transformers');

/**
 * Any Hugging Face token-classification model (e.g. a hospital's fine-tuned Chinese BERT exported
 * to ONNX) behind the `Tagger` interface, fully offline. Chinese BERT vocabularies are per
 * character, so the text is fed one character per token (whitespace gets no token and is tagged O),
 * which keeps every offset exact. Decoding is constrained Viterbi over log-softmax scores (BIO or
 * BIOES, read from the labels), so the output never has an I- without its B-.
 */
export async function createTransformersTagger(options: TransformersTaggerOptions): Promise<NeuralTagger> {
  const parsed = transformersTaggerOptionsSchema.safeParse(options);
  if (!parsed.success) {
    throw new CdssError('CDSS_ERR_INVALID_CONFIG', 'Transformers 实体识别模型的配置不正确', {
      issues: parsed.error.issues.map((i) => ({ path: i.path.map((p) => String(p)), message: i.message })),
    });
  }
  const opts = parsed.data;
  const dir = resolve(opts.modelDir);
  if (!existsSync(dir)) throw new CdssError('CDSS_ERR_MODEL', `模型目录不存在：${dir}`);

  const hf: TransformersModule = await import('@huggingface/transformers');
  // Offline only: never reach the Hub; resolve the model id as a folder under its parent.
  hf.env.allowRemoteModels = false;
  hf.env.allowLocalModels = true;
  hf.env.localModelPath = `${dirname(dir)}/`;
  const id = basename(dir);
  let tokenizer: Awaited<ReturnType<TransformersModule['AutoTokenizer']['from_pretrained']>>;
  let model: Awaited<ReturnType<TransformersModule['AutoModelForTokenClassification']['from_pretrained']>>;
  try {
    tokenizer = await hf.AutoTokenizer.from_pretrained(id, { local_files_only: true });
    model = await hf.AutoModelForTokenClassification.from_pretrained(id, {
      local_files_only: true,
      dtype: opts.dtype,
      device: 'cpu',
    });
  } catch (cause) {
    throw new CdssError('CDSS_ERR_MODEL', `无法加载本地模型 ${dir}`, { cause });
  }

  const id2label = (model.config as unknown as { id2label?: Record<string, string> }).id2label;
  if (!id2label || Object.keys(id2label).length === 0) {
    throw new CdssError('CDSS_ERR_MODEL', `模型 ${dir} 的 config.json 没有 id2label`);
  }
  const labels = Object.keys(id2label)
    .map(Number)
    .sort((a, b) => a - b)
    .map((i) => id2label[String(i)]!);
  let decoder: ViterbiDecoder;
  try {
    const scheme: TagScheme = labels.some((l) => /^[ES][-_]/.test(l)) ? 'BIOES' : 'BIO';
    decoder = new ViterbiDecoder(labels, scheme);
  } catch (cause) {
    throw new CdssError('CDSS_ERR_MODEL', `模型 ${dir} 的标签不是 BIO/BIOES 格式`, { cause });
  }
  const typeMap: Record<string, MentionType> = { ...DEFAULT_LABEL_TYPE_MAP, ...opts.labelMap };
  const types = [...new Set(decoder.labels.map((l) => typeMap[l.type]).filter((t): t is MentionType => !!t))];

  const vocab = tokenizer.get_vocab();
  const unkId = tokenizer.unk_token_id;
  const special = (token: unknown, fallback: string): number => {
    const id = vocab.get(typeof token === 'string' ? token : fallback);
    if (id === undefined) throw new CdssError('CDSS_ERR_MODEL', `模型 ${dir} 的词表缺少 ${fallback}`);
    return id;
  };
  const clsId = special(tokenizer.config?.cls_token, '[CLS]');
  const sepId = special(tokenizer.config?.sep_token, '[SEP]');
  const padId = tokenizer.pad_token_id ?? 0;
  const lower = tokenizer.config?.do_lower_case !== false;
  const tokenOf = (ch: string): number => vocab.get(lower ? ch.toLowerCase() : ch) ?? vocab.get(ch) ?? unkId;

  const name = opts.name ?? id;
  const source = `model:${name}`;
  const info: NeuralModelInfo = { name, version: 'external', dir, maxLength: opts.maxLength, types };

  async function tagMany(texts: readonly string[]): Promise<RawMention[][]> {
    const results: RawMention[][] = texts.map(() => []);
    const pending: { doc: number; chunk: TextChunk; positions: number[]; ids: number[] }[] = [];
    texts.forEach((text, doc) => {
      for (const chunk of segmentText(text, opts.maxLength)) {
        const positions: number[] = [];
        const ids: number[] = [];
        for (let i = chunk.start; i < chunk.end; i++) {
          const ch = text[i]!;
          if (/\s/.test(ch)) continue;
          positions.push(i);
          ids.push(tokenOf(ch));
        }
        if (ids.length > 0) pending.push({ doc, chunk, positions, ids });
      }
    });
    for (let b = 0; b < pending.length; b += opts.batchSize) {
      const batch = pending.slice(b, b + opts.batchSize);
      const width = Math.max(...batch.map((p) => p.ids.length)) + 2;
      const inputIds = new BigInt64Array(batch.length * width).fill(BigInt(padId));
      const mask = new BigInt64Array(batch.length * width);
      batch.forEach((p, row) => {
        const seq = [clsId, ...p.ids, sepId];
        seq.forEach((tok, j) => {
          inputIds[row * width + j] = BigInt(tok);
          mask[row * width + j] = 1n;
        });
      });
      let logits: { data: unknown; dims: number[] };
      try {
        const out = await model({
          input_ids: new hf.Tensor('int64', inputIds, [batch.length, width]),
          attention_mask: new hf.Tensor('int64', mask, [batch.length, width]),
          token_type_ids: new hf.Tensor('int64', new BigInt64Array(batch.length * width), [
            batch.length,
            width,
          ]),
        });
        logits = out.logits;
      } catch (cause) {
        throw new CdssError('CDSS_ERR_MODEL', `模型 ${name} 运行失败`, { cause });
      }
      const k = decoder.size;
      if (!(logits.data instanceof Float32Array) || logits.dims[2] !== k) {
        throw new CdssError('CDSS_ERR_MODEL', `模型 ${name} 的输出维度与 id2label 不一致`);
      }
      const data = logits.data;
      batch.forEach((p, row) => {
        // Log-softmax rows of the real tokens (skip [CLS]) into one contiguous block.
        const n = p.ids.length;
        const scores = new Float32Array(n * k);
        for (let t = 0; t < n; t++) {
          const src = (row * width + t + 1) * k;
          let max = -Infinity;
          for (let j = 0; j < k; j++) max = Math.max(max, data[src + j]!);
          let z = 0;
          for (let j = 0; j < k; j++) z += Math.exp(data[src + j]! - max);
          const lz = Math.log(z) + max;
          for (let j = 0; j < k; j++) scores[t * k + j] = data[src + j]! - lz;
        }
        const path = decoder.decode(scores, 0, n);
        const text = texts[p.doc]!;
        for (const span of decoder.spans(path, scores, 0)) {
          const type = typeMap[span.type];
          if (type === undefined || span.score < opts.minScore) continue;
          const start = p.positions[span.start]!;
          const end = p.positions[span.end - 1]! + 1;
          results[p.doc]!.push({ start, end, type, text: text.slice(start, end), score: span.score, source });
        }
      });
    }
    for (const r of results)
      r.sort((a, b) => a.start - b.start || a.end - b.end || a.type.localeCompare(b.type));
    return results;
  }

  return {
    name,
    info,
    tagMany,
    async tag(text: string) {
      const [out] = await tagMany([text]);
      return out ?? [];
    },
    async close() {
      await model.dispose();
    },
  };
}
