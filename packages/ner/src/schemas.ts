import { z } from 'zod';
import { ASSERTION_STATUSES, MENTION_TYPES } from './types.js';

const version = z.string().regex(/^\d+\.\d+\.\d+$/, 'version must look like 1.2.3');
const nonEmpty = z.string().min(1);
const mentionType = z.enum(MENTION_TYPES);
/** Statuses a cue or a section can set (everything but `present`). */
const cueStatus = z.enum(ASSERTION_STATUSES).exclude(['present']);

export const normalizationFileSchema = z
  .strictObject({
    version,
    description: z.string().optional(),
    traditional: z.string(),
    spaces: z.string(),
    dashes: z.string(),
    extra: z.string(),
  })
  .superRefine((v, ctx) => {
    for (const key of ['traditional', 'extra'] as const) {
      if (v[key].length % 2 !== 0)
        ctx.addIssue({ code: 'custom', path: [key], message: 'must hold pairs of characters' });
    }
  });
export type NormalizationFile = z.infer<typeof normalizationFileSchema>;

export const sectionDefinitionSchema = z.strictObject({
  /** Canonical name, e.g. 既往史. */
  name: nonEmpty,
  /** Header spellings hospitals use (the canonical name is always included). */
  variants: z.array(nonEmpty).default([]),
  /** Assertion for mentions in this section when no cue applies (家族史 -> family). */
  default: z
    .strictObject({
      status: cueStatus,
      /** Mention types the default applies to (all when absent). */
      types: z.array(mentionType).min(1).optional(),
    })
    .optional(),
});
export type SectionDefinition = z.input<typeof sectionDefinitionSchema>;
export type SectionDefinitionParsed = z.output<typeof sectionDefinitionSchema>;

export const sectionsFileSchema = z.strictObject({
  version,
  description: z.string().optional(),
  sections: z.array(sectionDefinitionSchema).min(1),
});
export type SectionsFile = z.input<typeof sectionsFileSchema>;

export const CONTEXT_DIRECTIONS = ['forward', 'backward', 'bidirectional', 'terminate', 'pseudo'] as const;
export type ContextDirection = (typeof CONTEXT_DIRECTIONS)[number];

export const contextRuleSchema = z
  .strictObject({
    /** Stable id, reported as the trigger's `rule`. */
    id: z.string().regex(/^[a-z0-9][a-z0-9._-]*$/, 'ids are lower-case ascii: neg.denial'),
    /** Cue spellings (matched after folding: full width, case, traditional characters). */
    literals: z.array(nonEmpty).min(1),
    direction: z.enum(CONTEXT_DIRECTIONS),
    /** The status this cue sets; required for forward/backward/bidirectional, absent otherwise. */
    status: cueStatus.optional(),
    /** How far the scope reaches: to the end of the clause (，) or of the sentence (。). */
    scope: z.enum(['clause', 'sentence']).default('clause'),
    /** Longest scope in characters on each side. */
    maxScope: z.number().int().positive().max(500).default(40),
    /** Whether the scope crosses list separators (、 和 及), so 否认高血压、糖尿病 negates both. */
    distributes: z.boolean().default(true),
    /** Mention types the cue applies to (all when absent). */
    types: z.array(mentionType).min(1).optional(),
    /**
     * A dominant cue's status beats the priority order and its scope is only ended by boundaries
     * and terminate cues: 若血小板下降，停用肝素 is hypothetical, not negated.
     */
    dominant: z.boolean().default(false),
    /** Forward scope also crosses a comma directly followed by a mention (否认高血压，糖尿病，冠心病病史). */
    listCommas: z.boolean().default(false),
    /** For terminate cues: the statuses whose scope they end (all when absent). */
    terminates: z.array(cueStatus).min(1).optional(),
  })
  .superRefine((r, ctx) => {
    const modifies =
      r.direction === 'forward' || r.direction === 'backward' || r.direction === 'bidirectional';
    if (modifies && !r.status)
      ctx.addIssue({ code: 'custom', path: ['status'], message: `${r.direction} cues need a status` });
    if (!modifies && r.status)
      ctx.addIssue({ code: 'custom', path: ['status'], message: `${r.direction} cues take no status` });
    if (r.terminates && r.direction !== 'terminate')
      ctx.addIssue({ code: 'custom', path: ['terminates'], message: 'only terminate cues take terminates' });
  });
export type ContextRule = z.input<typeof contextRuleSchema>;
export type ContextRuleParsed = z.output<typeof contextRuleSchema>;

export const contextRulesFileSchema = z.strictObject({
  version,
  description: z.string().optional(),
  /** Which status wins when several cues cover a mention, strongest first. */
  priority: z.array(cueStatus).length(5),
  /** Characters that end a clause (and every clause-scoped cue). */
  clauseBoundaries: nonEmpty,
  /** Characters that end a sentence (and every cue). */
  sentenceBoundaries: nonEmpty,
  /** Characters that separate list items; cues with distributes=false stop there. */
  listSeparators: nonEmpty,
  rules: z.array(contextRuleSchema).min(1),
});
export type ContextRulesFile = z.input<typeof contextRulesFileSchema>;
export type ContextRulesFileParsed = z.output<typeof contextRulesFileSchema>;

const codeWithLiterals = z.strictObject({ code: nonEmpty, literals: z.array(nonEmpty).min(1) });

export const attributesFileSchema = z.strictObject({
  version,
  description: z.string().optional(),
  /** Routes of administration: canonical code and the spellings (口服, po, p.o.). */
  routes: z.array(codeWithLiterals).min(1),
  /** Frequencies: canonical code (qd, bid, q8h, prn …) and the spellings. */
  frequencies: z.array(codeWithLiterals).min(1),
  /** Units: canonical spelling and the spellings it folds from (毫克 -> mg). */
  units: z
    .array(
      z.strictObject({ unit: nonEmpty, literals: z.array(nonEmpty).min(1), dose: z.boolean().default(true) }),
    )
    .min(1),
});
export type AttributesFile = z.input<typeof attributesFileSchema>;
export type AttributesFileParsed = z.output<typeof attributesFileSchema>;

export const lexiconEntrySchema = z.strictObject({
  term: nonEmpty,
  type: mentionType,
  conceptId: nonEmpty.optional(),
});
