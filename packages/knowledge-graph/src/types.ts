/** Kinds of concept in the graph. */
export const CONCEPT_KINDS = [
  'Disease',
  'Symptom',
  'Drug',
  'DrugClass',
  'Procedure',
  'LabTest',
  'Exam',
  'Anatomy',
  'Department',
] as const;
export type ConceptKind = (typeof CONCEPT_KINDS)[number];

/** Relation types. Direction is always as written: `from -TYPE-> to`. */
export const RELATION_TYPES = [
  'IS_A',
  'BELONGS_TO',
  'INTERACTS_WITH',
  'CONTRAINDICATED_IN',
  'CAUTION_IN',
  'CROSS_REACTS',
  'INDICATED_FOR',
  'HAS_SYMPTOM',
  'CODED_AS',
  'HAS_COMPLICATION',
  'NEEDS_TEST',
  'TREATED_IN',
  'LOCATED_IN',
] as const;
export type RelationType = (typeof RELATION_TYPES)[number];

/** Code systems the graph knows. Other strings are accepted for hospital-local codes. */
export const CODE_SYSTEMS = ['ICD-10', 'ICD-10-YB2.0', 'ICD-10-GL2.0', 'ICD-9-CM-3', 'ATC', 'LOINC'] as const;

export type Severity = 'major' | 'moderate' | 'minor';
export const SEVERITY_RANK: Record<Severity, number> = { major: 3, moderate: 2, minor: 1 };

export interface ConceptCode {
  system: string;
  code: string;
}

export interface Concept {
  id: string;
  kind: ConceptKind;
  name: string;
  synonyms: string[];
  codes: ConceptCode[];
  props: Record<string, unknown>;
  /** Where the fact comes from: 说明书, a named guideline, 'yijian-curated', an importer label. */
  source: string;
}

export interface Edge {
  type: RelationType;
  from: string;
  to: string;
  props: Record<string, unknown>;
  source: string;
}

export interface ConceptRef {
  id: string;
  name: string;
}

/**
 * One edge of an explanation path, always in the edge's own direction. A path such as
 * 华法林 -BELONGS_TO-> 抗凝药 -INTERACTS_WITH-> 抗血小板药 <-BELONGS_TO- 阿司匹林 is three steps; the
 * last one reads `{from: 阿司匹林, type: BELONGS_TO, to: 抗血小板药}`.
 */
export interface PathStep {
  from: ConceptRef;
  type: RelationType;
  to: ConceptRef;
}

export interface Interaction {
  drugs: [ConceptRef, ConceptRef];
  severity: Severity;
  mechanism: string;
  effect: string;
  management: string;
  source: string;
  /** 'pair' when the rule names both drugs, 'class' when at least one side is a drug class. */
  level: 'pair' | 'class';
  /** Id of the INTERACTS_WITH fact (its `props.id`). */
  ruleId: string;
  /** Age condition of the rule: `severity` applies up to this age in days, `severityOtherwise` above it. */
  ageMaxDays?: number;
  severityOtherwise?: Severity;
  path: PathStep[];
}

export interface Contraindication {
  drug: ConceptRef;
  condition: ConceptRef;
  relation: 'CONTRAINDICATED_IN' | 'CAUTION_IN';
  severity: Severity;
  reason: string;
  source: string;
  /** Id of the fact (its `props.id`). */
  ruleId: string;
  path: PathStep[];
}

export interface AllergyConflict {
  allergen: ConceptRef;
  drug: ConceptRef;
  kind: 'direct' | 'cross-reactive';
  severity: Severity;
  reason: string;
  source: string;
  path: PathStep[];
}

export type Direction = 'out' | 'in' | 'both';

export interface GraphStats {
  nodes: Record<string, number>;
  edges: Record<string, number>;
}

/**
 * Typed queries the rules need. Asynchronous so that a Neo4j store can implement it; MemoryGraph
 * also offers synchronous twins of the hot queries.
 */
export interface GraphStore {
  conceptById(id: string): Promise<Concept | undefined>;
  /**
   * The same answer without a promise, for stores that hold the graph in memory (the embedded
   * graph); callers on hot paths use it when present and fall back to `conceptById`.
   */
  conceptByIdSync?(id: string): Concept | undefined;
  /** Exact name or synonym (case-insensitive for Latin letters). */
  findByName(name: string, kind?: ConceptKind): Promise<Concept[]>;
  /** `findByName` without a promise (in-memory stores). */
  findByNameSync?(name: string, kind?: ConceptKind): Concept[];
  neighbours(
    id: string,
    opts?: { type?: RelationType; direction?: Direction },
  ): Promise<{ edge: Edge; concept: Concept }[]>;
  /** Transitive IS_A (and BELONGS_TO for drugs -> classes) ancestors, nearest first. */
  ancestors(id: string): Promise<Concept[]>;
  /** `ancestors` without a promise (in-memory stores). */
  ancestorsSync?(id: string): Concept[];
  /** Transitive IS_A (and BELONGS_TO) descendants, nearest first. */
  descendants(id: string): Promise<Concept[]>;
  /** Class-level rules expanded to members; each unordered pair once, most severe first. */
  interactionsAmong(drugIds: string[]): Promise<Interaction[]>;
  /** Conditions match through their IS_A ancestors too. */
  contraindicationsOf(drugIds: string[], conditionIds: string[]): Promise<Contraindication[]>;
  /** An allergen may be a drug or a class; CROSS_REACTS links allergy groups. */
  allergyConflicts(allergenIds: string[], drugIds: string[]): Promise<AllergyConflict[]>;
  codesOf(id: string): Promise<ConceptCode[]>;
  conceptByCode(system: string, code: string): Promise<Concept | undefined>;
  stats(): Promise<GraphStats>;
  close(): Promise<void>;
}

/** Everything a store is made of, as plain data. */
export interface GraphData {
  nodes: Concept[];
  edges: Edge[];
}
