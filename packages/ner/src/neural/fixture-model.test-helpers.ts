import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import ort from 'onnxruntime-node';
import { expect } from 'vitest';
import { LexiconFeaturizer, lexiconFeatureFileSchema } from './lexicon-features.js';
import { normalizeForModel } from './normalize.js';
import type { NeuralTagger } from './onnx-tagger.js';

/** A parity sentence of a tiny fixture model's training.json (written by the trainer's own code). */
export interface ParitySentence {
  text: string;
  emissions: number[][];
  main_spans: [number, number, string][];
}

/** The fixture model's training.json. */
export function readTraining<T>(dir: string): T {
  return JSON.parse(readFileSync(join(dir, 'training.json'), 'utf8')) as T;
}

/** The fixture model's lexicon featurizer. */
export function fixtureLexicon(dir: string): LexiconFeaturizer {
  return new LexiconFeaturizer(
    lexiconFeatureFileSchema.parse(JSON.parse(readFileSync(join(dir, 'lexicon.json'), 'utf8'))),
  );
}

/** The set bits of a length × dim feature array as [position, bit] pairs (the trainer's parity format). */
export function setBits(features: Float32Array, dim: number): [number, number][] {
  const set: [number, number][] = [];
  features.forEach((v, i) => {
    if (v !== 0) set.push([Math.floor(i / dim), i % dim]);
  });
  return set;
}

/**
 * Run the fixture's model.onnx on each parity sentence, with the char and bigram inputs built here
 * and the extra inputs `extraFeeds` gives, and expect the trainer's emissions.
 */
export async function expectTrainerEmissions(
  dir: string,
  parity: readonly ParitySentence[],
  input: string,
  extraFeeds: (norm: string) => Record<string, ort.Tensor>,
): Promise<void> {
  const vocab = JSON.parse(readFileSync(join(dir, 'vocab.json'), 'utf8')) as {
    chars: string[];
    bigrams: string[];
  };
  const cid = new Map(vocab.chars.map((c, i) => [c, i]));
  const bid = new Map(vocab.bigrams.map((b, i) => [b, i]));
  const session = await ort.InferenceSession.create(join(dir, 'model.onnx'));
  expect(session.inputNames).toContain(input);
  const ids = (xs: number[]) => new ort.Tensor('int64', BigInt64Array.from(xs.map(BigInt)), [1, xs.length]);
  for (const p of parity) {
    const norm = normalizeForModel(p.text);
    const padded = `\u0002${norm}\u0003`;
    const bis = [...padded].slice(0, -1).map((_, i) => bid.get(padded.slice(i, i + 2)) ?? 1);
    const out = await session.run({
      chars: ids([...norm].map((c) => cid.get(c) ?? 1)),
      bigrams_left: ids(bis.slice(0, -1)),
      bigrams_right: ids(bis.slice(1)),
      lengths: new ort.Tensor('int32', Int32Array.of(norm.length), [1]),
      ...extraFeeds(norm),
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
}

/**
 * Tag the parity sentences in one batch (with `others` after them) and sentence `single` alone, and
 * expect the trainer's spans, with mention texts cut from the input.
 */
export async function expectTrainerSpans(
  tagger: NeuralTagger,
  parity: readonly ParitySentence[],
  single: number,
  others: string[] = [],
): Promise<void> {
  const texts = parity.map((p) => p.text);
  const many = await tagger.tagMany([...texts, ...others]);
  parity.forEach((p, i) => {
    expect(many[i]!.map((m) => [m.start, m.end, m.type])).toEqual(p.main_spans);
    for (const m of many[i]!) expect(m.text).toBe(p.text.slice(m.start, m.end));
  });
  expect((await tagger.tag(texts[single]!)).map((m) => [m.start, m.end, m.type])).toEqual(
    parity[single]!.main_spans,
  );
}
