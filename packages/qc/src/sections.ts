import { fromZodIssues } from '@yijian/emr';
import { z } from 'zod';
import { readResource } from './catalog.js';

export const sectionFileSchema = z.strictObject({
  version: z.string(),
  documents: z.record(
    z.string(),
    z.array(z.strictObject({ name: z.string().min(1), headers: z.array(z.string().min(1)).min(1) })),
  ),
});
export type SectionFile = z.infer<typeof sectionFileSchema>;

export interface SectionSpec {
  name: string;
  headers: string[];
}

interface Compiled {
  name: string;
  re: RegExp;
}

let cached: Map<string, Compiled[]> | undefined;

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Header at a line start: optional numbering (一、 1. （一）) or 【】, then the header, then ：/: or end of line. */
function headerRegex(headers: readonly string[]): RegExp {
  const alt = headers
    .map(escapeRe)
    .sort((a, b) => b.length - a.length)
    .join('|');
  return new RegExp(
    `(?:^|\\n)[ \\t\\u3000]*(?:[（(]?[一二三四五六七八九十\\d]+[）)、.．]?[ \\t\\u3000]*)?[【\\[]?(?:${alt})[】\\]]?[ \\t\\u3000]*(?:[:：]|\\r?\\n|$)`,
  );
}

/** Required sections per document type (`resources/sections.yaml`). */
export function requiredSections(): ReadonlyMap<string, Compiled[]> {
  if (cached) return cached;
  const parsed = sectionFileSchema.safeParse(readResource('sections.yaml'));
  if (!parsed.success)
    throw fromZodIssues('CDSS_ERR_INVALID_DATA', 'Invalid resources/sections.yaml', parsed.error.issues);
  cached = new Map(
    Object.entries(parsed.data.documents).map(([doc, specs]) => [
      doc,
      specs.map((s) => ({ name: s.name, re: headerRegex(s.headers) })),
    ]),
  );
  return cached;
}

/** Names of the required sections of `documentType` that `text` lacks. */
export function missingSections(
  documentType: string,
  text: string,
  detected: ReadonlySet<string> = new Set(),
): string[] {
  const specs = requiredSections().get(documentType);
  if (!specs) return [];
  return specs.filter((s) => !detected.has(s.name) && !s.re.test(text)).map((s) => s.name);
}

/** The text of a section (up to the next line that looks like a header), or undefined. */
export function sectionText(text: string, header: string): string | undefined {
  const m = new RegExp(
    `(?:^|\\n)[ \\t\\u3000]*[【\\[]?${escapeRe(header)}[】\\]]?[ \\t\\u3000]*[:：]([^\\n]*)`,
  ).exec(text);
  return m ? m[1]!.trim() : undefined;
}
