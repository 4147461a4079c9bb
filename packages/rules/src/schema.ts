import { z } from 'zod';

/**
 * The rule schema. Rules are YAML data (resources/packs/*.yaml and per-hospital override files);
 * every object is strict, so a misspelt key is an error that names the file and the field.
 * docs/rules.md is the reference for this file.
 */

export const severitySchema = z.enum(['info', 'warning', 'critical']);
const tierMapSchema = z.strictObject({
  major: severitySchema,
  moderate: severitySchema,
  minor: severitySchema,
});

const rangeSchema = z.strictObject({
  gt: z.number().optional(),
  gte: z.number().optional(),
  lt: z.number().optional(),
  lte: z.number().optional(),
});
export type Range = z.infer<typeof rangeSchema>;

/** Which drugs a rule means: concept names (drugs or classes, resolved in the graph) and routes. */
export const drugSelectorSchema = z.strictObject({
  drugs: z.array(z.string().min(1)).optional(),
  classes: z.array(z.string().min(1)).optional(),
  /** Normalised routes: oral, iv, im, sc, topical, inhaled, rectal, other. */
  routes: z.array(z.enum(['oral', 'iv', 'im', 'sc', 'topical', 'inhaled', 'rectal', 'other'])).optional(),
  /** Skip orders whose written name matches (e.g. 缓释|控释 for immediate-release-only rules). */
  excludeName: z.string().optional(),
  /** Only when the order's daily dose in mg is above this. */
  dailyDoseMgAbove: z.number().optional(),
});
export type DrugSelector = z.infer<typeof drugSelectorSchema>;

export type Condition =
  | { all: Condition[] }
  | { any: Condition[] }
  | { not: Condition }
  | { drug: DrugSelector & { as?: string } }
  | { condition: { names: string[]; history?: boolean; as?: string } }
  | { allergy: { names: string[]; as?: string } }
  | { lab: { test: string; as?: string; withinHours?: number } & Range }
  | { labRise: { test: string; by?: number; ratio?: number; withinHours: number; as?: string } }
  | { age: Range }
  | { sex: 'male' | 'female' }
  | { pregnant: boolean }
  | { lactating: boolean }
  | { egfr: Range }
  | { weight: Range };

const bindName = z.string().regex(/^[a-z][a-zA-Z0-9]*$/);

export const conditionSchema: z.ZodType<Condition> = z.lazy(() =>
  z.union([
    z.strictObject({ all: z.array(conditionSchema).min(1) }),
    z.strictObject({ any: z.array(conditionSchema).min(1) }),
    z.strictObject({ not: conditionSchema }),
    z.strictObject({ drug: drugSelectorSchema.extend({ as: bindName.optional() }).strict() }),
    z.strictObject({
      condition: z.strictObject({
        names: z.array(z.string()).min(1),
        history: z.boolean().optional(),
        as: bindName.optional(),
      }),
    }),
    z.strictObject({
      allergy: z.strictObject({ names: z.array(z.string()).min(1), as: bindName.optional() }),
    }),
    z.strictObject({
      lab: rangeSchema
        .extend({ test: z.string(), as: bindName.optional(), withinHours: z.number().positive().optional() })
        .strict(),
    }),
    z.strictObject({
      labRise: z.strictObject({
        test: z.string(),
        /** Latest minus the lowest earlier value within the window, canonical unit. */
        by: z.number().positive().optional(),
        /** Latest divided by the lowest earlier value within the window. */
        ratio: z.number().positive().optional(),
        withinHours: z.number().positive(),
        as: bindName.optional(),
      }),
    }),
    z.strictObject({ age: rangeSchema }),
    z.strictObject({ sex: z.enum(['male', 'female']) }),
    z.strictObject({ pregnant: z.boolean() }),
    z.strictObject({ lactating: z.boolean() }),
    z.strictObject({ egfr: rangeSchema }),
    z.strictObject({ weight: rangeSchema }),
  ]),
);

const referenceSchema = z.strictObject({ label: z.string().min(1), url: z.string().url().optional() });
const suggestionSchema = z.strictObject({
  label: z.string().min(1),
  actions: z
    .array(z.strictObject({ type: z.enum(['create', 'update', 'delete']), description: z.string().min(1) }))
    .min(1),
});
const overrideReasonSchema = z.strictObject({ code: z.string().min(1), display: z.string().min(1) });

const common = {
  /** Stable id, e.g. `ddi.graph`, `lab.k-high-potassium-sparing`. */
  id: z.string().regex(/^[a-z0-9][a-z0-9.-]*[a-z0-9]$/),
  /** Semantic version; bump when the logic or thresholds change. */
  version: z.string().regex(/^\d+\.\d+\.\d+$/),
  category: z.string().regex(/^[a-z][a-z-]*$/),
  /** Default (highest) severity; kinds with tier maps may emit lower ones. */
  severity: severitySchema,
  /** Chinese title, one line. */
  title: z.string().min(1),
  /** Chinese summary template (`{{drug.conceptName}}` …), <= 140 characters once rendered. */
  summary: z.string().min(1),
  /** Chinese markdown template; evidence, path, rule id and version are appended automatically. */
  detail: z.string().min(1),
  references: z.array(referenceSchema).min(1),
  presentation: z.enum(['interruptive', 'passive']).optional(),
  overrideReasons: z.array(overrideReasonSchema).optional(),
  suggestions: z.array(suggestionSchema).optional(),
  enabled: z.boolean().default(true),
};

const interactionRule = z.strictObject({
  ...common,
  kind: z.literal('interaction'),
  severityMap: tierMapSchema.default({ major: 'critical', moderate: 'warning', minor: 'info' }),
  /**
   * Tier map for an age-conditioned graph edge (`ageMaxDays`) when the patient is older than the
   * age limit and the edge's `severityOtherwise` applies (e.g. ceftriaxone + calcium after the
   * neonatal period: a line-compatibility instruction). Tiers not listed fall back to severityMap.
   */
  severityMapAboveAge: z
    .strictObject({
      major: severitySchema.optional(),
      moderate: severitySchema.optional(),
      minor: severitySchema.optional(),
    })
    .default({}),
  /**
   * Tiers set by this pack for pairs, whatever the graph's tier: ONC low-priority pairs (Phansalkar
   * 2013) down to passive info, ONC high-priority members (Phansalkar 2012) up to critical, label
   * decisions. The first matching entry wins; the pair must still be an interaction in the graph.
   */
  pairOverrides: z
    .array(
      z.strictObject({
        a: drugSelectorSchema,
        b: drugSelectorSchema,
        severity: severitySchema,
        presentation: z.enum(['interruptive', 'passive']).optional(),
        /** Only for patients at least this old (years); unknown age: the override does not apply. */
        minAge: z.number().min(0).optional(),
        note: z.string().min(1),
      }),
    )
    .default([]),
});

const contraindicationRule = z.strictObject({
  ...common,
  kind: z.literal('contraindication'),
  severityMap: z.strictObject({ CONTRAINDICATED_IN: tierMapSchema, CAUTION_IN: tierMapSchema }).default({
    CONTRAINDICATED_IN: { major: 'critical', moderate: 'warning', minor: 'info' },
    CAUTION_IN: { major: 'warning', moderate: 'info', minor: 'info' },
  }),
  /** Also use conditions recorded as past history (既往史), one tier lower unless `historySeverity: same`. */
  history: z.boolean().default(false),
  historySeverity: z.enum(['same', 'downgrade']).default('downgrade'),
  /**
   * Class-level findings that do not apply to some members: a hit is dropped when the drug matches,
   * the graph path passes through one of `viaClasses`, and the daily dose is unknown or at most
   * `maxDailyDoseMg` (low-dose aspirin is an antiplatelet, not an analgesic NSAID).
   */
  exceptions: z
    .array(
      z.strictObject({
        drugs: drugSelectorSchema,
        viaClasses: z.array(z.string().min(1)).min(1),
        maxDailyDoseMg: z.number().positive().optional(),
        note: z.string().min(1),
      }),
    )
    .default([]),
});

const allergyRule = z.strictObject({
  ...common,
  kind: z.literal('allergy'),
  severityMap: z.strictObject({ direct: tierMapSchema, 'cross-reactive': tierMapSchema }).default({
    direct: { major: 'critical', moderate: 'critical', minor: 'warning' },
    'cross-reactive': { major: 'critical', moderate: 'warning', minor: 'info' },
  }),
});

const matchRule = z.strictObject({
  ...common,
  kind: z.literal('match'),
  when: conditionSchema,
});

const doseLimitSchema = z.strictObject({
  /** Max single dose, mg. */
  single: z.number().positive().optional(),
  /** Max daily dose, mg. */
  daily: z.number().positive().optional(),
  singlePerKg: z.number().positive().optional(),
  dailyPerKg: z.number().positive().optional(),
});

const doseEntrySchema = z.strictObject({
  drug: z.string().min(1),
  routes: z.array(z.enum(['oral', 'iv', 'im', 'sc', 'topical', 'inhaled', 'rectal', 'other'])).optional(),
  adult: doseLimitSchema.optional(),
  /** Under 18 years; per-kg limits need a weight. */
  pediatric: doseLimitSchema.optional(),
  /** 65 years and older. */
  elderly: doseLimitSchema.optional(),
  /** Renal adjustment by eGFR: the lowest matching `below` wins. */
  renal: z
    .array(
      doseLimitSchema
        .extend({
          below: z.number().positive(),
          avoid: z.boolean().optional(),
          note: z.string().min(1),
        })
        .strict(),
    )
    .optional(),
  /** Weekly drug (low-dose methotrexate): a daily frequency is an error. */
  weeklyOnly: z.boolean().optional(),
  note: z.string().optional(),
});
export type DoseEntry = z.infer<typeof doseEntrySchema>;

const doseRule = z.strictObject({
  ...common,
  kind: z.literal('dose-range'),
  /** A dose at or above this multiple of the limit is critical (10x errors). */
  criticalFactor: z.number().min(1).default(2),
  /** For drugs without an entry here, use the drug concept's doseLimits from the graph. */
  useGraphLimits: z.boolean().default(true),
  entries: z.array(doseEntrySchema).min(1),
});

const duplicateRule = z.strictObject({
  ...common,
  kind: z.literal('duplicate'),
  /** Two co-active long-term orders of the same ingredient. */
  sameIngredient: z.boolean().default(true),
  groups: z
    .array(
      z.strictObject({
        label: z.string().min(1),
        members: drugSelectorSchema,
        /** Pairs that are intended together (bridging), by drug name. */
        allow: z.array(z.tuple([z.string(), z.string()])).default([]),
      }),
    )
    .default([]),
});

const criticalValueRule = z.strictObject({
  ...common,
  kind: z.literal('critical-value'),
  thresholds: z
    .array(
      z.strictObject({
        test: z.string().min(1),
        low: z.number().optional(),
        high: z.number().optional(),
        action: z.string().min(1),
      }),
    )
    .min(1),
  /** Critical findings written in text (imaging, ECG): condition names asserted present. */
  textFindings: z
    .array(z.strictObject({ names: z.array(z.string()).min(1), action: z.string().min(1) }))
    .default([]),
});

const drugPropertyRule = z.strictObject({
  ...common,
  kind: z.literal('drug-property'),
  /**
   * A property of the drug concept in the graph (props.pregnancy.category, props.lactation.risk,
   * props.elderly.action, props.renal[].action) checked against the patient: pregnant, lactating,
   * age >= minAge, eGFR below the band. Fills gaps of the curated lists: an order that another
   * rule of the same category already alerted on is not alerted again.
   */
  property: z.enum(['pregnancy', 'lactation', 'elderly', 'renal']),
  /** Property value (X, D, avoid, reduce, caution…) -> alert tier; values not listed do not alert. */
  severityMap: z.record(z.string(), severitySchema),
  minAge: z.number().default(65),
});

const scriptRule = z.strictObject({
  ...common,
  kind: z.literal('script'),
  /** Name of a TypeScript handler (built in: caprini, padua, morse, braden, qsofa, news2, curb65). */
  handler: z.string().min(1),
  params: z.record(z.string(), z.unknown()).default({}),
});

export const ruleSchema = z.discriminatedUnion('kind', [
  interactionRule,
  contraindicationRule,
  allergyRule,
  matchRule,
  doseRule,
  duplicateRule,
  criticalValueRule,
  drugPropertyRule,
  scriptRule,
]);
export type RuleDefinition = z.infer<typeof ruleSchema>;
export type RuleDefinitionInput = z.input<typeof ruleSchema>;
export type InteractionRule = z.infer<typeof interactionRule>;
export type ContraindicationRule = z.infer<typeof contraindicationRule>;
export type AllergyRule = z.infer<typeof allergyRule>;
export type MatchRule = z.infer<typeof matchRule>;
export type DoseRule = z.infer<typeof doseRule>;
export type DuplicateRule = z.infer<typeof duplicateRule>;
export type CriticalValueRule = z.infer<typeof criticalValueRule>;
export type ScriptRuleDefinition = z.infer<typeof scriptRule>;
export type DrugPropertyRule = z.infer<typeof drugPropertyRule>;

export const packSchema = z.strictObject({
  pack: z.string().regex(/^[a-z][a-z0-9-]*$/),
  version: z.string().regex(/^\d+\.\d+\.\d+$/),
  description: z.string().min(1),
  rules: z.array(ruleSchema).min(1),
});
export type RulePack = z.infer<typeof packSchema>;
export type RulePackInput = z.input<typeof packSchema>;

/** Per-hospital changes, as data: disable rules, change severity or presentation, add local rules. */
export const overridesSchema = z.strictObject({
  hospital: z.string().optional(),
  version: z.string().optional(),
  disable: z.array(z.string()).default([]),
  severity: z.record(z.string(), severitySchema).default({}),
  presentation: z.record(z.string(), z.enum(['interruptive', 'passive'])).default({}),
  /** Drop every alert below this tier (e.g. hide info cards). */
  minSeverity: severitySchema.optional(),
  /** Local rules; a rule with the id of a pack rule replaces it. */
  rules: z.array(ruleSchema).default([]),
});
export type RuleOverrides = z.infer<typeof overridesSchema>;
export type RuleOverridesInput = z.input<typeof overridesSchema>;
