import type { PathStep } from '@yijian/knowledge-graph';

/** Alert tiers, lowest to highest; the same words as the CDS Hooks card indicator. */
export type Severity = 'info' | 'warning' | 'critical';

export const SEVERITY_RANK: Record<Severity, number> = { info: 0, warning: 1, critical: 2 };

/** Where a fact or a piece of evidence came from. */
export interface Evidence {
  kind: 'order' | 'diagnosis' | 'allergy' | 'lab' | 'vital' | 'text' | 'field' | 'graph' | 'patient';
  /** Order / lab / document id, or a field path such as `diagnoses[2]` or `input.drugs[0]`. */
  ref?: string;
  /** What a reader sees (Chinese where it quotes the record). */
  text: string;
  documentId?: string;
  span?: { start: number; end: number };
  /** Graph path for graph-derived evidence. */
  path?: PathStep[];
  data?: Record<string, unknown>;
}

export interface SuggestionAction {
  type: 'create' | 'update' | 'delete';
  description: string;
  resourceId?: string;
}

export interface Suggestion {
  label: string;
  actions: SuggestionAction[];
}

export interface OverrideReason {
  code: string;
  display: string;
}

/** One decision-support result, shaped like a CDS Hooks 2.0 card. */
export interface Alert {
  /** Deterministic hash of rule id, version, suppression key and evidence refs. */
  id: string;
  ruleId: string;
  ruleVersion: string;
  category: string;
  severity: Severity;
  /** Chinese, at most 140 characters. */
  summary: string;
  /** Chinese markdown: why, what was used, what to do. */
  detail: string;
  evidence: Evidence[];
  suggestions: Suggestion[];
  source: { label: string; url?: string };
  /** Same key = same problem; used for duplicate suppression within one encounter. */
  suppressionKey: string;
  indicator?: Severity;
  presentation?: 'interruptive' | 'passive';
  overrideReasons?: OverrideReason[];
}

// ---------------------------------------------------------------------------------------------
// Patient facts
// ---------------------------------------------------------------------------------------------

/** How medications are read: at one moment, or over the whole stay (retrospective review). */
export type EvaluationMode = 'point' | 'stay';

export interface MedicationFact {
  /** Order id (or `input-<n>` for ad-hoc lists). */
  id: string;
  /** Name as written, e.g. 华法林钠片. */
  name: string;
  /** Linked graph concept, when the linker found one. */
  conceptId?: string;
  /** Canonical concept name (e.g. 华法林), or the written name when unlinked. */
  conceptName: string;
  /** Graph ancestors (drug classes) of the concept, ids. */
  classIds: string[];
  /** Class names, for messages. */
  classNames: string[];
  dose?: number;
  doseUnit?: string;
  route?: string;
  /** Normalised route: oral, iv, im, sc, topical, inhaled, rectal, other. */
  routeKind?: string;
  frequency?: string;
  /** Administrations per day parsed from the frequency (0.142857 for weekly), when known. */
  timesPerDay?: number;
  /** True for 临时医嘱 / st / once orders. */
  once: boolean;
  /**
   * False for a local eye, ear or skin preparation (滴眼液, 眼膏, 软膏, route 滴眼/外用…; see
   * resources/routes.yaml): no systemic interactions, contraindications or dose limits.
   */
  systemic: boolean;
  /** Why the order counts as local (Chinese). */
  localBasis?: string;
  /** The linked concept is itself a local preparation: its own graph relations still apply. */
  localProduct?: boolean;
  /** Classes joined at this order's dose (graph `doseDependentClasses`); also in classIds/classNames. */
  doseClasses?: DoseClass[];
  status: string;
  startTime?: string;
  stopTime?: string;
  /** Epoch ms interval the order is active in; end is Infinity when open. */
  interval: { start: number; end: number };
  provenance: Evidence;
}

/** A class the drug joins at this order's daily dose (aspirin ≥ 500 mg/d counts as a salicylate NSAID). */
export interface DoseClass {
  id: string;
  name: string;
  /** Ids and names of the class and its ancestors. */
  ancestorIds: string[];
  ancestorNames: string[];
  /** Chinese: the dose that put the order in the class. */
  basis: string;
}

export type ConditionStatus = 'present' | 'historical' | 'possible' | 'negated' | 'family' | 'hypothetical';

export interface ConditionFact {
  name: string;
  conceptId?: string;
  conceptName: string;
  /** Ids of the concept and its IS_A ancestors. */
  ancestorIds: string[];
  status: ConditionStatus;
  source: 'diagnosis' | 'text' | 'input';
  code?: string;
  /**
   * Whole-stay review only: epoch-ms window in which the condition was documented as present in
   * dated notes (first mention − 24 h to last mention + 72 h; summaries such as 出院记录 do not
   * count). Absent: the whole stay.
   */
  period?: { start: number; end: number };
  provenance: Evidence;
}

export interface AllergyFact {
  substance: string;
  conceptId?: string;
  conceptName: string;
  reaction?: string;
  severity?: string;
  source: 'allergy-list' | 'front-page' | 'text' | 'input';
  provenance: Evidence;
}

export interface LabFact {
  id: string;
  /** Canonical key, e.g. potassium, inr, platelets (see resources/labs.yaml). */
  key?: string;
  item: string;
  value: number | string;
  /** Numeric value in the canonical unit of the key, when it could be read. */
  numeric?: number;
  unit?: string;
  flag?: string;
  time?: string;
  source: 'lab' | 'text' | 'input';
  provenance: Evidence;
}

export interface VitalFact {
  kind: string;
  value: number | string;
  numeric?: number;
  unit?: string;
  time?: string;
  onOxygen?: boolean;
  provenance: Evidence;
}

export interface PatientFacts {
  patientId: string;
  encounterId: string;
  evaluation: {
    mode: EvaluationMode;
    /** Evaluation time (ISO-like text) or undefined for ad-hoc lists. */
    at?: string;
  };
  age?: number;
  /** Age in days at the evaluation time (age-conditioned interactions such as ceftriaxone + calcium in neonates). */
  ageDays?: number;
  sex?: 'male' | 'female';
  weightKg?: number;
  heightCm?: number;
  bmi?: number;
  pregnant: boolean;
  lactating: boolean;
  egfr?: { value: number; method: 'CKD-EPI 2021' | 'input'; provenance: Evidence };
  medications: MedicationFact[];
  conditions: ConditionFact[];
  allergies: AllergyFact[];
  /** All lab results, oldest first. */
  labs: LabFact[];
  vitals: VitalFact[];
  /** Admission time of the encounter (whole-stay review: risk scores are assessed from it). */
  admissionTime?: string;
  procedures: {
    name: string;
    code?: string;
    time?: string;
    /** 麻醉方式 (front page or 手术记录), e.g. 全身麻醉, 表面麻醉, 神经阻滞麻醉. */
    anesthesia?: string;
    provenance: Evidence;
  }[];
  department?: string;
  /** Free text of the documents (for score items read from text), by document id. */
  documents: {
    id: string;
    type: string;
    time?: string;
    text: string;
    /** Context-aware mentions were supplied for it: conditions come from them, not from raw text. */
    annotated?: boolean;
  }[];
  /** Patient-level provenance (age, sex, weight, pregnancy). */
  patientEvidence: Evidence[];
}
