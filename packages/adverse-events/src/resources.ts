import { readFileSync } from 'node:fs';
import { CdssError, fromZodIssues } from '@yijian/emr';
import { contextRuleSchema } from '@yijian/ner';
import { z } from 'zod';
import { EVENT_CATEGORIES, GRADES, MEDICATION_ERROR_TYPES } from './types.js';

/** Directory of the packaged data files (works from `src/` in tests and from `dist/`). */
export const RESOURCES_DIR = new URL('../resources/zh/', import.meta.url);

const term = z.string().trim().min(1);
const terms = z.array(term);

export const eventRuleSchema = z.strictObject({
  id: z.string().regex(/^ae\.[a-z0-9.-]+$/),
  version: z.number().int().positive(),
  category: z.enum(EVENT_CATEGORIES),
  defaultGrade: z.enum(GRADES),
  /** Whether a suspected mention (考虑…, 疑似…) is enough, as for drug reactions and infections. */
  acceptPossible: z.boolean(),
  /** Terms that name the event by themselves. */
  triggers: terms.min(1),
  /** Terms that name it only with a tube (extubation) or an administered drug (drug reaction) in the sentence. */
  weakTriggers: terms.optional(),
  /** Summary template (zh): {subtype} {stage} {drug} {tube} {errorType} {infection}. */
  summary: z.string().min(1).max(60),
});

export const rulesFileSchema = z.strictObject({
  version: z.string(),
  description: z.string(),
  /** Sections that describe the time before admission or plans: events are not read there. */
  excludedSections: terms,
  /** Longer terms that contain a trigger but name no event (防跌倒, 跌倒风险评估…); they win the longest match. */
  blockers: terms,
  /** Cues that place what the sentence tells before admission or outside the hospital. */
  outOfHospital: terms,
  /** Longer cues that keep it inside the hospital (入院后 over 入院). */
  inHospital: terms,
  /** Extra ConText cues handed to the @yijian/ner context engine (hypothetical prevention talk…). */
  contextRules: z.array(contextRuleSchema),
  rules: z.array(eventRuleSchema).min(1),
  /** Regular expressions that name an event without a fixed term (为12床患者输注了14床的…). */
  patternTriggers: z.array(
    z.strictObject({
      id: z.string().regex(/^ae\.pattern\.[a-z0-9.-]+$/),
      /** The event rule the match triggers. */
      rule: z.string(),
      pattern: z.string().refine((p) => {
        try {
          new RegExp(p, 'g');
          return true;
        } catch {
          return false;
        }
      }, 'not a valid regular expression'),
      errorType: z.enum(MEDICATION_ERROR_TYPES).optional(),
    }),
  ),
  transfusion: z.strictObject({
    id: z.string(),
    version: z.number().int().positive(),
    anchors: terms.min(1),
    reactions: terms.min(1),
    linkers: terms.min(1),
  }),
  drugReaction: z.strictObject({
    id: z.string(),
    version: z.number().int().positive(),
    reactions: terms.min(1),
    linkers: terms.min(1),
    administration: terms.min(1),
  }),
  grading: z.strictObject({ I: terms, II: terms, III: terms, IV: terms }),
  gradeCueNotes: z.string().optional(),
});
export type RulesFile = z.infer<typeof rulesFileSchema>;
export type EventRule = z.infer<typeof eventRuleSchema>;

export const vocabularyFileSchema = z.strictObject({
  version: z.string(),
  description: z.string(),
  drugs: terms.min(1),
  tubes: terms.min(1),
  /** Infection type -> terms naming it. */
  infections: z.record(z.string(), terms.min(1)),
  medicationErrorTypes: z.partialRecord(z.enum(MEDICATION_ERROR_TYPES), terms),
  /** Words in the sentence that reveal the kind of a generic medication error. */
  medicationErrorHints: z.partialRecord(z.enum(MEDICATION_ERROR_TYPES), terms),
});
export type VocabularyFile = z.infer<typeof vocabularyFileSchema>;

export interface DetectionResources {
  rules: RulesFile;
  vocabulary: VocabularyFile;
}

/** Validate data; errors name the file and every bad field. */
export function parseResource<T>(data: unknown, schema: z.ZodType<T>, what: string): T {
  const r = schema.safeParse(data);
  if (!r.success) throw fromZodIssues('CDSS_ERR_INVALID_DATA', `Invalid data file ${what}`, r.error.issues);
  return r.data;
}

function readJson(name: string): unknown {
  const url = new URL(name, RESOURCES_DIR);
  let text: string;
  try {
    text = readFileSync(url, 'utf8');
  } catch (error) {
    throw new CdssError('CDSS_ERR_IO', `Cannot read ${url.pathname}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new CdssError('CDSS_ERR_INVALID_DATA', `${name}: not valid JSON: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

let cached: DetectionResources | undefined;

/** The shipped rules and vocabulary (resources/zh), validated once. */
export function loadDefaultResources(): DetectionResources {
  cached ??= {
    rules: parseResource(readJson('adverse-events.json'), rulesFileSchema, 'adverse-events.json'),
    vocabulary: parseResource(readJson('vocabulary.json'), vocabularyFileSchema, 'vocabulary.json'),
  };
  return cached;
}
