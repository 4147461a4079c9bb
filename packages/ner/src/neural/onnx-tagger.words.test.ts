import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  expectTrainerEmissions,
  expectTrainerSpans,
  fixtureLexicon,
  type ParitySentence,
  readTraining,
  setBits,
} from './fixture-model.test-helpers.js';
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
const training = readTraining<{
  word_features: WordSegmenterSpec & { features: number };
  fixture_parity: (ParitySentence & { word_bits: [number, number][] })[];
}>(dir);
const lexicon = fixtureLexicon(dir);
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
      const set = setBits(words.features(normalizeForModel(p.text)), WORD_FEATURE_DIM);
      expect(set).toEqual(p.word_bits);
      expect(set).toHaveLength(p.text.length);
    }
  });

  it('feeds the words input and reproduces the trainer’s emissions', async () => {
    await expectTrainerEmissions(dir, training.fixture_parity, 'words', (norm) => ({
      lexicon: new ort.Tensor('float32', lexicon.features(norm), [1, norm.length, lexicon.dim]),
      words: new ort.Tensor('float32', words.features(norm), [1, norm.length, WORD_FEATURE_DIM]),
    }));
  });

  it('decodes the trainer’s spans, alone and batched with other texts', async () => {
    await expectTrainerSpans(tagger, training.fixture_parity, 2, ['无关的文本。']);
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
