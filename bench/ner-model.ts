/**
 * Benchmark of the neural NER path (normalise -> chunk -> ONNX BiLSTM -> Viterbi -> mentions) on one
 * core, plus the strict scores on the CCKS 2019 dev split when ../shared is present.
 *
 *   pnpm bench:ner [-- --model models/ner/1.0.0 --repeat 5 --batch 64]
 *
 * Prints: model load time, chars/s on one core (median of the repeats; onnxruntime intra-op threads
 * = 1 and the JS decoding on the same thread, so wall time = one core), chars per CPU-second, RSS, and
 * the dev-split P/R/F1 per type; for a model with jieba word features also the segmenter alone
 * (dictionary load, chars/s of the word bits over the same chunks). Texts: the dev split (every 10th CCKS 2019 train record, the same
 * split the trainer holds out) or, without ../shared, a paragraph written here, repeated.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import {
  createOnnxTagger,
  defaultModelDir,
  type EvaluationScheme,
  evaluateNer,
  type GoldDocument,
  normalizeForModel,
  parseGoldJsonl,
  segmentText,
} from '../packages/ner/dist/index.js';
// Not part of the package API: the bench times the segmenter on its own.
import { createWordCutter, loadJieba, WordFeaturizer } from '../packages/ner/dist/neural/word-features.js';
import { median } from './stats.js';

const { values } = parseArgs({
  options: {
    model: { type: 'string' },
    repeat: { type: 'string', default: '5' },
    batch: { type: 'string', default: '64' },
    json: { type: 'boolean', default: false },
    /** Score another gold file instead of the dev split (all its records), e.g. cmeee/train.jsonl. */
    gold: { type: 'string' },
    scheme: { type: 'string', default: 'ccks2019' },
  },
});
// Compiled to <repo>/.tmp/ner-model.js (so the relative import of packages/ner/dist resolves).
const repoRoot = resolve(import.meta.dirname, '..');
const sharedDir = process.env.YIJIAN_SHARED_DIR ?? join(repoRoot, '..', 'shared');
const devPath = join(sharedDir, 'corpora', 'ccks2019', 'train.jsonl');

const OWN_TEXT =
  '患者3天前无明显诱因出现上腹部疼痛，呈阵发性绞痛，伴恶心、呕吐，无发热。既往有2型糖尿病病史5年，长期口服二甲双胍0.5g tid。' +
  '入院查血常规：WBC 12.5×10^9/L，中性粒细胞百分比85%；腹部CT示：胆囊结石伴胆囊炎。于2020-03-05在全麻下行腹腔镜胆囊切除术，' +
  '术后予头孢曲松抗感染、奥美拉唑护胃等治疗，复查肝功能正常。';

const modelDir = values.model ? resolve(values.model) : defaultModelDir();
const rss0 = process.memoryUsage().rss;
const t0 = performance.now();
const tagger = await createOnnxTagger({ modelDir, batchSize: Number(values.batch), intraOpThreads: 1 });
const loadMs = performance.now() - t0;

let gold: GoldDocument[] | undefined;
let texts: string[];
const scheme = values.scheme as EvaluationScheme;
if (values.gold) {
  gold = parseGoldJsonl(readFileSync(resolve(values.gold), 'utf8'));
  texts = gold.map((d) => d.text);
} else if (existsSync(devPath)) {
  gold = parseGoldJsonl(readFileSync(devPath, 'utf8')).filter((_, i) => (i + 1) % 10 === 0);
  texts = gold.map((d) => d.text);
} else {
  console.warn(`[bench:ner] ${devPath} not found: timing on a built-in paragraph, no accuracy`);
  texts = Array.from({ length: 200 }, () => OWN_TEXT);
}
const chars = texts.reduce((n, t) => n + t.length, 0);

await tagger.tagMany(texts.slice(0, 10)); // warm-up
const wall: number[] = [];
const cpu: number[] = [];
for (let r = 0; r < Number(values.repeat); r++) {
  const c0 = process.cpuUsage();
  const w0 = performance.now();
  await tagger.tagMany(texts);
  wall.push((performance.now() - w0) / 1000);
  const c = process.cpuUsage(c0);
  cpu.push((c.user + c.system) / 1e6);
}
const rss = process.memoryUsage().rss;

// The jieba word features alone (already loaded by the tagger when the model takes them).
const manifest = JSON.parse(readFileSync(join(modelDir, 'training.json'), 'utf8')) as {
  word_features?: { segmenter: 'jieba'; package: string; version: string; hmm: boolean } | null;
};
let wordFeatures: Record<string, unknown> | undefined;
if (manifest.word_features) {
  const words = new WordFeaturizer(createWordCutter(manifest.word_features));
  const chunks = texts.map((t) => ({
    norm: normalizeForModel(t),
    chunks: segmentText(t, tagger.info.maxLength),
  }));
  const times: number[] = [];
  for (let r = 0; r < Number(values.repeat); r++) {
    const w0 = performance.now();
    for (const { norm, chunks: cs } of chunks)
      for (const c of cs) words.fill(norm, c.start, c.end, new Float32Array((c.end - c.start) * words.dim));
    times.push((performance.now() - w0) / 1000);
  }
  wordFeatures = {
    segmenter: `${manifest.word_features.package}@${manifest.word_features.version} (hmm ${manifest.word_features.hmm})`,
    dictionaryLoadMs: Math.round(loadJieba().loadMs),
    charsPerSecond: Math.round(chars / median(times)),
  };
}

const result: Record<string, unknown> = {
  model: `${tagger.info.name}@${tagger.info.version}`,
  node: process.versions.node,
  texts: texts.length,
  chars,
  loadMs: Math.round(loadMs),
  charsPerSecondOneCore: Math.round(chars / median(wall)),
  charsPerCpuSecond: Math.round(chars / median(cpu)),
  rssMb: Math.round(rss / 2 ** 20),
  rssBeforeLoadMb: Math.round(rss0 / 2 ** 20),
  ...(wordFeatures ? { wordFeatures } : {}),
};
if (gold) {
  const ev = await evaluateNer(gold, (t) => tagger.tag(t), scheme, {
    predictMany: (t) => tagger.tagMany(t),
  });
  result.dev = {
    split: values.gold ? `${values.gold} (${scheme})` : 'ccks2019 train, every 10th record',
    micro: ev.micro,
    perType: ev.perType,
  };
}
await tagger.close();

if (values.json) {
  console.log(JSON.stringify(result, null, 2));
} else {
  const pct = (x: number) => (100 * x).toFixed(2);
  console.log(`model              ${result.model}`);
  console.log(`texts / chars      ${texts.length} / ${chars}`);
  console.log(`load               ${result.loadMs} ms`);
  console.log(`chars/s (1 core)   ${result.charsPerSecondOneCore}  (median of ${values.repeat})`);
  console.log(`chars/CPU-second   ${result.charsPerCpuSecond}`);
  console.log(`RSS                ${result.rssMb} MB (before load ${result.rssBeforeLoadMb} MB)`);
  if (wordFeatures)
    console.log(
      `word features      ${wordFeatures.segmenter}: dictionary load ${wordFeatures.dictionaryLoadMs} ms (part of load), ${wordFeatures.charsPerSecond} chars/s alone`,
    );
  if (gold) {
    const dev = result.dev as {
      micro: { precision: number; recall: number; f1: number };
      perType: Record<string, { precision: number; recall: number; f1: number; gold: number }>;
    };
    console.log(`\n${(result.dev as { split: string }).split}, strict`);
    console.log('type                    P       R      F1  gold');
    for (const [type, s] of Object.entries(dev.perType)) {
      console.log(
        `${type.padEnd(18)} ${pct(s.precision).padStart(6)}  ${pct(s.recall).padStart(6)}  ${pct(s.f1).padStart(6)}  ${s.gold}`,
      );
    }
    console.log(
      `${'micro'.padEnd(18)} ${pct(dev.micro.precision).padStart(6)}  ${pct(dev.micro.recall).padStart(6)}  ${pct(dev.micro.f1).padStart(6)}`,
    );
  }
}
