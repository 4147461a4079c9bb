#!/usr/bin/env node
/**
 * Word-boundary features for train.py --word-features jieba: segments texts with @node-rs/jieba
 * (through packages/ner's WordFeaturizer, the code the TypeScript tagger runs at inference) and
 * stores, per text, one B/M/E/S letter per UTF-16 code unit in a cache file keyed by text hash.
 *
 *   node models/ner/train/segment.mjs --texts <texts.json> --cache <cache.json> [--no-hmm]
 *
 * <texts.json>: a JSON array of NORMALISED chunk texts (train.py writes the ones its cache lacks).
 * <cache.json>: { segmenter, package, version, hmm, key, words: { <key>: "BMES…" } }, where key is
 * the first 16 hex digits of sha256 over the text's UTF-16LE code units (train.py computes the same).
 * A cache of another jieba version or HMM setting is discarded. Needs `pnpm build` (reads packages/ner/dist).
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const dist = join(repo, 'packages', 'ner', 'dist', 'neural', 'word-features.js');
if (!existsSync(dist)) {
  console.error(`${dist} not found: run pnpm build first`);
  process.exit(2);
}
const { WordFeaturizer, createWordCutter, installedJiebaVersion, JIEBA_PACKAGE, loadJieba } = await import(dist);

const { values } = parseArgs({
  options: {
    texts: { type: 'string' },
    cache: { type: 'string' },
    'no-hmm': { type: 'boolean', default: false },
  },
});
if (!values.texts || !values.cache) {
  console.error('usage: segment.mjs --texts <texts.json> --cache <cache.json> [--no-hmm]');
  process.exit(2);
}

function textKey(text) {
  return createHash('sha256').update(Buffer.from(text, 'utf16le')).digest('hex').slice(0, 16);
}

const spec = { segmenter: 'jieba', package: JIEBA_PACKAGE, version: installedJiebaVersion(), hmm: !values['no-hmm'] };
let cache = { ...spec, key: 'sha256(utf-16le)[:16]', words: {} };
if (existsSync(values.cache)) {
  const old = JSON.parse(readFileSync(values.cache, 'utf8'));
  if (old.version === spec.version && old.hmm === spec.hmm && old.package === spec.package) cache = old;
  else console.error(`[segment] discarding ${values.cache} (jieba ${old.version}, hmm ${old.hmm})`);
}
const t0 = performance.now();
const cut = createWordCutter(spec);
const loadMs = loadJieba().loadMs;
const featurizer = new WordFeaturizer(cut);
const texts = JSON.parse(readFileSync(values.texts, 'utf8'));
let added = 0;
let chars = 0;
const t1 = performance.now();
for (const text of texts) {
  const key = textKey(text);
  if (cache.words[key] !== undefined) continue;
  const letters = featurizer.letters(text);
  if (letters.length !== text.length) throw new Error(`segmentation length mismatch for key ${key}`);
  cache.words[key] = letters;
  added++;
  chars += text.length;
}
const segMs = performance.now() - t1;
const tmp = `${values.cache}.tmp`;
writeFileSync(tmp, JSON.stringify(cache));
renameSync(tmp, values.cache);
console.error(
  `[segment] jieba ${spec.version} hmm=${spec.hmm}: ${added} new texts (${chars} chars) in ${segMs.toFixed(0)} ms` +
    ` (${chars && segMs ? Math.round((chars / segMs) * 1000).toLocaleString('en') : '-'} chars/s; dictionary load ${loadMs.toFixed(0)} ms,` +
    ` total ${(performance.now() - t0).toFixed(0)} ms); cache holds ${Object.keys(cache.words).length}`,
);
