import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CdssError, fromZodIssues } from '@yijian/emr';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

/**
 * The QC rule catalogue: every rule's id, version, clause, category, severity, deduction and Chinese
 * message templates are data (`resources/rules/*.yaml`, schema below, unknown keys rejected). The logic
 * of a check is TypeScript that emits hits by rule id; a hit becomes a finding through this catalogue.
 */

export const ruleSpecSchema = z.strictObject({
  id: z.string().regex(/^(fp|tl|cp|cs)\.[a-z0-9][a-z0-9.-]*$/, 'rule ids look like fp.id-number.checksum'),
  version: z.string().regex(/^\d+\.\d+\.\d+$/),
  category: z.enum(['front-page', 'timeliness', 'completeness', 'consistency']),
  severity: z.enum(['info', 'warning', 'critical']),
  /** Points deducted per finding (0–100 scale). */
  deduction: z.number().min(0).max(100),
  /** 单项否决: the record grades 丙 while such a finding stands. */
  veto: z.boolean().default(false),
  /** Local rules ship switched off; a hospital opts in with QcConfig.enabledRules. */
  enabled: z.boolean().default(true),
  /** The clause the rule implements, quoted or paraphrased, with its section in qc-standards.md. */
  clause: z.string().min(1),
  /** Key into the file's `sources`. */
  source: z.string().min(1),
  /** Short Chinese name of the rule. */
  title: z.string().min(1),
  /** Chinese summary template; `{name}` is replaced by the hit's parameter. */
  summary: z.string().min(1).max(140),
  /** Chinese fix suggestion template. */
  suggestion: z.string().min(1),
});
export type RuleSpec = z.infer<typeof ruleSpecSchema>;

export const ruleFileSchema = z.strictObject({
  version: z.string(),
  sources: z.record(z.string(), z.strictObject({ label: z.string().min(1), url: z.string().optional() })),
  rules: z.array(ruleSpecSchema).min(1),
});
export type RuleFile = z.infer<typeof ruleFileSchema>;

export interface ResolvedRule extends RuleSpec {
  sourceRef: { label: string; url?: string };
}

const RESOURCES = fileURLToPath(new URL('../resources/', import.meta.url));

/** Validate one rule file's parsed content; errors name the file and the bad path. */
export function parseRuleFile(content: unknown, file: string): ResolvedRule[] {
  const parsed = ruleFileSchema.safeParse(content);
  if (!parsed.success)
    throw fromZodIssues('CDSS_ERR_INVALID_DATA', `Invalid QC rule file ${file}`, parsed.error.issues);
  const out: ResolvedRule[] = [];
  parsed.data.rules.forEach((rule, i) => {
    const src = parsed.data.sources[rule.source];
    if (!src) {
      throw new CdssError(
        'CDSS_ERR_INVALID_DATA',
        `Invalid QC rule file ${file}: rules[${i}] (${rule.id}) names unknown source ${rule.source}`,
        {
          issues: [{ path: ['rules', i, 'source'], message: `unknown source ${rule.source}` }],
        },
      );
    }
    out.push({ ...rule, sourceRef: src });
  });
  return out;
}

let cached: Map<string, ResolvedRule> | undefined;

/** Every shipped rule by id (loaded and validated once). */
export function ruleCatalog(): ReadonlyMap<string, ResolvedRule> {
  if (cached) return cached;
  const dir = `${RESOURCES}rules/`;
  const map = new Map<string, ResolvedRule>();
  for (const name of readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()) {
    const file = `${dir}${name}`;
    let content: unknown;
    try {
      content = parseYaml(readFileSync(file, 'utf8'));
    } catch (error) {
      throw new CdssError(
        'CDSS_ERR_INVALID_DATA',
        `Invalid QC rule file ${file}: ${(error as Error).message}`,
        { cause: error },
      );
    }
    for (const rule of parseRuleFile(content, file)) {
      if (map.has(rule.id)) {
        throw new CdssError('CDSS_ERR_INVALID_DATA', `Duplicate QC rule id ${rule.id} in ${file}`, {
          issues: [{ path: [file], message: `duplicate id ${rule.id}` }],
        });
      }
      map.set(rule.id, rule);
    }
  }
  cached = map;
  return map;
}

/** Read a data file under `resources/` (YAML). */
export function readResource(relative: string): unknown {
  const file = `${RESOURCES}${relative}`;
  try {
    return parseYaml(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new CdssError(
      'CDSS_ERR_INVALID_DATA',
      `Cannot read QC resource ${file}: ${(error as Error).message}`,
      { cause: error },
    );
  }
}

export const RESOURCES_DIR = RESOURCES;
