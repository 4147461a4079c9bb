import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** One planted problem of a sample record (corpora/samples/<id>.expected.json). */
export interface PlantedProblem {
  id: string;
  kind: string;
  drugs?: string[];
  drug?: string;
  allergen?: string;
  condition?: string;
  item?: string;
  documentType?: string;
  field?: string;
  check?: string;
  category?: string;
  severity?: string;
  evidence?: string[];
}

export interface SampleRecord {
  id: string;
  record: unknown;
  clean: boolean;
  problems: PlantedProblem[];
}

/** The workspace's sample records with their expectations (empty when the folder is absent). */
export function loadSamples(
  dir = fileURLToPath(new URL('../../../corpora/samples/', import.meta.url)),
): SampleRecord[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.expected.json'))
    .sort()
    .map((f) => {
      const expected = JSON.parse(readFileSync(`${dir}/${f}`, 'utf8')) as {
        recordId: string;
        clean: boolean;
        problems: PlantedProblem[];
      };
      return {
        id: expected.recordId,
        record: JSON.parse(readFileSync(`${dir}/${f.replace('.expected.json', '.json')}`, 'utf8')),
        clean: expected.clean,
        problems: expected.problems,
      };
    });
}
