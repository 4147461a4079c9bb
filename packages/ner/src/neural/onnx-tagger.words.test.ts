import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LexiconFeaturizer, lexiconFeatureFileSchema } from './lexicon-features.js';
import { normalizeForModel } from './normalize.js';
import { createOnnxTagger, type NeuralTagger } from './onnx-tagger.js';
import {
  createWordCutter,
  WORD_FEATURE_DIM,
  WordFeaturizer,
  type WordSegmenterSpec,
} from './word-features.js';

// Built by `models/ner/train/make_tiny_lexicon_model.py --words` with train.py's own code: our
// sentences and lexicon, jieba word bits from segment.mjs, seeded random weights (no corpus data).
const dir = fileURLToPath(new URL('./fixtures/tiny-word-model/', import.meta.url));
const training = JSON.parse(readFileSync(join(dir, 'training.json'), 'utf8')) as {
  word_features: WordSegmenterSpec & { features: number };
  fixture_parity: {
    text: string;
    word_bits: [number, number][];
    emissions: number[][];
    main_spans: [number, number, string][];
  }[];
};
const lexicon = new LexiconFeaturizer(
  lexiconFeatureFileSchema.parse(JSON.parse(readFileSync(join(dir, 'lexicon.json'), 'utf8'))),
);
const words = new WordFeaturizer(createWordCutter(training.word_features));

let tagger: NeuralTagger;
beforeAll(async () => {
  tagger = await createOnnxTagger({
    modelDir: dir,
    types: ['disease', 'imaging', 'lab', 'operation', 'drug', 'anatomy'],
  });
});
afterAll(async () => {
  await tagger.close();
});

describe('createOnnxTagger with a word-feature model', () => {
  it('computes the trainer’s jieba word bits for every parity sentence', () => {
    expect(training.word_features.features).toBe(WORD_FEATURE_DIM);
    for (const p of training.fixture_parity) {
      const f = words.features(normalizeForModel(p.text));
      const set: [number, number][] = [];
      f.forEach((v, i) => {
        if (v !== 0) set.push([Math.floor(i / WORD_FEATURE_DIM), i % WORD_FEATURE_DIM]);
      });
      expect(set).toEqual(p.word_bits);
      expect(set).toHaveLength(p.text.length);
    }
  });

  it('feeds the words input and reproduces the trainer’s emissions', async () => {
    const vocab = JSON.parse(readFileSync(join(dir, 'vocab.json'), 'utf8')) as {
      chars: string[];
      bigrams: string[];
    };
    const cid = new Map(vocab.chars.map((c, i) => [c, i]));
    const bid = new Map(vocab.bigrams.map((b, i) => [b, i]));
    const session = await ort.InferenceSession.create(join(dir, 'model.onnx'));
    expect(session.inputNames).toContain('words');
    const ids = (xs: number[]) => new ort.Tensor('int64', BigInt64Array.from(xs.map(BigInt)), [1, xs.length]);
    for (const p of training.fixture_parity) {
      const norm = normalizeForModel(p.text);
      const padded = `\u0002${norm}\u0003`;
      const bis = [...padded].slice(0, -1).map((_, i) => bid.get(padded.slice(i, i + 2)) ?? 1);
      const out = await session.run({
        chars: ids([...norm].map((c) => cid.get(c) ?? 1)),
        bigrams_left: ids(bis.slice(0, -1)),
        bigrams_right: ids(bis.slice(1)),
        lengths: new ort.Tensor('int32', Int32Array.of(norm.length), [1]),
        lexicon: new ort.Tensor('float32', lexicon.features(norm), [1, norm.length, lexicon.dim]),
        words: new ort.Tensor('float32', words.features(norm), [1, norm.length, WORD_FEATURE_DIM]),
      });
      const em = out.emissions!.data as Float32Array;
      const k = p.emissions[0]!.length;
      p.emissions.forEach((row, t) => {
        row.forEach((v, j) => {
          expect(em[t * k + j]).toBeCloseTo(v, 3);
        });
      });
    }
    await session.release();
  });

  it('decodes the trainer’s spans, alone and batched with other texts', async () => {
    const texts = training.fixture_parity.map((p) => p.text);
    const many = await tagger.tagMany([...texts, '无关的文本。']);
    training.fixture_parity.forEach((p, i) => {
      expect(many[i]!.map((m) => [m.start, m.end, m.type])).toEqual(p.main_spans);
      for (const m of many[i]!) expect(m.text).toBe(p.text.slice(m.start, m.end));
    });
    expect((await tagger.tag(texts[2]!)).map((m) => [m.start, m.end, m.type])).toEqual(
      training.fixture_parity[2]!.main_spans,
    );
  });

  it('rejects a manifest that disagrees with the model or names another jieba version', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'yijian-ner-words-'));
    try {
      cpSync(dir, tmp, { recursive: true });
      const meta = JSON.parse(readFileSync(join(tmp, 'training.json'), 'utf8'));
      writeFileSync(join(tmp, 'training.json'), JSON.stringify({ ...meta, word_features: null }));
      await expect(createOnnxTagger({ modelDir: tmp })).rejects.toMatchObject({ code: 'CDSS_ERR_MODEL' });
      writeFileSync(
        join(tmp, 'training.json'),
        JSON.stringify({ ...meta, word_features: { ...meta.word_features, version: '1.10.4' } }),
      );
      await expect(createOnnxTagger({ modelDir: tmp })).rejects.toMatchObject({ code: 'CDSS_ERR_MODEL' });
      writeFileSync(
        join(tmp, 'training.json'),
        JSON.stringify({ ...meta, word_features: { ...meta.word_features, features: 5 } }),
      );
      await expect(createOnnxTagger({ modelDir: tmp })).rejects.toMatchObject({ code: 'CDSS_ERR_MODEL' });
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });

  it('a model without word features still loads and tags without the segmenter input', async () => {
    const lexOnly = await createOnnxTagger({
      modelDir: fileURLToPath(new URL('./fixtures/tiny-lexicon-model/', import.meta.url)),
    });
    expect(await lexOnly.tag(training.fixture_parity[0]!.text)).toBeInstanceOf(Array);
    await lexOnly.close();
  });
});
