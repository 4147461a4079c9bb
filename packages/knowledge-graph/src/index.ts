export { defaultGraphDir, loadDefaultGraph } from './default-graph.js';
export { csvCell, exportCsv, importEdgesCsv, importNodesCsv, parseCsv } from './io/csv.js';
export { type DdinterImportOptions, importDdinter } from './io/ddinter.js';
export { writeGraphDirectory, writeSnapshotFile } from './io/files.js';
export { type IcdImportOptions, importIcdTable } from './io/icd.js';
export { importXywy, readXywyDirectory, toXywyDisease, type XywyDisease } from './io/xywy.js';
export {
  createLinker,
  type LinkCandidate,
  type Linker,
  type LinkerOptions,
  type LinkResult,
  linkerOptionsSchema,
  MATCH_SCORES,
  type MatchKind,
} from './linker.js';
export {
  codeKey,
  GraphBuilder,
  isLexiconJunk,
  MemoryGraph,
  nameKey,
  SNAPSHOT_FORMAT,
  type Snapshot,
} from './memory-graph.js';
export {
  KIND_OF_MENTION_TYPE,
  MENTION_TYPE_OF_KIND,
  type TaggedMentionType,
  taggerLexicon,
} from './mention-types.js';
export { CYPHER, type Statement, type StatementName } from './neo4j/cypher.js';
export { conceptToRow, Neo4jGraph, type Neo4jOptions, neo4jOptionsSchema } from './neo4j/neo4j-graph.js';
export { editDistance, normaliseTerm, termVariants, toSimplified } from './normalise.js';
export {
  type DoseLimit,
  type DrugProps,
  drugPropsSchema,
  edgeLineSchema,
  type LabTestProps,
  labTestPropsSchema,
  nodeLineSchema,
  type PediatricDoseLimit,
  type RenalBand,
  ROUTES,
  type Route,
} from './schema.js';
export {
  type AllergyConflict,
  CODE_SYSTEMS,
  CONCEPT_KINDS,
  type Concept,
  type ConceptCode,
  type ConceptKind,
  type ConceptRef,
  type Contraindication,
  type Direction,
  type Edge,
  type GraphData,
  type GraphStats,
  type GraphStore,
  type Interaction,
  type PathStep,
  RELATION_TYPES,
  type RelationType,
  SEVERITY_RANK,
  type Severity,
} from './types.js';
