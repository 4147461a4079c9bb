import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NeuralTagger } from './onnx-tagger.js';
import { createTransformersTagger } from './transformers-tagger.js';

// A tiny BERT-shaped token classifier built by models/ner/train/make_tiny_hf_model.py (36 KB),
// with CCKS 2019 label names (B-疾病和诊断, B-药物) to exercise the label mapping.
const modelDir = fileURLToPath(new URL('./fixtures/tiny-token-classifier', import.meta.url));

let tagger: NeuralTagger;
beforeAll(async () => {
  tagger = await createTransformersTagger({ modelDir, name: 'tiny' });
});
afterAll(async () => {
  await tagger.close();
});

describe('createTransformersTagger (offline, local folder)', () => {
  it('loads the folder and maps its labels to our types', () => {
    expect(new Set(tagger.info.types)).toEqual(new Set(['disease', 'drug']));
  });

  it('tags a sentence with exact offsets, skipping whitespace', async () => {
    const text = '患者因 高血压入院，予硝苯地平治疗。';
    const mentions = await tagger.tag(text);
    expect(mentions.map(({ start, end, type, text: t }) => ({ start, end, type, text: t }))).toEqual([
      { start: 4, end: 7, type: 'disease', text: '高血压' },
      { start: 11, end: 15, type: 'drug', text: '硝苯地平' },
    ]);
    for (const m of mentions) {
      expect(m.source).toBe('model:tiny');
      expect(m.score).toBeGreaterThan(0.5);
    }
  });

  it('batches several texts and splits long ones', async () => {
    const s = '既往糖尿病病史，长期口服二甲双胍。';
    const [a, b, c] = await tagger.tagMany([s, '', s.repeat(30)]);
    expect(a!.map((m) => m.text)).toEqual(['糖尿病', '二甲双胍']);
    expect(b).toEqual([]);
    expect(c).toHaveLength(60);
    expect(c![59]!.start).toBe(29 * s.length + a![1]!.start);
  });

  it('rejects a folder that does not exist', async () => {
    await expect(createTransformersTagger({ modelDir: '/nonexistent/tiny' })).rejects.toMatchObject({
      code: 'CDSS_ERR_MODEL',
    });
  });
});
