/**
 * The engine's fast paths give the same answers as the plain code they replace: selector matching
 * through the order index, the short-array sort, the incremental id hash, the per-object memo.
 */
import { createLinker, loadDefaultGraph } from '@yijian/knowledge-graph';
import { describe, expect, it } from 'vitest';
import { hashId, sortedKey, sortSmall } from './alert.js';
import { buildFactsFromLists } from './facts.js';
import { matchesDrug, medsMatching, NameIndex } from './match.js';
import { memoOn } from './memo.js';

/** Only the async GraphStore methods, as a Neo4j store offers them (no *Sync twins). */
function asyncOnlyGraph(graph: ReturnType<typeof loadDefaultGraph>): ReturnType<typeof loadDefaultGraph> {
  return {
    conceptById: (id: string) => graph.conceptById(id),
    findByName: (name: string, kind?: Parameters<typeof graph.findByName>[1]) => graph.findByName(name, kind),
    ancestors: (id: string) => graph.ancestors(id),
    conceptByCode: (system: string, code: string) => graph.conceptByCode(system, code),
  } as unknown as ReturnType<typeof loadDefaultGraph>;
}

describe('fast paths', () => {
  it('medsMatching equals filtering with matchesDrug, in list order', async () => {
    const graph = loadDefaultGraph();
    const linker = createLinker(graph);
    const facts = await buildFactsFromLists(
      {
        drugs: [
          '华法林',
          '阿司匹林肠溶片',
          '布洛芬',
          '氯吡格雷',
          '某未知药',
          '左氧氟沙星滴眼液',
          '辛伐他汀',
          '克拉霉素',
        ],
      },
      { graph, linker },
    );
    const index = new NameIndex(graph);
    const selectors = await Promise.all([
      index.drugSelector({ classes: ['抗凝药'] }),
      index.drugSelector({ drugs: ['阿司匹林'] }),
      index.drugSelector({ classes: ['非甾体抗炎药'], drugs: ['阿司匹林'] }),
      index.drugSelector({ drugs: ['未知药'] }),
      index.drugSelector({ drugs: ['左氧氟沙星'], routes: ['topical'] }),
      index.drugSelector({ classes: ['他汀类'], excludeName: '辛伐' }),
      index.drugSelector({ drugs: [] }),
    ]);
    let matched = 0;
    for (const sel of selectors) {
      const expected = facts.medications.filter((m) => matchesDrug(sel, m));
      expect(medsMatching(sel, facts.medications)).toEqual(expected);
      matched += expected.length;
    }
    expect(matched).toBeGreaterThan(4);
  });

  it('builds the same facts through the async graph API as with the embedded graph', async () => {
    const graph = loadDefaultGraph();
    const linker = createLinker(graph);
    const asyncOnly = asyncOnlyGraph(graph);
    const input = {
      drugs: ['华法林', '阿司匹林肠溶片 3g/d', '某未知药', '左氧氟沙星滴眼液', '拜阿司匹灵'],
      conditions: ['心房颤动', '消化性溃疡', '慢性肾脏病3期'],
      allergies: ['青霉素'],
    };
    const sync = await buildFactsFromLists(input, { graph, linker });
    const viaAsync = await buildFactsFromLists(input, { graph: asyncOnly, linker });
    expect(viaAsync).toEqual(sync);
    expect(sync.medications.filter((m) => m.conceptId).length).toBeGreaterThan(2);
  });

  it('remembers ad-hoc drug entries per graph: same facts, own ids and provenance per request', async () => {
    const graph = loadDefaultGraph();
    const linker = createLinker(graph);
    const asyncOnly = asyncOnlyGraph(graph);
    const drugs = [
      '华法林钠片 2.5mg 口服 qd',
      '阿司匹林肠溶片 3g/d',
      '某未知药 1片 口服 tid',
      '布洛芬 0.3g po bid',
    ];
    const first = await buildFactsFromLists({ drugs }, { graph, linker });
    const again = await buildFactsFromLists({ drugs: [...drugs].reverse() }, { graph, linker });
    const uncached = await buildFactsFromLists({ drugs: [...drugs].reverse() }, { graph: asyncOnly, linker });
    expect(again).toEqual(uncached);
    expect(again.medications.map((m) => [m.id, m.provenance.ref])).toEqual([
      ['input-1', 'input.drugs[0]'],
      ['input-2', 'input.drugs[1]'],
      ['input-3', 'input.drugs[2]'],
      ['input-4', 'input.drugs[3]'],
    ]);
    // Each request gets its own objects; what they share is frozen.
    const warfarin = first.medications[0]!;
    const warfarinAgain = again.medications[3]!;
    expect(warfarinAgain).not.toBe(warfarin);
    expect({ ...warfarinAgain, id: warfarin.id, provenance: warfarin.provenance }).toEqual(warfarin);
    expect(Object.isFrozen(warfarinAgain.classIds)).toBe(true);
    expect(warfarinAgain.classIds.length).toBeGreaterThan(0);
  });

  it('sortSmall and sortedKey order like the default sort', () => {
    const lists = [
      [],
      ['b'],
      ['b', 'a'],
      ['a', 'b'],
      ['c', 'a', 'b'],
      ['drug:2', 'drug:10', 'class:1', 'drug:1'],
    ];
    for (const l of lists) {
      expect(sortSmall([...l])).toEqual([...l].sort());
      if (l.length) expect(sortedKey(l)).toBe([...l].sort().join('+'));
    }
  });

  it('hashId hashes the parts as if joined with U+0001', () => {
    const a = hashId(['ddi.graph', '1.0.0', 'ddi.graph:a+b', 'medications[0]']);
    expect(a).toMatch(/^[0-9a-f]{16}$/);
    expect(hashId(['ddi.graph', '1.0.0', 'ddi.graph:a+b', 'medications[0]'])).toBe(a);
    expect(hashId(['ddi.graph\u00011.0.0', 'ddi.graph:a+b', 'medications[0]'])).toBe(a);
    expect(hashId(['ddi.graph', '1.0.0', 'ddi.graph:a+b', 'medications[1]'])).not.toBe(a);
  });

  it('memoOn computes once per object and stays invisible to spreads and JSON', () => {
    let calls = 0;
    const size = memoOn((o: { items: number[] }) => {
      calls++;
      return o.items.length;
    });
    const o = { items: [1, 2, 3] };
    expect(size(o)).toBe(3);
    expect(size(o)).toBe(3);
    expect(calls).toBe(1);
    expect(JSON.stringify(o)).toBe('{"items":[1,2,3]}');
    const copy = { ...o, items: [1] };
    expect(size(copy)).toBe(1);
    expect(structuredClone(o)).toEqual({ items: [1, 2, 3] });
  });
});
