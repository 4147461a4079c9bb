// prepack: copy the default model (models/ner/<DEFAULT_MODEL_VERSION>) into the package as model/<version>,
// so an installed @yijian/ner finds it without the repository (defaultModelDir() looks there first).
import { cpSync, existsSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const pkg = fileURLToPath(new URL('..', import.meta.url));
const { DEFAULT_MODEL_VERSION } = await import(
  new URL('../dist/neural/onnx-tagger.js', import.meta.url).href
);
const from = fileURLToPath(new URL(`../../../models/ner/${DEFAULT_MODEL_VERSION}/`, import.meta.url));
const to = `${pkg}model/${DEFAULT_MODEL_VERSION}/`;
if (process.argv.includes('--clean')) {
  rmSync(`${pkg}model`, { recursive: true, force: true });
} else {
  if (!existsSync(`${from}model.onnx`))
    throw new Error(`no model at ${from}: build it or check out the repository`);
  rmSync(`${pkg}model`, { recursive: true, force: true });
  cpSync(from, to, { recursive: true });
  console.log(`packed NER model ${DEFAULT_MODEL_VERSION} into ${to}`);
}
