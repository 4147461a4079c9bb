import { readFileSync } from 'node:fs';
import { CdssError, fromZodIssues } from '@yijian/emr';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';

/** Directory of the packaged data files (works from `src/` in tests and from `dist/`). */
export const RESOURCES_DIR = new URL('../resources/', import.meta.url);

/** Read a YAML data file and validate it; errors name the file and every bad field. */
export function readYamlFile<T>(file: string | URL, schema: z.ZodType<T>): T {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new CdssError('CDSS_ERR_IO', `Cannot read ${String(file)}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  return parseYamlText(text, schema, String(file));
}

export function parseYamlText<T>(text: string, schema: z.ZodType<T>, what: string): T {
  let data: unknown;
  try {
    data = parseYaml(text);
  } catch (error) {
    throw new CdssError('CDSS_ERR_INVALID_DATA', `${what}: not valid YAML: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const result = schema.safeParse(data);
  if (!result.success)
    throw fromZodIssues('CDSS_ERR_INVALID_DATA', `Invalid data file ${what}`, result.error.issues);
  return result.data;
}
