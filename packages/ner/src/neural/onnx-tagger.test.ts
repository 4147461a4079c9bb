import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setBits } from './fixture-model.test-helpers.js';
import { LexiconFeaturizer, lexiconFeatureFileSchema } from './lexicon-features.js';
import { normalizeForModel } from './normalize.js';
import { createOnnxTagger, defaultModelDir, type NeuralTagger } from './onnx-tagger.js';
import { ViterbiDecoder } from './viterbi.js';
import {
  createWordCutter,
  WORD_FEATURE_DIM,
  WordFeaturizer,
  type WordSegmenterSpec,
} from './word-features.js';

// The shipped model (models/ner/<version>/) is ours and committed, so this runs without ../shared.
// YIJIAN_NER_TEST_MODEL_DIR points these tests at another model folder (a candidate before it ships).
const dir = process.env.YIJIAN_NER_TEST_MODEL_DIR ?? defaultModelDir();
const training = JSON.parse(readFileSync(join(dir, 'training.json'), 'utf8')) as {
  lexicon?: { file: string } | null;
  word_features?: WordSegmenterSpec | null;
  parity: {
    lexicon_bits?: [number, number][] | null;
    word_bits?: [number, number][] | null;
    text: string;
    emissions_row0: number[];
    emissions_last: number[];
    main_path: string[];
    symptom_path: string[];
  };
};
const vocab = JSON.parse(readFileSync(join(dir, 'vocab.json'), 'utf8')) as {
  chars: string[];
  bigrams: string[];
};

let tagger: NeuralTagger;
beforeAll(async () => {
  tagger = await createOnnxTagger({ modelDir: dir });
});
afterAll(async () => {
  await tagger.close();
});

function spansOf(path: string[]): string[] {
  const labels = [...new Set(['O', ...path])];
  const dec = new ViterbiDecoder(labels, 'BIOES');
  const idx = Int32Array.from(path.map((l) => labels.indexOf(l)));
  return dec
    .spans(idx, new Float32Array(idx.length * labels.length), 0)
    .map((s) => `${s.start}-${s.end}:${s.type}`);
}

describe('createOnnxTagger (shipped model)', () => {
  it('loads the model folder and describes it', () => {
    expect(tagger.info.maxLength).toBeGreaterThan(16);
    expect(new Set(tagger.info.types)).toEqual(
      new Set(['disease', 'imaging', 'lab', 'operation', 'drug', 'anatomy', 'symptom']),
    );
    expect(tagger.name).toBe(tagger.info.name);
  });

  it('computes the same emissions as the trainer (ONNX export parity)', async () => {
    const { text, emissions_row0, emissions_last } = training.parity;
    const cid = new Map(vocab.chars.map((c, i) => [c, i]));
    const bid = new Map(vocab.bigrams.map((b, i) => [b, i]));
    const norm = normalizeForModel(text);
    const padded = `\u0002${norm}\u0003`;
    const ids = (xs: number[]) => new ort.Tensor('int64', BigInt64Array.from(xs.map(BigInt)), [1, xs.length]);
    const chars = [...norm].map((c) => cid.get(c) ?? 1);
    const bis = [...padded].slice(0, -1).map((_, i) => bid.get(padded.slice(i, i + 2)) ?? 1);
    const session = await ort.InferenceSession.create(join(dir, 'model.onnx'));
    const feeds: Record<string, ort.Tensor> = {
      chars: ids(chars),
      bigrams_left: ids(bis.slice(0, -1)),
      bigrams_right: ids(bis.slice(1)),
      lengths: new ort.Tensor('int32', Int32Array.of(norm.length), [1]),
    };
    if (training.lexicon) {
      // The lexicon features must be bit-for-bit those the trainer computed for the same text.
      const file = lexiconFeatureFileSchema.parse(
        JSON.parse(readFileSync(join(dir, training.lexicon.file), 'utf8')),
      );
      const featurizer = new LexiconFeaturizer(file);
      const lex = featurizer.features(norm);
      const set = setBits(lex, featurizer.dim);
      expect(set).toEqual(training.parity.lexicon_bits);
      expect(set.length).toBeGreaterThan(0);
      feeds.lexicon = new ort.Tensor('float32', lex, [1, norm.length, featurizer.dim]);
    }
    if (training.word_features) {
      // The jieba word bits must be those the trainer got from segment.mjs for the same text.
      const words = new WordFeaturizer(createWordCutter(training.word_features)).features(norm);
      const set = setBits(words, WORD_FEATURE_DIM);
      expect(set).toEqual(training.parity.word_bits);
      expect(set).toHaveLength(norm.length);
      feeds.words = new ort.Tensor('float32', words, [1, norm.length, WORD_FEATURE_DIM]);
    }
    const out = await session.run(feeds);
    const em = out.emissions!.data as Float32Array;
    const k = emissions_row0.length;
    for (let j = 0; j < k; j++) {
      expect(em[j]).toBeCloseTo(emissions_row0[j]!, 3);
      expect(em[(norm.length - 1) * k + j]).toBeCloseTo(emissions_last[j]!, 3);
    }
    await session.release();
  });

  it('decodes the same spans as the trainer, with exact offsets', async () => {
    const { text, main_path, symptom_path } = training.parity;
    const mentions = await tagger.tag(text);
    const main = mentions.filter((m) => m.type !== 'symptom').map((m) => `${m.start}-${m.end}:${m.type}`);
    const sym = mentions.filter((m) => m.type === 'symptom').map((m) => `${m.start}-${m.end}:${m.type}`);
    expect(main.sort()).toEqual(spansOf(main_path).sort());
    expect(sym.sort()).toEqual(spansOf(symptom_path).sort());
    for (const m of mentions) {
      expect(m.text).toBe(text.slice(m.start, m.end));
      expect(m.source).toBe(`model:${tagger.name}`);
      expect(m.score).toBeGreaterThan(0);
      expect(m.score).toBeLessThanOrEqual(1);
    }
  });

  it('finds typical entities in a clinical sentence we wrote', async () => {
    const text = '患者因2型糖尿病口服二甲双胍，行腹部CT检查，诉头痛、恶心。';
    const types = new Set((await tagger.tag(text)).map((m) => `${m.type}:${m.text}`));
    expect(types.has('drug:二甲双胍')).toBe(true);
    expect([...types].some((t) => t.startsWith('disease:') && t.includes('糖尿病'))).toBe(true);
  });

  it('gives full-width text the same spans as half-width text', async () => {
    const half = '血常规示WBC 12.5×10^9/L，CT示右肺结节。';
    const full = half
      .replace(/[!-~]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 0xfee0))
      .replace(/ /g, '\u3000');
    const a = (await tagger.tag(half)).map((m) => [m.start, m.end, m.type]);
    const b = (await tagger.tag(full)).map((m) => [m.start, m.end, m.type]);
    expect(b).toEqual(a);
  });

  it('splits long documents and keeps offsets into the original text', async () => {
    const sentence = '患者于2020年行阑尾切除术，术后予头孢曲松抗感染治疗，复查腹部B超未见异常。';
    const text = `${sentence}\n`.repeat(40);
    const [long] = await tagger.tagMany([text]);
    const one = await tagger.tag(sentence);
    expect(one.length).toBeGreaterThan(0);
    expect(long!.length).toBe(one.length * 40);
    for (const m of long!) expect(text.slice(m.start, m.end)).toBe(m.text);
  });

  it('handles empty input, batches several texts, and filters types', async () => {
    expect(await tagger.tag('')).toEqual([]);
    const texts = ['口服阿司匹林。', '', '行胃镜检查。'];
    const many = await tagger.tagMany(texts);
    expect(many).toHaveLength(3);
    for (let i = 0; i < texts.length; i++) expect(many[i]).toEqual(await tagger.tag(texts[i]!));
    const drugsOnly = await createOnnxTagger({ modelDir: dir, types: ['drug'] });
    const m = await drugsOnly.tag('口服阿司匹林，诉头痛。');
    expect(m.every((x) => x.type === 'drug')).toBe(true);
    await drugsOnly.close();
  });

  it('rejects bad options and missing folders with coded errors', async () => {
    await expect(createOnnxTagger({ batchSize: 0 })).rejects.toMatchObject({
      code: 'CDSS_ERR_INVALID_CONFIG',
    });
    await expect(createOnnxTagger({ modelDir: '/nonexistent/model' })).rejects.toMatchObject({
      code: 'CDSS_ERR_MODEL',
    });
  });
});
