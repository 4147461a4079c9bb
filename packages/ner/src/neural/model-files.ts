import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CdssError } from '@yijian/emr';
import { z } from 'zod';
import { type LexiconFeatureFile, lexiconFeatureFileSchema } from './lexicon-features.js';
import type { CrfParameters } from './viterbi.js';
import { WORD_FEATURE_DIM } from './word-features.js';

/**
 * The artifacts of a model folder written by models/ner/train/train.py:
 * model.onnx, vocab.json, labels.json, crf.json and training.json (manifest + training report).
 */
export const vocabFileSchema = z.strictObject({
  /** Index 0 and 1 are <pad> and <unk>; every other entry is one UTF-16 code unit. */
  chars: z.array(z.string().min(1)).min(2),
  /** Index 0 and 1 are <pad> and <unk>; every other entry is two code units (BOS/EOS mark the edges). */
  bigrams: z.array(z.string().min(1)).min(2),
  bos: z.string().length(1),
  eos: z.string().length(1),
  pad: z.literal(0),
  unk: z.literal(1),
});
export type VocabFile = z.infer<typeof vocabFileSchema>;

export const labelsFileSchema = z.strictObject({
  scheme: z.enum(['BIOES', 'BIO']),
  heads: z
    .array(z.strictObject({ output: z.string().min(1), labels: z.array(z.string().min(1)).min(1) }))
    .min(1),
  /** Corpus label -> MentionType, per corpus the model was trained on (documentation). */
  mapping: z.record(z.string(), z.record(z.string(), z.string())),
});
export type LabelsFile = z.infer<typeof labelsFileSchema>;

const crfSchema = z.strictObject({
  transitions: z.array(z.array(z.number())),
  start: z.array(z.number()),
  end: z.array(z.number()),
});
export const crfFileSchema = z.record(z.string(), crfSchema);

/** Only the manifest part of training.json is read at run time; the rest is the training report. */
export const manifestSchema = z.looseObject({
  name: z.string().min(1),
  version: z.string().min(1),
  max_len: z.number().int().positive(),
  /** Present when the model takes the `lexicon` input (per-character BMES lexicon features). */
  lexicon: z
    .looseObject({
      file: z.string().min(1),
      types: z.array(z.string().min(1)).min(1),
      features: z.number().int().positive(),
    })
    .nullable()
    .optional(),
  /** Present when the model takes the `words` input (per-character B/M/E/S of the jieba word). */
  word_features: z
    .looseObject({
      segmenter: z.literal('jieba'),
      package: z.string().min(1),
      version: z.string().min(1),
      hmm: z.boolean(),
      features: z.literal(WORD_FEATURE_DIM),
    })
    .nullable()
    .optional(),
});
export type ModelManifest = z.infer<typeof manifestSchema>;

export interface ModelFiles {
  dir: string;
  onnxPath: string;
  vocab: VocabFile;
  labels: LabelsFile;
  crf: Record<string, CrfParameters>;
  manifest: ModelManifest;
  /** lexicon.json, when the manifest names one. */
  lexicon?: LexiconFeatureFile;
}

function readJson<T>(dir: string, file: string, schema: z.ZodType<T>): T {
  const path = join(dir, file);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (cause) {
    throw new CdssError('CDSS_ERR_MODEL', `无法读取模型文件 ${path}`, { cause });
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    throw new CdssError('CDSS_ERR_MODEL', `模型文件 ${path} 格式不正确`, {
      issues: parsed.error.issues.map((i) => ({
        path: i.path.map((p) => (typeof p === 'symbol' ? String(p) : p)),
        message: i.message,
      })),
    });
  }
  return parsed.data;
}

export function loadModelFiles(dir: string): ModelFiles {
  const vocab = readJson(dir, 'vocab.json', vocabFileSchema);
  const labels = readJson(dir, 'labels.json', labelsFileSchema);
  const crf = readJson(dir, 'crf.json', crfFileSchema);
  const manifest = readJson(dir, 'training.json', manifestSchema);
  for (const head of labels.heads) {
    const params = crf[head.output];
    const k = head.labels.length;
    if (params && (params.transitions.length !== k || params.start.length !== k || params.end.length !== k)) {
      throw new CdssError('CDSS_ERR_MODEL', `模型文件 crf.json 中 ${head.output} 的维度与标签数 ${k} 不一致`);
    }
  }
  for (const c of vocab.chars.slice(2)) {
    if (c.length !== 1)
      throw new CdssError('CDSS_ERR_MODEL', `模型文件 vocab.json 中的字符 '${c}' 长度不是 1`);
  }
  for (const b of vocab.bigrams.slice(2)) {
    if (b.length !== 2)
      throw new CdssError('CDSS_ERR_MODEL', `模型文件 vocab.json 中的二元组 '${b}' 长度不是 2`);
  }
  const files: ModelFiles = { dir, onnxPath: join(dir, 'model.onnx'), vocab, labels, crf, manifest };
  if (manifest.lexicon) {
    const lexicon = readJson(dir, manifest.lexicon.file, lexiconFeatureFileSchema);
    const same =
      lexicon.types.length === manifest.lexicon.types.length &&
      lexicon.types.every((t, i) => t === manifest.lexicon!.types[i]) &&
      manifest.lexicon.features === 4 * lexicon.types.length;
    if (!same)
      throw new CdssError(
        'CDSS_ERR_MODEL',
        `模型词典 ${manifest.lexicon.file} 的类型与 training.json 不一致`,
      );
    files.lexicon = lexicon;
  }
  return files;
}
