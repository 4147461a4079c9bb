/** The event categories Yijian detects (hospital reporting-form categories, qc-standards.md §3.3). */
export const EVENT_CATEGORIES = [
  'fall',
  'pressure-injury',
  'medication-error',
  'adverse-drug-reaction',
  'transfusion-reaction',
  'unplanned-reoperation',
  'unplanned-icu-return',
  'unplanned-extubation',
  'cardiac-arrest',
  'hospital-acquired-infection',
] as const;
export type EventCategory = (typeof EVENT_CATEGORIES)[number];

/** Chinese labels as they appear on hospital reporting forms. */
export const CATEGORY_LABELS: Record<EventCategory, string> = {
  fall: '跌倒/坠床',
  'pressure-injury': '压力性损伤',
  'medication-error': '给药错误',
  'adverse-drug-reaction': '药物过敏/药品不良反应',
  'transfusion-reaction': '输血不良反应',
  'unplanned-reoperation': '非计划再次手术',
  'unplanned-icu-return': '非计划重返ICU',
  'unplanned-extubation': '非计划拔管/管路滑脱',
  'cardiac-arrest': '院内非预期心跳呼吸骤停',
  'hospital-acquired-infection': '医院感染',
};

/** Ⅰ警告事件, Ⅱ不良后果事件, Ⅲ未造成后果事件, Ⅳ隐患事件 (qc-standards.md §3.1). */
export const GRADES = ['I', 'II', 'III', 'IV'] as const;
export type Grade = (typeof GRADES)[number];

export const GRADE_LABELS: Record<Grade, string> = {
  I: 'Ⅰ级 警告事件',
  II: 'Ⅱ级 不良后果事件',
  III: 'Ⅲ级 未造成后果事件',
  IV: 'Ⅳ级 隐患事件',
};

/** Lower number = more severe. */
export const GRADE_RANK: Record<Grade, number> = { I: 1, II: 2, III: 3, IV: 4 };

export const PRESSURE_STAGES = ['1期', '2期', '3期', '4期', '不可分期', '深部组织损伤'] as const;
export type PressureStage = (typeof PRESSURE_STAGES)[number];

export const MEDICATION_ERROR_TYPES = [
  'wrong-drug',
  'wrong-dose',
  'wrong-patient',
  'wrong-route',
  'wrong-time',
  'omission',
  'other',
] as const;
export type MedicationErrorType = (typeof MEDICATION_ERROR_TYPES)[number];

/** Where an event was seen: a span of text, or a structured field of the record. */
export interface EvidenceSpan {
  /** 'text' for free text given directly; otherwise the record part. */
  source:
    | 'text'
    | 'document'
    | 'medication'
    | 'lab'
    | 'procedure'
    | 'allergy'
    | 'vital'
    | 'diagnosis'
    | 'encounter';
  /** Id of the document / order / lab in the record. */
  refId?: string;
  /** Offsets into the text (UTF-16, end exclusive) for text and document evidence. */
  start?: number;
  end?: number;
  /** The evidence: the sentence for text, the value for a field. */
  text: string;
  /** The trigger inside the sentence, when there is one. */
  trigger?: { text: string; start: number; end: number };
  /** Rule that produced this evidence. */
  ruleId: string;
}

/** Category-specific details, normalised. */
export interface EventDetails {
  /** 跌倒 or 坠床. */
  fallType?: '跌倒' | '坠床';
  /** Harm from a fall: 无伤害 / 轻度 / 中度 / 重度 / 死亡. */
  harm?: '无伤害' | '轻度' | '中度' | '重度' | '死亡';
  stage?: PressureStage;
  /** The suspected drug (allergy / ADR) or the drug involved (medication error). */
  drug?: string;
  /** What the reaction was (皮疹, 过敏性休克, 寒战发热…). */
  reaction?: string;
  errorType?: MedicationErrorType;
  /** NCC MERP A–I for medication errors. */
  nccMerp?: 'A' | 'B' | 'C' | 'D' | 'E' | 'F' | 'G' | 'H' | 'I';
  /** Tube or catheter: 气管导管, CVC, PICC, 导尿管, 胃管, 引流管… */
  tube?: string;
  /** Infection site / type signal: CAUTI, CLABSI, VAP, 手术部位感染, 多重耐药菌… */
  infection?: string;
  /** Operation names involved (reoperation). */
  operations?: string[];
}

export interface AdverseEvent {
  /** Deterministic id: same record and version give the same id. */
  id: string;
  /** De-duplication key: patient + category + discriminator. */
  key: string;
  category: EventCategory;
  /** Chinese category label. */
  label: string;
  grade: Grade;
  /** Why this grade (zh). */
  gradeReason: string;
  /** One line for the report (zh, <= 140 chars). */
  summary: string;
  details: EventDetails;
  evidence: EvidenceSpan[];
  /** Rules that fired, `<id>@<version>`. */
  rules: string[];
  patientId?: string;
  recordId?: string;
  department?: string;
  ward?: string;
  /** When it happened, when known (record time format). */
  occurredAt?: string;
  /** 'detected' from the record, 'manual' from a report. */
  origin: 'detected' | 'manual';
}

/** A structured draft made from a free-text manual report; staff complete and confirm it. */
export interface DraftEvent {
  category?: EventCategory;
  label?: string;
  grade?: Grade;
  gradeReason?: string;
  summary: string;
  details: EventDetails;
  /** 2024-05-03 14:20 style when the report gives a date/time. */
  occurredAt?: string;
  /** 科室/病区 and bed as written (never the patient name). */
  department?: string;
  bed?: string;
  /** The original report text. */
  description: string;
  evidence: EvidenceSpan[];
  /** Fields the reporter still has to give (zh names). */
  missing: string[];
  /** Other categories the text also matched. */
  alternatives: EventCategory[];
}
