import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LexiconFeaturizer, lexiconFeatureFileSchema } from './lexicon-features.js';
import { normalizeForModel } from './normalize.js';
import { createOnnxTagger, type NeuralTagger } from './onnx-tagger.js';

// Built by models/ner/train/make_tiny_lexicon_model.py with train.py's own code: our sentences,
// our lexicon, seeded random weights (no corpus data). Only parity with the trainer is meaningful.
const dir = fileURLToPath(new URL('./fixtures/tiny-lexicon-model/', import.meta.url));
const training = JSON.parse(readFileSync(join(dir, 'training.json'), 'utf8')) as {
  fixture_parity: {
    text: string;
    lexicon_bits: [number, number][];
    emissions: number[][];
    main_spans: [number, number, string][];
  }[];
};
const featurizer = new LexiconFeaturizer(
  lexiconFeatureFileSchema.parse(JSON.parse(readFileSync(join(dir, 'lexicon.json'), 'utf8'))),
);

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
      const lex = featurizer.features(normalizeForModel(p.text));
      const set: [number, number][] = [];
      lex.forEach((v, i) => {
        if (v !== 0) set.push([Math.floor(i / featurizer.dim), i % featurizer.dim]);
      });
      expect(set).toEqual(p.lexicon_bits);
      expect(set.length).toBeGreaterThan(0);
    }
  });

  it('feeds the lexicon input and reproduces the trainer’s emissions', async () => {
    const vocab = JSON.parse(readFileSync(join(dir, 'vocab.json'), 'utf8')) as {
      chars: string[];
      bigrams: string[];
    };
    const cid = new Map(vocab.chars.map((c, i) => [c, i]));
    const bid = new Map(vocab.bigrams.map((b, i) => [b, i]));
    const session = await ort.InferenceSession.create(join(dir, 'model.onnx'));
    expect(session.inputNames).toContain('lexicon');
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
        lexicon: new ort.Tensor('float32', featurizer.features(norm), [1, norm.length, featurizer.dim]),
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
    const many = await tagger.tagMany(texts);
    training.fixture_parity.forEach((p, i) => {
      const got = many[i]!.map((m) => [m.start, m.end, m.type]);
      expect(got).toEqual(p.main_spans);
      for (const m of many[i]!) expect(m.text).toBe(p.text.slice(m.start, m.end));
    });
    expect((await tagger.tag(texts[1]!)).map((m) => [m.start, m.end, m.type])).toEqual(
      training.fixture_parity[1]!.main_spans,
    );
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
