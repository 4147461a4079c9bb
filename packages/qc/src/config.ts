import { fromZodIssues } from '@yijian/emr';
import { z } from 'zod';

/**
 * QC configuration: one schema, defaults here, validated when an evaluator is created. Thresholds marked
 * "local" are hospital rules layered on 病历书写基本规范; each can be changed per hospital.
 */
export const qcConfigSchema = z.strictObject({
  /** Rule ids to switch off. */
  disabledRules: z.array(z.string()).default([]),
  /** Rules shipped switched off (local rules such as cp.doc.critical-notice) to switch on. */
  enabledRules: z.array(z.string()).default([]),
  /** Per-rule overrides of severity, deduction and veto. */
  overrides: z
    .record(
      z.string(),
      z.strictObject({
        severity: z.enum(['info', 'warning', 'critical']).optional(),
        deduction: z.number().min(0).max(100).optional(),
        veto: z.boolean().optional(),
      }),
    )
    .default({}),
  scoring: z
    .strictObject({
      /** Score a record starts from. */
      base: z.number().positive().default(100),
      /** Lowest score of 甲 (inclusive). */
      gradeA: z.number().default(90),
      /** Lowest score of 乙 (inclusive); below is 丙. */
      gradeB: z.number().default(75),
      /** Cap on points one rule can take off a record, so one repeated defect does not swamp the score. */
      maxPerRule: z.number().positive().default(10),
    })
    .prefault({}),
  frontPage: z
    .strictObject({
      /** Many provinces require 总费用 = sum of the sub-items; the interface requires ≥. */
      feeTotalMustEqual: z.boolean().default(false),
      /** Cent tolerance when comparing fee sums. */
      feeTolerance: z.number().nonnegative().default(0.01),
      /** Age band in which pregnancy codes are plausible. */
      pregnancyAge: z.tuple([z.number(), z.number()]).default([10, 55]),
    })
    .prefault({}),
  timeliness: z
    .strictObject({
      admissionRecordHours: z.number().positive().default(24),
      firstCourseHours: z.number().positive().default(8),
      seniorRoundHours: z.number().positive().default(48),
      operationRecordHours: z.number().positive().default(24),
      /** 术后首次病程记录: "immediately" in the basic norm; hours allowed here (local). */
      postOpNoteHours: z.number().positive().default(2),
      rescueRecordHours: z.number().positive().default(6),
      consultationHours: z.number().positive().default(48),
      dischargeRecordHours: z.number().positive().default(24),
      deathRecordHours: z.number().positive().default(24),
      deathDiscussionDays: z.number().positive().default(7),
      /** Longest gap between progress notes, in days, by condition (病危 1, 病重 2, 一般 3). */
      progressNoteDays: z
        .strictObject({
          病危: z.number().default(1),
          病重: z.number().default(2),
          一般: z.number().default(3),
        })
        .prefault({}),
    })
    .prefault({}),
  consistency: z
    .strictObject({
      /** Similarity (0–1) above which two progress-note paragraphs of different days count as copied. */
      copyPasteSimilarity: z.number().min(0).max(1).default(0.9),
      /** Paragraphs shorter than this (characters) are not compared. */
      copyPasteMinChars: z.number().int().positive().default(40),
    })
    .prefault({}),
});

export type QcConfig = z.infer<typeof qcConfigSchema>;
export type QcConfigInput = z.input<typeof qcConfigSchema>;

/** Validate a configuration; bad options are `CDSS_ERR_INVALID_CONFIG` naming each field. */
export function parseQcConfig(input: unknown = {}): QcConfig {
  const parsed = qcConfigSchema.safeParse(input ?? {});
  if (!parsed.success)
    throw fromZodIssues('CDSS_ERR_INVALID_CONFIG', 'Invalid QC config', parsed.error.issues);
  return parsed.data;
}

export const DEFAULT_QC_CONFIG: QcConfig = parseQcConfig({});
