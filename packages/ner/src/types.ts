/**
 * Public types of @yijian/ner. Offsets everywhere are JavaScript string indices (UTF-16 code
 * units), end exclusive, into the ORIGINAL text, never into a normalised copy.
 */

export const MENTION_TYPES = [
  'disease',
  'symptom',
  'drug',
  'operation',
  'lab',
  'imaging',
  'anatomy',
] as const;
export type MentionType = (typeof MENTION_TYPES)[number];

export const ASSERTION_STATUSES = [
  'present',
  'negated',
  'possible',
  'historical',
  'family',
  'hypothetical',
] as const;
export type AssertionStatus = (typeof ASSERTION_STATUSES)[number];

/** A span found by a tagger, before context is applied. */
export interface RawMention {
  start: number;
  end: number;
  type: MentionType;
  /** `text.slice(start, end)` of the original text. */
  text: string;
  /** Confidence in [0, 1]; lexicon matches score 1 unless configured otherwise. */
  score: number;
  /** Who found it: `'lexicon'`, `'lexicon:<name>'` or `'model:<name>'`. */
  source: string;
  conceptId?: string;
}

/** Anything that turns text into raw mentions: the lexicon matcher, a neural model, … */
export interface Tagger {
  name: string;
  tag(text: string): RawMention[] | Promise<RawMention[]>;
}

export interface LexiconEntry {
  term: string;
  type: MentionType;
  conceptId?: string;
}

export interface Span {
  start: number;
  end: number;
}

/** A section of an EMR document: from its header to the next header (or the end of the text). */
export interface Section {
  /** Canonical name, e.g. 既往史 (also for variants such as 过去史 or 【既往史】). */
  name: string;
  header: { start: number; end: number; text: string };
  start: number;
  end: number;
}

export interface AssertionTrigger {
  text: string;
  start: number;
  end: number;
  /** Id of the cue rule (or `section:<name>` when a section default applied). */
  rule: string;
}

export interface Assertion {
  status: AssertionStatus;
  trigger?: AssertionTrigger;
  /** The span the trigger's scope covered (absent for section defaults and `present`). */
  scope?: Span;
}

export type Mention = RawMention & {
  /** Canonical name of the section the mention is in. */
  section?: string;
  assertion: Assertion;
  /** Normalised attributes: drugs (dose, unit, route, frequency, duration); labs (value, unit, flag, qualitative). */
  attributes?: MentionAttributes;
};

/** Drug attributes: dose as a number, unit in canonical spelling, route and frequency codes, ISO 8601 duration. */
export type DrugAttributes = {
  dose?: number;
  /** Upper end of a dose range (1~2片: dose 1, doseMax 2). */
  doseMax?: number;
  unit?: string;
  route?: string;
  frequency?: string;
  /** ISO 8601 duration, e.g. `P3D`, `P2W`, `PT12H`. */
  duration?: string;
};

/** Lab attributes: numeric value with canonical unit, abnormal flag, qualitative result. */
export type LabAttributes = {
  value?: number;
  unit?: string;
  /** `H` (↑, H, 偏高) or `L` (↓, L, 偏低). */
  flag?: 'H' | 'L';
  /** (-)/阴性 → negative, (+)/阳性 → positive, (±)/弱阳性 → weakly-positive. */
  qualitative?: 'negative' | 'positive' | 'weakly-positive';
};

export type MentionAttributes = DrugAttributes & LabAttributes & { [key: string]: unknown };

export const VITAL_SIGN_KINDS = [
  'temperature',
  'pulse',
  'heartRate',
  'respiratoryRate',
  'bloodPressure',
  'spo2',
] as const;
export type VitalSignKind = (typeof VITAL_SIGN_KINDS)[number];

/**
 * A vital sign read from the text, normalised: temperature in °C, pulse / heart rate in beats/min,
 * respiratory rate in breaths/min, blood pressure in mmHg (systolic/diastolic), SpO2 in %.
 */
export interface VitalSignReading {
  kind: VitalSignKind;
  /** The value (for bloodPressure: the systolic value). */
  value: number;
  systolic?: number;
  diastolic?: number;
  unit: string;
  start: number;
  end: number;
  text: string;
}

export interface Annotation {
  text: string;
  sections: Section[];
  mentions: Mention[];
  vitals: VitalSignReading[];
}
