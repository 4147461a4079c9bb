import { z } from 'zod';
import { frontPageSchema } from './front-page.js';

/**
 * Times are local clock times as Chinese EMRs write them: `YYYY-MM-DD HH:mm[:ss]`, or ISO 8601 with
 * `T` and an optional offset. Dates are `YYYY-MM-DD`.
 */
const DATE_TIME_RE = /^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:?\d{2})?)?$/;
const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;

function isRealDate(s: string): boolean {
  const y = Number(s.slice(0, 4));
  const m = Number(s.slice(5, 7));
  const d = Number(s.slice(8, 10));
  if (m < 1 || m > 12 || d < 1) return false;
  const days = new Date(Date.UTC(y, m, 0)).getUTCDate();
  return d <= days;
}

export const dateTimeSchema = z
  .string()
  .regex(DATE_TIME_RE, 'expected a time like 2024-03-01 08:30 or 2024-03-01T08:30:00+08:00')
  .refine(isRealDate, 'not a real calendar date');
export const dateSchema = z
  .string()
  .regex(DATE_RE, 'expected a date like 2024-03-01')
  .refine(isRealDate, 'not a real calendar date');

export const SEXES = ['male', 'female', 'unknown', 'unspecified'] as const;
export const sexSchema = z.enum(SEXES);
export type Sex = z.infer<typeof sexSchema>;

/** 证件类别 (RC038). */
export const ID_DOCUMENT_TYPES = [
  '居民身份证',
  '居民户口簿',
  '护照',
  '军官证',
  '驾驶证',
  '港澳居民来往内地通行证',
  '台湾居民来往大陆通行证',
  '港澳台居民居住证',
  '外国人永久居留身份证',
  '其他法定有效证件',
  '无',
] as const;

export const patientSchema = z.strictObject({
  id: z.string().min(1),
  name: z.string().optional(),
  sex: sexSchema,
  birthDate: dateSchema,
  idDocument: z
    .strictObject({
      type: z.enum(ID_DOCUMENT_TYPES),
      number: z.string(),
    })
    .optional(),
  phone: z.string().optional(),
  /** Body weight in kg at admission, when recorded. */
  weightKg: z.number().positive().max(500).optional(),
  heightCm: z.number().positive().max(300).optional(),
  pregnant: z.boolean().optional(),
  lactating: z.boolean().optional(),
});
export type Patient = z.infer<typeof patientSchema>;

export const STAFF_ROLES = [
  '科主任',
  '主任医师',
  '副主任医师',
  '主治医师',
  '住院医师',
  '进修医师',
  '实习医师',
  '责任护士',
  '护士',
] as const;

export const staffSchema = z.strictObject({
  role: z.enum(STAFF_ROLES),
  name: z.string().min(1),
  id: z.string().optional(),
});
export type Staff = z.infer<typeof staffSchema>;

export const encounterSchema = z.strictObject({
  id: z.string().min(1),
  admissionTime: dateTimeSchema,
  dischargeTime: dateTimeSchema.optional(),
  department: z.string().min(1),
  ward: z.string().optional(),
  bed: z.string().optional(),
  attendingDoctors: z.array(staffSchema).default([]),
  /** 病危 / 病重 / 一般: sets the progress-note interval in timeliness QC. */
  condition: z.enum(['病危', '病重', '一般']).optional(),
  /** Time of death when the patient died in hospital. */
  deathTime: dateTimeSchema.optional(),
});
export type Encounter = z.infer<typeof encounterSchema>;

/** The closed list of document types (病历书写基本规范 terms). */
export const DOCUMENT_TYPES = [
  '入院记录',
  '再次入院记录',
  '24小时内入出院记录',
  '24小时内入院死亡记录',
  '首次病程记录',
  '日常病程记录',
  '上级医师查房记录',
  '疑难病例讨论记录',
  '交接班记录',
  '转科记录',
  '阶段小结',
  '抢救记录',
  '有创诊疗操作记录',
  '会诊记录',
  '术前小结',
  '术前讨论记录',
  '麻醉术前访视记录',
  '麻醉记录',
  '手术记录',
  '手术安全核查记录',
  '手术清点记录',
  '术后首次病程记录',
  '麻醉术后访视记录',
  '出院记录',
  '死亡记录',
  '死亡病例讨论记录',
  '病重（病危）患者护理记录',
  '护理记录',
  '输血记录',
  '知情同意书',
  '病危（重）通知书',
  '不良事件报告',
  '其他',
] as const;
export const documentTypeSchema = z.enum(DOCUMENT_TYPES);
export type DocumentType = z.infer<typeof documentTypeSchema>;

export const documentSchema = z.strictObject({
  id: z.string().min(1),
  type: documentTypeSchema,
  title: z.string().optional(),
  /** When the event the document records happened (e.g. the operation's end, the rescue's end). */
  eventTime: dateTimeSchema.optional(),
  createdTime: dateTimeSchema,
  signedTime: dateTimeSchema.optional(),
  author: z.string().optional(),
  authorRole: z.enum(STAFF_ROLES).optional(),
  text: z.string().max(2_000_000),
});
export type ClinicalDocument = z.infer<typeof documentSchema>;

export const medicationOrderSchema = z.strictObject({
  id: z.string().min(1),
  /** Drug name as written in the order, e.g. 华法林钠片. */
  drugName: z.string().min(1),
  /** Local or national drug code, when the EMR has one. */
  drugCode: z.string().optional(),
  dose: z.number().nonnegative().optional(),
  doseUnit: z.string().optional(),
  route: z.string().optional(),
  frequency: z.string().optional(),
  startTime: dateTimeSchema,
  stopTime: dateTimeSchema.optional(),
  /** 长期医嘱 (long-term) or 临时医嘱 (once). */
  kind: z.enum(['long-term', 'once']),
  status: z.enum(['active', 'completed', 'stopped', 'cancelled', 'draft']).default('active'),
  prescriber: z.string().optional(),
});
export type MedicationOrder = z.infer<typeof medicationOrderSchema>;

export const labResultSchema = z.strictObject({
  id: z.string().min(1),
  item: z.string().min(1),
  code: z.string().optional(),
  value: z.union([z.number(), z.string()]),
  unit: z.string().optional(),
  referenceRange: z.string().optional(),
  referenceLow: z.number().optional(),
  referenceHigh: z.number().optional(),
  flag: z.enum(['H', 'L', 'N', 'HH', 'LL', 'A']).optional(),
  time: dateTimeSchema,
  specimen: z.string().optional(),
});
export type LabResult = z.infer<typeof labResultSchema>;

export const VITAL_KINDS = [
  'temperature',
  'pulse',
  'heartRate',
  'respiratoryRate',
  'systolicBP',
  'diastolicBP',
  'spo2',
  'weight',
  'height',
  'painScore',
  'consciousness',
] as const;
export const vitalSignSchema = z.strictObject({
  kind: z.enum(VITAL_KINDS),
  value: z.union([z.number(), z.string()]),
  unit: z.string().optional(),
  time: dateTimeSchema,
  /** Supplemental oxygen at the time (for NEWS2). */
  onOxygen: z.boolean().optional(),
});
export type VitalSign = z.infer<typeof vitalSignSchema>;

export const allergySchema = z.strictObject({
  substance: z.string().min(1),
  category: z.enum(['drug', 'food', 'environment', 'other']).default('drug'),
  reaction: z.string().optional(),
  severity: z.enum(['mild', 'moderate', 'severe']).optional(),
  recordedTime: dateTimeSchema.optional(),
});
export type Allergy = z.infer<typeof allergySchema>;

/** 入院病情 (RC027): 1 有, 2 临床未确定, 3 情况不明, 4 无. */
export const ADMISSION_CONDITIONS = ['1', '2', '3', '4'] as const;

export const diagnosisSchema = z.strictObject({
  /** ICD-10 code (国临版 or 医保版). */
  code: z.string().optional(),
  name: z.string().min(1),
  type: z.enum([
    'outpatient',
    'admission',
    'principal',
    'secondary',
    'discharge',
    'pathology',
    'external-cause',
  ]),
  admissionCondition: z.enum(ADMISSION_CONDITIONS).optional(),
  time: dateTimeSchema.optional(),
});
export type Diagnosis = z.infer<typeof diagnosisSchema>;

export const procedureSchema = z.strictObject({
  /** ICD-9-CM-3 code. */
  code: z.string().optional(),
  name: z.string().min(1),
  time: dateTimeSchema.optional(),
  principal: z.boolean().default(false),
  surgeon: z.string().optional(),
});
export type Procedure = z.infer<typeof procedureSchema>;

export const recordSchema = z.strictObject({
  schemaVersion: z.literal('1').default('1'),
  id: z.string().min(1),
  patient: patientSchema,
  encounter: encounterSchema,
  frontPage: frontPageSchema.optional(),
  documents: z.array(documentSchema).default([]),
  medications: z.array(medicationOrderSchema).default([]),
  labs: z.array(labResultSchema).default([]),
  vitals: z.array(vitalSignSchema).default([]),
  allergies: z.array(allergySchema).default([]),
  diagnoses: z.array(diagnosisSchema).default([]),
  procedures: z.array(procedureSchema).default([]),
});

/** A validated inpatient encounter record. */
export type PatientRecord = z.infer<typeof recordSchema>;
/** What callers may pass in (defaults not yet applied). */
export type PatientRecordInput = z.input<typeof recordSchema>;
