import { z } from 'zod';
import { CONCEPT_KINDS, RELATION_TYPES } from './types.js';

/**
 * zod schemas of the graph file format (JSONL, one object per line). `props` are checked per node
 * kind and per relation type where the engine relies on their shape; other kinds keep free props.
 */
export const severitySchema = z.enum(['major', 'moderate', 'minor']);
export const codeSchema = z.strictObject({ system: z.string().min(1), code: z.string().min(1) });

export const ROUTES = [
  'po',
  'iv',
  'im',
  'sc',
  'id',
  'inh',
  'neb',
  'topical',
  'ophthalmic',
  'otic',
  'nasal',
  'rectal',
  'vaginal',
  'sl',
  'transdermal',
  'intrathecal',
  'intravesical',
  'intraarticular',
] as const;
export const routeSchema = z.enum(ROUTES);
export type Route = z.infer<typeof routeSchema>;

export const DOSE_UNITS = ['mg', 'g', 'μg', 'IU', '万U', 'U', 'mL', 'mmol', 'mEq', '揿', '滴', '贴'] as const;

export const doseLimitSchema = z.strictObject({
  route: routeSchema,
  unit: z.enum(DOSE_UNITS),
  maxSingle: z.number().positive().optional(),
  maxDaily: z.number().positive().optional(),
  note: z.string().optional(),
});
export type DoseLimit = z.infer<typeof doseLimitSchema>;

export const pediatricDoseLimitSchema = z.strictObject({
  route: routeSchema,
  /** mg (or unit) per kg. */
  unit: z.enum(['mg/kg', 'μg/kg', 'IU/kg', 'U/kg', 'mL/kg', '万U/kg', 'mmol/kg']),
  maxSinglePerKg: z.number().positive().optional(),
  maxDailyPerKg: z.number().positive().optional(),
  note: z.string().optional(),
});
export type PediatricDoseLimit = z.infer<typeof pediatricDoseLimitSchema>;

export const cautionActionSchema = z.enum(['caution', 'reduce', 'avoid']);
export const renalBandSchema = z.strictObject({
  /** The band applies when eGFR (mL/min/1.73m²) or CrCl is below this value. */
  egfrBelow: z.number().positive(),
  action: cautionActionSchema,
  note: z.string(),
});
export type RenalBand = z.infer<typeof renalBandSchema>;

export const drugPropsSchema = z.strictObject({
  inn: z.string().optional(),
  brands: z.array(z.string()).optional(),
  abbreviations: z.array(z.string()).optional(),
  /** Ambiguous short forms (VT is also tidal volume): kept for linking, left out of lexicon(). */
  ambiguous: z.array(z.string()).optional(),
  routes: z.array(routeSchema).optional(),
  doseLimits: z.array(doseLimitSchema).optional(),
  pediatricDoseLimits: z.array(pediatricDoseLimitSchema).optional(),
  pregnancy: z
    .strictObject({ category: z.enum(['A', 'B', 'C', 'D', 'X']), note: z.string().optional() })
    .optional(),
  lactation: z
    .strictObject({ risk: z.enum(['compatible', 'caution', 'avoid']), note: z.string().optional() })
    .optional(),
  renal: z.array(renalBandSchema).optional(),
  hepatic: z.strictObject({ action: cautionActionSchema, note: z.string() }).optional(),
  elderly: z.strictObject({ action: cautionActionSchema, note: z.string() }).optional(),
  /** 高警示药品 (ISMP / 中国药学会 list). */
  highAlert: z.boolean().optional(),
  /** 抗菌药物分级管理: 非限制使用级, 限制使用级, 特殊使用级. */
  antibioticTier: z.enum(['非限制使用级', '限制使用级', '特殊使用级']).optional(),
  /** Combination product: ids of the component drugs. */
  components: z.array(z.string()).optional(),
  /**
   * Classes the drug joins only above a daily dose (aspirin: an analgesic/anti-inflammatory NSAID
   * above 325 mg/d, an antiplatelet below). Not BELONGS_TO edges, so class rules do not reach the
   * drug unless the caller adds the class for an order above `minDailyDose`.
   */
  doseDependentClasses: z
    .array(
      z.strictObject({
        class: z.string().min(1),
        minDailyDose: z.number().positive(),
        unit: z.enum(DOSE_UNITS),
        note: z.string().optional(),
      }),
    )
    .optional(),
});
export type DrugProps = z.infer<typeof drugPropsSchema>;

export const drugClassPropsSchema = z.strictObject({
  inn: z.string().optional(),
  abbreviations: z.array(z.string()).optional(),
  /** Ambiguous short forms (VT is also tidal volume): kept for linking, left out of lexicon(). */
  ambiguous: z.array(z.string()).optional(),
  /** The class is an allergy group: an allergy to one member means allergy to all. */
  allergyGroup: z.boolean().optional(),
  note: z.string().optional(),
});

export const labTestPropsSchema = z.strictObject({
  abbreviations: z.array(z.string()).optional(),
  /** Ambiguous short forms (VT is also tidal volume): kept for linking, left out of lexicon(). */
  ambiguous: z.array(z.string()).optional(),
  unit: z.string(),
  specimen: z.string().optional(),
  refLow: z.number().optional(),
  refHigh: z.number().optional(),
  /** Sex-specific reference ranges where they differ. */
  refMale: z.tuple([z.number(), z.number()]).optional(),
  refFemale: z.tuple([z.number(), z.number()]).optional(),
  /** 危急值 limits: a result below critLow or above critHigh is critical. */
  critLow: z.number().optional(),
  critHigh: z.number().optional(),
  loinc: z.string().optional(),
  note: z.string().optional(),
});
export type LabTestProps = z.infer<typeof labTestPropsSchema>;

export const interactionPropsSchema = z.strictObject({
  id: z.string().min(1),
  severity: severitySchema,
  mechanism: z.string().min(1),
  effect: z.string().min(1),
  management: z.string().min(1),
  /** Number of the pair on the ONC high-priority list (Phansalkar 2012), when it is one. */
  onc: z.number().int().optional(),
  /**
   * Age condition: `severity` holds only for patients at most this many days old (ceftriaxone +
   * calcium is major in neonates, `ageMaxDays: 28`); older patients get `severityOtherwise`.
   */
  ageMaxDays: z.number().int().positive().optional(),
  severityOtherwise: severitySchema.optional(),
});

export const contraindicationPropsSchema = z.strictObject({
  id: z.string().min(1),
  severity: severitySchema,
  reason: z.string().min(1),
});

export const crossReactsPropsSchema = z.strictObject({
  id: z.string().min(1).optional(),
  severity: severitySchema,
  reason: z.string().min(1),
});

const freeProps = z.record(z.string(), z.unknown());

export const NODE_PROPS_SCHEMAS: Partial<Record<(typeof CONCEPT_KINDS)[number], z.ZodType>> = {
  Drug: drugPropsSchema,
  DrugClass: drugClassPropsSchema,
  LabTest: labTestPropsSchema,
};

export const EDGE_PROPS_SCHEMAS: Partial<Record<(typeof RELATION_TYPES)[number], z.ZodType>> = {
  INTERACTS_WITH: interactionPropsSchema,
  CONTRAINDICATED_IN: contraindicationPropsSchema,
  CAUTION_IN: contraindicationPropsSchema,
  CROSS_REACTS: crossReactsPropsSchema,
};

export const nodeLineSchema = z.strictObject({
  id: z.string().min(1),
  kind: z.enum(CONCEPT_KINDS),
  name: z.string().min(1),
  synonyms: z.array(z.string().min(1)).optional(),
  codes: z.array(codeSchema).optional(),
  props: freeProps.optional(),
  source: z.string().min(1),
});
export type NodeLine = z.infer<typeof nodeLineSchema>;

export const edgeLineSchema = z.strictObject({
  type: z.enum(RELATION_TYPES),
  from: z.string().min(1),
  to: z.string().min(1),
  props: freeProps.optional(),
  source: z.string().min(1),
});
export type EdgeLine = z.infer<typeof edgeLineSchema>;
