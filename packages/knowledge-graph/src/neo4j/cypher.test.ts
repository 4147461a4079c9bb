import { lintCypherQuery } from '@neo4j-cypher/language-support';
import { describe, expect, it } from 'vitest';
import { RELATION_TYPES } from '../types.js';
import { CYPHER } from './cypher.js';

const PROPERTY_KEYS = [
  'id',
  'kind',
  'name',
  'nameKey',
  'synonyms',
  'termKeys',
  'codes',
  'codeKeys',
  'props',
  'source',
  // keys of the UNWIND row maps
  'type',
  'from',
  'to',
];

// Every statement Neo4jGraph runs goes through the Cypher language service: syntax errors and
// semantic errors (undefined variables, wrong types, undeclared parameters) fail the test.
describe('Cypher statements', () => {
  for (const st of Object.values(CYPHER)) {
    it(`${st.name} lints clean`, { timeout: 120_000 }, () => {
      const { diagnostics } = lintCypherQuery(st.cypher, {
        labels: ['Concept'],
        relationshipTypes: [...RELATION_TYPES],
        propertyKeys: PROPERTY_KEYS,
        parameters: st.params,
      });
      const errors = diagnostics.filter((d) => d.severity === 1).map((d) => d.message);
      expect(errors, st.cypher).toEqual([]);
      const warnings = diagnostics.filter((d) => d.severity !== 1).map((d) => d.message);
      expect(warnings, st.cypher).toEqual([]);
    });
  }

  it('the linter does reject a broken statement (the check is live)', { timeout: 120_000 }, () => {
    const { diagnostics } = lintCypherQuery('MATCH (c:Concept {id: $id}) RETURN d', {
      labels: ['Concept'],
      parameters: { id: 'x' },
    });
    expect(diagnostics.some((d) => d.severity === 1)).toBe(true);
  });

  it('statements never splice values into the text', () => {
    for (const st of Object.values(CYPHER)) {
      for (const key of Object.keys(st.params)) expect(st.cypher).toContain(`$${key}`);
      expect(st.cypher).not.toMatch(/\$\{/);
    }
  });
});
