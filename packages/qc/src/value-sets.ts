import { fromZodIssues } from '@yijian/emr';
import { z } from 'zod';
import { readResource } from './catalog.js';

export const valueSetFileSchema = z.strictObject({
  version: z.string(),
  valueSets: z.record(
    z.string(),
    z.strictObject({ label: z.string(), values: z.record(z.string(), z.string()) }),
  ),
  fields: z.record(z.string(), z.string()),
});
export type ValueSetFile = z.infer<typeof valueSetFileSchema>;

let cached: ValueSetFile | undefined;

/** The value sets of coded front-page fields (`resources/value-sets.yaml`). */
export function valueSets(): ValueSetFile {
  if (cached) return cached;
  const parsed = valueSetFileSchema.safeParse(readResource('value-sets.yaml'));
  if (!parsed.success)
    throw fromZodIssues('CDSS_ERR_INVALID_DATA', 'Invalid resources/value-sets.yaml', parsed.error.issues);
  for (const [field, set] of Object.entries(parsed.data.fields)) {
    if (!parsed.data.valueSets[set]) {
      throw fromZodIssues('CDSS_ERR_INVALID_DATA', 'Invalid resources/value-sets.yaml', [
        { path: ['fields', field], message: `unknown value set ${set}` },
      ]);
    }
  }
  cached = parsed.data;
  return cached;
}
