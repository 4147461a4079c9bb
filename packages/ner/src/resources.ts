import { readFileSync } from 'node:fs';
import { CdssError, fromZodIssues } from '@yijian/emr';
import type { z } from 'zod';

/** Folder holding the shipped Chinese resources (works from src/ in tests and dist/ when built). */
export const RESOURCE_DIR = new URL('../resources/zh/', import.meta.url);

/** Validate resource data with its schema; bad data throws CDSS_ERR_INVALID_DATA naming the fields. */
export function parseResource<S extends z.ZodType>(data: unknown, schema: S, what: string): z.output<S> {
  const result = schema.safeParse(data);
  if (!result.success)
    throw fromZodIssues('CDSS_ERR_INVALID_DATA', `数据校验失败（${what}）`, result.error.issues);
  return result.data;
}

/** Read and validate one of the shipped JSON resources by file name. */
export function readResourceJson<S extends z.ZodType>(file: string, schema: S): z.output<S> {
  return readJsonFile(new URL(file, RESOURCE_DIR), schema, `resource ${file}`);
}

/** Read and validate a JSON resource file (a user's own section headers or cue list). */
export function readJsonFile<S extends z.ZodType>(
  path: string | URL,
  schema: S,
  what = String(path),
): z.output<S> {
  let raw: string;
  try {
    raw = readFileSync(path, 'utf8');
  } catch (cause) {
    throw new CdssError('CDSS_ERR_IO', `无法读取文件（${what}）`, { cause });
  }
  let data: unknown;
  try {
    data = JSON.parse(raw);
  } catch (cause) {
    throw new CdssError('CDSS_ERR_INVALID_DATA', `文件不是有效的 JSON（${what}）`, { cause });
  }
  return parseResource(data, schema, what);
}
