import { fromZodIssues } from '@yijian/emr';
import { z } from 'zod';

/** Every option of createEngine(), with its default, in one place. */
export const engineOptionsSchema = z.strictObject({
  /** Directory of a graph in corpora/kg format; default: the shipped graph. */
  kgDir: z.string().min(1).optional(),
  /**
   * Neural NER: 'auto' uses the shipped ONNX model when it is present, 'none' uses the lexicon
   * tagger only, any other string is a model directory.
   */
  nerModel: z.string().min(1).default('auto'),
  /** Per-hospital rule overrides (see docs/rules.md), passed to the rule engine as data. */
  ruleOverrides: z.unknown().optional(),
  /** CSV `code,name` ICD-10 table for front-page code checks; default: the shipped demo table. */
  codeTablePath: z.string().min(1).optional(),
  /**
   * CSV `code,level[,name]` CHS-DRG MCC/CC list the hospital supplies: enables the front-page check
   * for CC/MCC-relevant secondary diagnoses the record proves but the front page lacks.
   */
  ccMccTablePath: z.string().min(1).optional(),
  /** Run record QC as part of analyze(). */
  qc: z.boolean().default(true),
});

export type EngineOptions = z.input<typeof engineOptionsSchema>;
export type ResolvedEngineOptions = z.output<typeof engineOptionsSchema>;

export function resolveEngineOptions(options: unknown = {}): ResolvedEngineOptions {
  const parsed = engineOptionsSchema.safeParse(options ?? {});
  if (!parsed.success)
    throw fromZodIssues('CDSS_ERR_INVALID_CONFIG', 'Invalid engine options', parsed.error.issues);
  return parsed.data;
}
