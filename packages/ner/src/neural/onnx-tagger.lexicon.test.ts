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

// Built by models/ner/train/make_tiny_lexicon_model.py with train.py's own code: our sentences,
// our lexicon, seeded random weights (no corpus data). Only parity with the trainer is meaningful.
const dir = fileURLToPath(new URL('./fixtures/tiny-lexicon-model/', import.meta.url));
const training = readTraining<{
  fixture_parity: (ParitySentence & { lexicon_bits: [number, number][] })[];
}>(dir);
const featurizer = fixtureLexicon(dir);

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

describe('createOnnxTagger with a lexicon-feature model', () => {
  it('computes the trainer’s lexicon bits for every parity sentence', () => {
    for (const p of training.fixture_parity) {
      const set = setBits(featurizer.features(normalizeForModel(p.text)), featurizer.dim);
      expect(set).toEqual(p.lexicon_bits);
      expect(set.length).toBeGreaterThan(0);
    }
  });

  it('feeds the lexicon input and reproduces the trainer’s emissions', async () => {
    await expectTrainerEmissions(dir, training.fixture_parity, 'lexicon', (norm) => ({
      lexicon: new ort.Tensor('float32', featurizer.features(norm), [1, norm.length, featurizer.dim]),
    }));
  });

  it('decodes the trainer’s spans, alone and batched with other texts', async () => {
    await expectTrainerSpans(tagger, training.fixture_parity, 1);
  });

  it('rejects a folder whose lexicon.json is missing or does not match the manifest', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'yijian-ner-lex-'));
    try {
      cpSync(dir, tmp, { recursive: true });
      const lexicon = JSON.parse(readFileSync(join(tmp, 'lexicon.json'), 'utf8'));
      writeFileSync(join(tmp, 'lexicon.json'), JSON.stringify({ ...lexicon, types: ['disease', 'drug'] }));
      await expect(createOnnxTagger({ modelDir: tmp })).rejects.toMatchObject({ code: 'CDSS_ERR_MODEL' });
      rmSync(join(tmp, 'lexicon.json'));
      await expect(createOnnxTagger({ modelDir: tmp })).rejects.toMatchObject({ code: 'CDSS_ERR_MODEL' });
      // a manifest without the lexicon for a model that takes one
      const meta = JSON.parse(readFileSync(join(tmp, 'training.json'), 'utf8'));
      writeFileSync(join(tmp, 'training.json'), JSON.stringify({ ...meta, lexicon: null }));
      await expect(createOnnxTagger({ modelDir: tmp })).rejects.toMatchObject({ code: 'CDSS_ERR_MODEL' });
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});
