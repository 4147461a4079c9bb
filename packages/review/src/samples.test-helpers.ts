import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { detectEvents } from '@yijian/adverse-events';
import { createEngine } from 'yijian';
import type { AnalysisInput } from './store.js';

export const SAMPLES_DIR = fileURLToPath(new URL('../../../corpora/samples', import.meta.url));

export interface AnalysedSample {
  record: unknown;
  analysis: AnalysisInput;
}

/** Every sample record of corpora/samples, analysed by the real engine (NER, CDSS, QC) plus adverse-event detection. */
export async function analyseSamples(): Promise<AnalysedSample[]> {
  const engine = await createEngine();
  try {
    const out: AnalysedSample[] = [];
    for (const name of readdirSync(SAMPLES_DIR)
      .filter((n) => /^[a-z-]+-\d+\.json$/.test(n))
      .sort()) {
      const record: unknown = JSON.parse(readFileSync(join(SAMPLES_DIR, name), 'utf8'));
      const result = await engine.analyze(record);
      out.push({ record, analysis: { ...result, adverseEvents: detectEvents({ record }) } });
    }
    return out;
  } finally {
    await engine.close();
  }
}
