import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadDefaultGraph } from '../default-graph.js';
import { MemoryGraph } from '../memory-graph.js';
import { sharedDir } from '../shared-dir.js';
import { exportCsv, importEdgesCsv, importNodesCsv, parseCsv } from './csv.js';
import { importDdinter } from './ddinter.js';
import { writeGraphDirectory, writeSnapshotFile } from './files.js';
import { importIcdTable } from './icd.js';
import { importXywy, readXywyDirectory, toXywyDisease } from './xywy.js';

const shared = sharedDir();
const kgData = shared ? join(shared, 'kg-data') : undefined;
if (!kgData)
  console.warn('[knowledge-graph] ../shared not found: importer tests on the shared data sets are skipped');

describe('CSV', () => {
  it('parses quotes, doubled quotes and CRLF', () => {
    expect(parseCsv('a,b\r\n"x, y","say ""hi"""\n')).toEqual([
      ['a', 'b'],
      ['x, y', 'say "hi"'],
    ]);
  });

  it('round-trips the default graph through node and edge CSV', () => {
    const g = loadDefaultGraph();
    const { nodes, edges } = exportCsv(g.toData());
    const back = MemoryGraph.fromData({ nodes: importNodesCsv(nodes), edges: importEdgesCsv(edges) });
    expect(back.statsSync()).toEqual(g.statsSync());
    expect(back.getConcept('drug:warfarin')).toEqual(g.getConcept('drug:warfarin'));
  });

  it('names the line of a bad row and rejects unknown columns', () => {
    expect(() => importNodesCsv('id,kind,name\na,Nope,A\n')).toThrow(/nodes.csv:2: unknown kind/);
    expect(() => importNodesCsv('id,kind,name,colour\n')).toThrow(/unknown column/);
    expect(() => importEdgesCsv('type,from,to\nIS_A,a\n')).toThrow(/edges.csv:2/);
  });
});

describe('JSONL directory and snapshot export', () => {
  it('writes what MemoryGraph reads back', () => {
    const g = loadDefaultGraph();
    const dir = mkdtempSync(join(tmpdir(), 'kg-export-'));
    writeGraphDirectory(g, dir);
    expect(MemoryGraph.fromDirectory(dir).statsSync()).toEqual(g.statsSync());
    const file = join(dir, 'graph.snapshot.json');
    writeSnapshotFile(g, file);
    const back = MemoryGraph.fromSnapshot(file);
    expect(back.interactionsAmongSync(['drug:warfarin', 'drug:aspirin'])).toEqual(
      g.interactionsAmongSync(['drug:warfarin', 'drug:aspirin']),
    );
  });
});

describe('ICD tables', () => {
  const sample =
    'code,name\nA00.000,霍乱\nA00.000x001,古典生物型霍乱\nI10.x00,原发性高血压\nI10.x00x002,高血压1级\nI10.x10,高血压急症\n';

  it('imports code,name rows with the hierarchy of extensions', () => {
    const data = importIcdTable(sample, {
      system: 'ICD-10-YB2.0',
      kind: 'Disease',
      idPrefix: 'icd10yb',
      source: '医保版2.0',
    });
    const g = MemoryGraph.fromData(data);
    expect(g.conceptByCodeSync('ICD-10-YB2.0', 'I10.X00X002')!.name).toBe('高血压1级');
    expect(g.ancestorsSync('icd10yb:I10.x00x002').map((c) => c.name)).toEqual(['原发性高血压']);
    expect(g.ancestorsSync('icd10yb:A00.000x001').map((c) => c.name)).toEqual(['霍乱']);
  });

  it.skipIf(!kgData)('imports the full 医保版 2.0 diagnosis and operation tables', () => {
    const dx = importIcdTable(
      readFileSync(join(kgData!, 'icd-chs-yb2.0/icd10_yb2.0_diagnosis.csv'), 'utf8'),
      {
        system: 'ICD-10-YB2.0',
        kind: 'Disease',
        idPrefix: 'icd10yb',
        source: '医保版2.0',
      },
    );
    expect(dx.nodes.length).toBeGreaterThan(30_000);
    const ops = importIcdTable(
      readFileSync(join(kgData!, 'icd-chs-yb2.0/icd9cm3_yb2.0_operation.csv'), 'utf8'),
      {
        system: 'ICD-9-CM-3',
        kind: 'Procedure',
        idPrefix: 'icd9',
        source: '医保版2.0',
      },
    );
    expect(ops.nodes.length).toBeGreaterThan(13_000);
    const g = MemoryGraph.fromData({
      nodes: [...dx.nodes, ...ops.nodes],
      edges: [...dx.edges, ...ops.edges],
    });
    expect(g.conceptByCodeSync('ICD-10-YB2.0', 'I10.x00')?.kind).toBe('Disease');
  });

  // Every ICD-10 code in the curated seed must exist in the 医保版 2.0 table (as a code or the prefix of one),
  // or in the 国临版 2.0 crosswalk.
  it.skipIf(!kgData)('every ICD-10 code of the seed graph exists in the national tables', () => {
    const known = new Set<string>();
    for (const f of ['icd10_yb2.0_diagnosis.csv', 'icd10_gl2.0_to_yb2.0_map.csv']) {
      for (const row of parseCsv(readFileSync(join(kgData!, 'icd-chs-yb2.0', f), 'utf8')).slice(1)) {
        const code = row[0]!.toUpperCase();
        for (let len = 3; len <= code.length; len++) known.add(code.slice(0, len));
      }
    }
    const missing: string[] = [];
    let checked = 0;
    for (const c of loadDefaultGraph().allConcepts()) {
      for (const k of c.codes) {
        if (k.system !== 'ICD-10') continue;
        checked++;
        if (!known.has(k.code.toUpperCase())) missing.push(`${k.code} ${c.name}`);
      }
    }
    expect(checked).toBeGreaterThanOrEqual(800);
    expect(missing).toEqual([]);
  });
});

describe('xywy disease graph', () => {
  it('imports raw and compact records', () => {
    const raw = toXywyDisease({
      gaishu_info: {
        name: '百日咳',
        belongs_to_department: ['儿科'],
        has_complication: ['肺不张'],
        common_drug: ['阿奇霉素'],
      },
      symptom_data: { symptoms: ['痉挛性咳嗽'] },
      inspect_info: ['血常规'],
    })!;
    const data = importXywy([raw, { name: '肺不张', symptoms: ['呼吸困难'] }]);
    const g = MemoryGraph.fromData(data);
    expect(
      g
        .neighboursSync('xywy:disease:百日咳', { direction: 'out' })
        .map((n) => n.edge.type)
        .sort(),
    ).toEqual(['HAS_COMPLICATION', 'HAS_SYMPTOM', 'NEEDS_TEST', 'TREATED_IN']);
    expect(g.neighboursSync('xywy:drug:阿奇霉素', { type: 'INDICATED_FOR' })[0]!.concept.name).toBe('百日咳');
  });

  it.skipIf(!kgData)('imports the 8.8k-disease xywy graph from ../shared', () => {
    const diseases = readXywyDirectory(join(kgData!, 'medicalkgqa-xywy-json'));
    expect(diseases.length).toBeGreaterThan(8_000);
    const g = MemoryGraph.fromData(importXywy(diseases));
    expect(g.statsSync().edges.HAS_SYMPTOM).toBeGreaterThan(50_000);
  });
});

describe('DDInter', () => {
  const sample =
    'DDInterID_A,Drug_A,DDInterID_B,Drug_B,Level\nDDInter1,Warfarin,DDInter2,Amiodarone,Major\nDDInter1,Warfarin,DDInter3,Zzzmab,Minor\nDDInter4,Abc,DDInter5,Xyz,Unknown\n';

  it('imports pairs, maps English names onto curated drugs and skips Unknown', () => {
    const data = importDdinter(sample, { linkTo: loadDefaultGraph() });
    expect(data.mapped).toBe(1);
    expect(data.edges).toHaveLength(2);
    expect(data.edges[0]).toMatchObject({
      from: 'drug:amiodarone',
      to: 'drug:warfarin',
      props: { severity: 'major' },
    });
    expect(data.nodes.map((n) => n.id)).toEqual(['ddinter:DDInter3']);
    expect(importDdinter(sample, { linkTo: loadDefaultGraph(), onlyKnown: true }).edges).toHaveLength(1);
  });

  it.skipIf(!kgData)('imports the deduplicated DDInter pairs from ../shared onto the curated drugs', () => {
    const text = readFileSync(join(kgData!, 'ddinter/ddinter_pairs_dedup.csv'), 'utf8');
    const data = importDdinter(text, { linkTo: loadDefaultGraph(), onlyKnown: true });
    expect(data.mapped).toBeGreaterThan(5_000);
    const g = MemoryGraph.fromData({ nodes: [...loadDefaultGraph().allConcepts()], edges: data.edges });
    expect(g.interactionsAmongSync(['drug:warfarin', 'drug:amiodarone'])[0]?.severity).toBe('major');
  });
});
