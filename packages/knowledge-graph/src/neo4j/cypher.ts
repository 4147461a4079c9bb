/**
 * Every Cypher statement Neo4jGraph runs, in one place. Statements take parameters only; labels and
 * relationship types are fixed words or dynamic types (`$(row.type)`, Neo4j 5.26 and later) filled
 * from a checked RelationType. Each statement is linted by @neo4j-cypher/language-support in
 * cypher.test.ts with the parameters listed here.
 *
 * Graph model: one `:Concept` node per concept with `id`, `kind`, `name`, `nameKey`, `synonyms`,
 * `termKeys` (normalised name and synonyms), `codes` and `codeKeys` ("SYSTEM|CODE"), `props` (JSON
 * text) and `source`; one relationship per edge, typed by its RelationType, with `props` (JSON
 * text) and `source`.
 */
export interface Statement {
  /** Name used in errors and logs. */
  name: string;
  cypher: string;
  /** Example parameters (used by the lint test, and documentation of the shape). */
  params: Record<string, unknown>;
}

const HIERARCHY = 'IS_A|BELONGS_TO';
const MAX_DEPTH = 12;

export const CYPHER = {
  constraintConceptId: {
    name: 'constraintConceptId',
    cypher: 'CREATE CONSTRAINT concept_id IF NOT EXISTS FOR (c:Concept) REQUIRE c.id IS UNIQUE',
    params: {},
  },
  indexConceptNameKey: {
    name: 'indexConceptNameKey',
    cypher: 'CREATE INDEX concept_name_key IF NOT EXISTS FOR (c:Concept) ON (c.nameKey)',
    params: {},
  },
  indexConceptKind: {
    name: 'indexConceptKind',
    cypher: 'CREATE INDEX concept_kind IF NOT EXISTS FOR (c:Concept) ON (c.kind)',
    params: {},
  },
  upsertConcepts: {
    name: 'upsertConcepts',
    cypher: `UNWIND $rows AS row
MERGE (c:Concept {id: row.id})
SET c.kind = row.kind, c.name = row.name, c.nameKey = row.nameKey, c.synonyms = row.synonyms,
    c.termKeys = row.termKeys, c.codes = row.codes, c.codeKeys = row.codeKeys, c.props = row.props,
    c.source = row.source`,
    params: {
      rows: [
        {
          id: 'drug:x',
          kind: 'Drug',
          name: 'X',
          nameKey: 'x',
          synonyms: [],
          termKeys: ['x'],
          codes: [],
          codeKeys: [],
          props: '{}',
          source: 's',
        },
      ],
    },
  },
  upsertEdges: {
    name: 'upsertEdges',
    cypher: `UNWIND $rows AS row
MATCH (a:Concept {id: row.from})
MATCH (b:Concept {id: row.to})
MERGE (a)-[r:$(row.type)]->(b)
SET r.props = row.props, r.source = row.source`,
    params: { rows: [{ type: 'IS_A', from: 'a', to: 'b', props: '{}', source: 's' }] },
  },
  deleteAll: {
    name: 'deleteAll',
    cypher: `MATCH (c:Concept)
CALL (c) { DETACH DELETE c } IN TRANSACTIONS OF 10000 ROWS`,
    params: {},
  },
  conceptById: {
    name: 'conceptById',
    cypher: 'MATCH (c:Concept {id: $id}) RETURN c',
    params: { id: 'drug:x' },
  },
  findByName: {
    name: 'findByName',
    cypher: `MATCH (c:Concept)
WHERE $key IN c.termKeys AND ($kind IS NULL OR c.kind = $kind)
RETURN c ORDER BY c.id`,
    params: { key: 'x', kind: null },
  },
  conceptsByCodeKeys: {
    name: 'conceptsByCodeKeys',
    cypher: `MATCH (c:Concept)
WHERE any(k IN c.codeKeys WHERE k IN $keys)
RETURN c, [k IN c.codeKeys WHERE k IN $keys] AS matched`,
    params: { keys: ['ICD-10|I10'] },
  },
  neighbours: {
    name: 'neighbours',
    cypher: `MATCH (c:Concept {id: $id})-[r]-(o:Concept)
WHERE ($type IS NULL OR type(r) = $type)
  AND ($direction = 'both' OR ($direction = 'out' AND startNode(r) = c) OR ($direction = 'in' AND endNode(r) = c))
RETURN type(r) AS type, startNode(r).id AS from, endNode(r).id AS to, r.props AS props, r.source AS source, o
ORDER BY type, from, to`,
    params: { id: 'drug:x', type: null, direction: 'both' },
  },
  ancestors: {
    name: 'ancestors',
    cypher: `MATCH p = (c:Concept {id: $id})-[:${HIERARCHY}*1..${MAX_DEPTH}]->(a:Concept)
WITH a, min(length(p)) AS depth
RETURN a ORDER BY depth, a.id`,
    params: { id: 'drug:x' },
  },
  descendants: {
    name: 'descendants',
    cypher: `MATCH p = (c:Concept {id: $id})<-[:${HIERARCHY}*1..${MAX_DEPTH}]-(d:Concept)
WITH d, min(length(p)) AS depth
RETURN d ORDER BY depth, d.id`,
    params: { id: 'class:x' },
  },
  /**
   * The concepts given, everything above them (IS_A / BELONGS_TO), and the edges of the given
   * types among that set: the subgraph on which interaction, contraindication and allergy queries
   * are answered (with the same algorithm as MemoryGraph).
   */
  subgraphAbove: {
    name: 'subgraphAbove',
    cypher: `MATCH (s:Concept) WHERE s.id IN $ids
MATCH (s)-[:${HIERARCHY}*0..${MAX_DEPTH}]->(a:Concept)
WITH collect(DISTINCT a) AS nodes
UNWIND nodes AS x
OPTIONAL MATCH (x)-[r]->(y:Concept)
WHERE y IN nodes AND type(r) IN $types
WITH nodes, collect(CASE WHEN r IS NULL THEN NULL ELSE {type: type(r), from: x.id, to: y.id, props: r.props, source: r.source} END) AS rels
RETURN nodes, rels`,
    params: { ids: ['drug:x'], types: ['IS_A', 'BELONGS_TO', 'INTERACTS_WITH'] },
  },
  countNodesByKind: {
    name: 'countNodesByKind',
    cypher: 'MATCH (c:Concept) RETURN c.kind AS kind, count(*) AS n ORDER BY kind',
    params: {},
  },
  countEdgesByType: {
    name: 'countEdgesByType',
    cypher: 'MATCH (:Concept)-[r]->(:Concept) RETURN type(r) AS type, count(*) AS n ORDER BY type',
    params: {},
  },
  pageConcepts: {
    name: 'pageConcepts',
    cypher: `MATCH (c:Concept) WHERE c.id > $after
RETURN c ORDER BY c.id LIMIT $limit`,
    params: { after: '', limit: 10000 },
  },
  pageEdges: {
    name: 'pageEdges',
    cypher: `MATCH (a:Concept)-[r]->(b:Concept)
WHERE a.id > $after OR (a.id = $after AND elementId(r) > $afterRel)
RETURN a.id AS from, elementId(r) AS rel, type(r) AS type, b.id AS to, r.props AS props, r.source AS source
ORDER BY from, rel LIMIT $limit`,
    params: { after: '', afterRel: '', limit: 10000 },
  },
} as const satisfies Record<string, Statement>;

export type StatementName = keyof typeof CYPHER;
