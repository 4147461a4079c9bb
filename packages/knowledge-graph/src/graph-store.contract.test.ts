import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDefaultGraph } from './default-graph.js';
import { Neo4jGraph } from './neo4j/neo4j-graph.js';
import type { GraphStore } from './types.js';

/**
 * One contract for every GraphStore: MemoryGraph always, Neo4jGraph when NEO4J_URI is set (the
 * default graph is loaded into NEO4J_DATABASE, default "neo4j", which is cleared first).
 */
const memory = loadDefaultGraph();
const neo4jUri = process.env.NEO4J_URI;
if (!neo4jUri) console.warn('[knowledge-graph] NEO4J_URI not set: the Neo4jGraph contract suite is skipped');

function contract(name: string, open: () => Promise<GraphStore>, skip = false): void {
  describe.skipIf(skip)(`GraphStore contract: ${name}`, () => {
    let g: GraphStore;
    beforeAll(async () => {
      g = await open();
    }, 600_000);
    afterAll(async () => {
      if (name !== 'MemoryGraph') await g?.close();
    });

    it('finds concepts by id, name, synonym and kind', async () => {
      expect((await g.conceptById('drug:warfarin'))?.name).toBe('华法林');
      expect(await g.conceptById('drug:nope')).toBeUndefined();
      expect((await g.findByName('华法林钠片')).map((c) => c.id)).toEqual(['drug:warfarin']);
      expect((await g.findByName('asa')).map((c) => c.id)).toContain('drug:aspirin');
      expect(await g.findByName('华法林', 'Disease')).toEqual([]);
    });

    it('lists neighbours by type and direction', async () => {
      const out = await g.neighbours('drug:warfarin', { type: 'BELONGS_TO', direction: 'out' });
      expect(out.map((n) => n.concept.id)).toContain('class:vka');
      expect(out.every((n) => n.edge.from === 'drug:warfarin' && n.edge.type === 'BELONGS_TO')).toBe(true);
      const inn = await g.neighbours('class:vka', { type: 'BELONGS_TO', direction: 'in' });
      expect(inn.map((n) => n.concept.id)).toContain('drug:warfarin');
      const rules = await g.neighbours('class:anticoagulants', { type: 'INTERACTS_WITH' });
      expect(rules.find((n) => n.concept.id === 'class:antiplatelets')?.edge.props.severity).toBe('major');
    });

    it('walks ancestors and descendants', async () => {
      const anc = (await g.ancestors('drug:warfarin')).map((c) => c.id);
      expect(anc).toEqual(
        expect.arrayContaining(['class:vka', 'class:anticoagulants', 'class:antithrombotics']),
      );
      expect(anc).not.toContain('drug:warfarin');
      const desc = (await g.descendants('class:penicillins')).map((c) => c.id);
      expect(desc).toEqual(expect.arrayContaining(['drug:amoxicillin', 'drug:benzylpenicillin']));
    });

    it('expands class-level interaction rules with explanation paths', async () => {
      const found = await g.interactionsAmong(['drug:warfarin', 'drug:aspirin', 'drug:omeprazole']);
      const wa = found.find((i) => i.drugs[1].id === 'drug:aspirin')!;
      expect(wa.severity).toBe('major');
      expect(wa.level).toBe('class');
      expect(wa.ruleId).toBe('ddi:anticoagulants+antiplatelets');
      expect(wa.path.map((s) => s.type)).toEqual(['BELONGS_TO', 'IS_A', 'INTERACTS_WITH', 'BELONGS_TO']);
      expect(found[0]!.severity).toBe('major');
      const sc = await g.interactionsAmong(['drug:simvastatin', 'drug:clarithromycin']);
      expect(sc.map((i) => i.severity)).toEqual(['major']);
    });

    it('matches contraindications through IS_A ancestors of the condition', async () => {
      const out = await g.contraindicationsOf(
        ['drug:ibuprofen', 'drug:metformin'],
        ['disease:K25', 'disease:N18.3'],
      );
      const pairs = out.map((c) => `${c.drug.id}@${c.condition.id}:${c.relation}`);
      expect(pairs).toContain('drug:ibuprofen@disease:K25:CONTRAINDICATED_IN');
      expect(pairs).toContain('drug:metformin@disease:N18.3:CAUTION_IN');
    });

    it('finds direct and cross-reactive allergy conflicts', async () => {
      const out = await g.allergyConflicts(
        ['drug:benzylpenicillin'],
        ['drug:amoxicillin', 'drug:ceftriaxone'],
      );
      expect(out.map((c) => [c.drug.id, c.kind, c.severity])).toEqual([
        ['drug:amoxicillin', 'direct', 'major'],
        ['drug:ceftriaxone', 'cross-reactive', 'moderate'],
      ]);
    });

    it('maps codes both ways', async () => {
      expect(await g.codesOf('drug:warfarin')).toEqual([{ system: 'ATC', code: 'B01AA03' }]);
      expect((await g.conceptByCode('ICD-10', 'I10'))?.id).toBe('disease:I10');
      expect((await g.conceptByCode('ICD-10-YB2.0', 'i10.X00x002'))?.id).toBe('disease:I10');
      expect(await g.conceptByCode('ATC', 'nope')).toBeUndefined();
    });

    it('counts nodes and edges like the source graph', async () => {
      expect(await g.stats()).toEqual(memory.statsSync());
    });
  });
}

contract('MemoryGraph', async () => memory);
contract(
  'Neo4jGraph',
  async () => {
    const g = Neo4jGraph.connect({
      uri: neo4jUri!,
      user: process.env.NEO4J_USER ?? 'neo4j',
      password: process.env.NEO4J_PASSWORD ?? '',
      database: process.env.NEO4J_DATABASE ?? 'neo4j',
    });
    await g.setupSchema();
    await g.clear();
    await g.load(memory);
    return g;
  },
  !neo4jUri,
);
