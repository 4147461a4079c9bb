import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isCdssError } from '@yijian/emr';
import { describe, expect, it } from 'vitest';
import { loadDefaultGraph } from './default-graph.js';
import { MemoryGraph } from './memory-graph.js';

const g = loadDefaultGraph();
const id = (name: string, kind?: Parameters<typeof g.findByNameSync>[1]): string => {
  const hit = g.findByNameSync(name, kind);
  if (hit.length === 0) throw new Error(`no concept named ${name}`);
  return hit[0]!.id;
};

describe('default graph content', () => {
  it('meets the size targets of the issue', () => {
    const s = g.statsSync();
    expect(s.nodes.Drug).toBeGreaterThanOrEqual(600);
    expect(s.nodes.Disease).toBeGreaterThanOrEqual(800);
    expect(s.nodes.Symptom).toBeGreaterThanOrEqual(300);
    expect(s.nodes.LabTest).toBeGreaterThanOrEqual(150);
    expect(s.edges.INTERACTS_WITH).toBeGreaterThanOrEqual(400);
    expect((s.edges.CONTRAINDICATED_IN ?? 0) + (s.edges.CAUTION_IN ?? 0)).toBeGreaterThanOrEqual(200);
    expect(s.edges.CROSS_REACTS).toBeGreaterThan(10);
  });

  it('holds the seed concepts other packages test against', () => {
    const names = [
      '华法林',
      '华法林钠',
      '华法林钠片',
      'Warfarin',
      '阿司匹林',
      '阿司匹林肠溶片',
      '拜阿司匹灵',
      'ASA',
      '氯吡格雷',
      '波立维',
      '布洛芬',
      '阿莫西林',
      '青霉素',
      '头孢曲松',
      '头孢呋辛',
      '左氧氟沙星',
      '阿托伐他汀',
      '辛伐他汀',
      '克拉霉素',
      '胺碘酮',
      '地高辛',
      '螺内酯',
      '氯化钾',
      '依那普利',
      '缬沙坦',
      '二甲双胍',
      '胰岛素',
      '甲氨蝶呤',
      '庆大霉素',
      '万古霉素',
      '呋塞米',
      '依诺肝素',
      '低分子肝素',
      '肝素',
      '硝苯地平',
      '美托洛尔',
      '奥美拉唑',
      '对乙酰氨基酚',
      '吗啡',
      '曲马多',
      '舍曲林',
      '利奈唑胺',
      '碘海醇',
      '磺胺甲噁唑',
      '高血压',
      '2型糖尿病',
      '冠心病',
      '心房颤动',
      '房颤',
      '心力衰竭',
      '慢性阻塞性肺疾病',
      '慢阻肺',
      '社区获得性肺炎',
      '消化性溃疡',
      '慢性肾脏病',
      '急性阑尾炎',
      '股骨颈骨折',
      '脑梗死',
      '哮喘',
      '妊娠',
      '发热',
      '咳嗽',
      '胸痛',
      '腹痛',
      '头晕',
      '黑便',
      '血钾',
      '肌酐',
      'INR',
      '血小板计数',
      '血红蛋白',
      '血糖',
    ];
    for (const n of names) expect(g.findByNameSync(n).length, n).toBeGreaterThan(0);
    expect(g.findByNameSync('华法林钠片')[0]!.id).toBe('drug:warfarin');
    expect(g.findByNameSync('asa')[0]!.id).toBe('drug:aspirin');
  });

  it('every drug has a source and a class, every disease an ICD-10 code', () => {
    for (const c of g.allConcepts()) {
      expect(c.source.length).toBeGreaterThan(0);
      if (c.kind === 'Drug') expect(g.ancestorsSync(c.id).length, c.id).toBeGreaterThan(0);
      if (c.kind === 'Disease')
        expect(
          c.codes.some((k) => k.system === 'ICD-10'),
          c.id,
        ).toBe(true);
    }
  });
});

describe('interactionsAmong', () => {
  it('expands the anticoagulant x antiplatelet class rule to warfarin + aspirin, with its path', () => {
    const [hit, ...rest] = g.interactionsAmongSync([id('华法林'), id('阿司匹林')]);
    expect(rest).toHaveLength(0);
    expect(hit!.severity).toBe('major');
    expect(hit!.level).toBe('class');
    expect(hit!.drugs.map((d) => d.name)).toEqual(['华法林', '阿司匹林']);
    expect(hit!.mechanism).toMatch(/抗凝/);
    const path = hit!.path.map((s) => `${s.from.name}-${s.type}->${s.to.name}`);
    expect(path).toContain('抗凝药-INTERACTS_WITH->抗血小板药');
    expect(path[0]).toBe('华法林-BELONGS_TO->维生素K拮抗剂');
    expect(path.at(-1)).toBe('阿司匹林-BELONGS_TO->抗血小板药');
    expect(hit!.ruleId).toBe('ddi:anticoagulants+antiplatelets');
  });

  it('finds the required pairs with the expected severity', () => {
    const cases: [string, string, string][] = [
      ['辛伐他汀', '克拉霉素', 'major'],
      ['阿托伐他汀', '克拉霉素', 'moderate'],
      ['螺内酯', '氯化钾', 'major'],
      ['胺碘酮', '地高辛', 'major'],
      ['华法林', '胺碘酮', 'major'],
      ['甲氨蝶呤', '布洛芬', 'major'],
      ['利奈唑胺', '舍曲林', 'major'],
    ];
    for (const [a, b, severity] of cases) {
      const found = g.interactionsAmongSync([id(a, 'Drug'), id(b, 'Drug')]);
      expect(found.length, `${a}+${b}`).toBe(1);
      expect(found[0]!.severity, `${a}+${b}`).toBe(severity);
    }
  });

  it('prefers the drug-specific rule: linezolid + sertraline names linezolid', () => {
    const [hit] = g.interactionsAmongSync([id('利奈唑胺'), id('舍曲林')]);
    expect(hit!.ruleId).toMatch(/^ddi:linezolid\+/);
    expect(hit!.path[0]!.from.name).toBe('利奈唑胺');
  });

  it('reports each unordered pair once, most severe first, and ignores unknown ids', () => {
    const drugs = ['华法林', '阿司匹林', '奥美拉唑', '氯吡格雷', '布洛芬'].map((n) => id(n, 'Drug'));
    const all = g.interactionsAmongSync([...drugs, 'drug:nope', drugs[0]!]);
    const keys = all.map((i) => [i.drugs[0].id, i.drugs[1].id].sort().join('|'));
    expect(new Set(keys).size).toBe(keys.length);
    const ranks = all.map((i) => ({ major: 3, moderate: 2, minor: 1 })[i.severity]);
    expect([...ranks].sort((a, b) => b - a)).toEqual(ranks);
    expect(keys).toContain([id('氯吡格雷'), id('奥美拉唑')].sort().join('|'));
  });

  it('returns nothing for drugs without an interaction', () => {
    expect(g.interactionsAmongSync([id('阿莫西林'), id('氨溴索')])).toEqual([]);
  });
});

describe('contraindicationsOf', () => {
  it('matches NSAIDs against peptic ulcer through IS_A (胃溃疡 -> 消化性溃疡)', () => {
    const out = g.contraindicationsOfSync([id('布洛芬')], [id('胃溃疡')]);
    expect(out).toHaveLength(1);
    expect(out[0]!.relation).toBe('CONTRAINDICATED_IN');
    expect(out[0]!.condition.name).toBe('胃溃疡');
    const path = out[0]!.path.map((s) => `${s.from.name}-${s.type}->${s.to.name}`);
    expect(path.at(-1)).toBe('胃溃疡-IS_A->消化性溃疡');
    expect(path).toContain('非甾体抗炎药-CONTRAINDICATED_IN->消化性溃疡');
  });

  it('flags metformin as a caution in CKD stage 3 and a contraindication in stage 5', () => {
    const ckd3 = g.contraindicationsOfSync([id('二甲双胍')], [id('慢性肾脏病3期')]);
    expect(ckd3[0]!.relation).toBe('CAUTION_IN');
    const ckd = g.contraindicationsOfSync([id('二甲双胍')], [id('慢性肾脏病')]);
    expect(ckd[0]!.relation).toBe('CAUTION_IN');
    const ckd5 = g.contraindicationsOfSync([id('二甲双胍')], [id('尿毒症')]);
    expect(ckd5[0]!.relation).toBe('CONTRAINDICATED_IN');
  });
});

describe('allergyConflicts', () => {
  it('penicillin allergy: amoxicillin is a direct (class) conflict, ceftriaxone cross-reactive moderate', () => {
    const out = g.allergyConflictsSync([id('青霉素')], [id('阿莫西林'), id('头孢曲松'), id('阿奇霉素')]);
    expect(out.map((c) => [c.drug.name, c.kind, c.severity])).toEqual([
      ['阿莫西林', 'direct', 'major'],
      ['头孢曲松', 'cross-reactive', 'moderate'],
    ]);
    expect(out[0]!.path.map((s) => s.to.name)).toContain('青霉素类');
    expect(out[1]!.path.some((s) => s.type === 'CROSS_REACTS')).toBe(true);
  });

  it('accepts a class as the allergen', () => {
    const out = g.allergyConflictsSync([id('头孢菌素类')], [id('头孢呋辛')]);
    expect(out[0]!.kind).toBe('direct');
  });

  it('same drug is a direct conflict', () => {
    expect(g.allergyConflictsSync([id('布洛芬')], [id('布洛芬')])[0]!.kind).toBe('direct');
  });
});

describe('codes and hierarchy', () => {
  it('finds concepts by code with case-insensitive prefix fallback for ICD', () => {
    expect(g.conceptByCodeSync('ICD-10', 'I10')!.name).toBe('高血压');
    expect(g.conceptByCodeSync('ICD-10-YB2.0', 'I10.x00x002')!.name).toBe('高血压');
    expect(g.conceptByCodeSync('ICD-10', 'E11.900')!.name).toBe('2型糖尿病');
    expect(g.conceptByCodeSync('ATC', 'B01AA03')!.name).toBe('华法林');
    expect(g.conceptByCodeSync('ATC', 'Z99')).toBeUndefined();
    expect(g.codesOfSync(id('华法林'))).toEqual([{ system: 'ATC', code: 'B01AA03' }]);
  });

  it('walks ancestors and descendants', () => {
    const anc = g.ancestorsSync(id('华法林')).map((c) => c.name);
    expect(anc).toContain('抗凝药');
    expect(g.descendantsSync('class:penicillins').map((c) => c.name)).toContain('阿莫西林');
    expect(g.isA(id('2型糖尿病'), id('糖尿病'))).toBe(true);
  });

  it('lists neighbours by type and direction', () => {
    const out = g.neighboursSync(id('华法林'), { type: 'BELONGS_TO', direction: 'out' });
    expect(out.map((n) => n.concept.name)).toContain('维生素K拮抗剂');
    const inn = g.neighboursSync('class:vka', { type: 'BELONGS_TO', direction: 'in' });
    expect(inn.map((n) => n.concept.name)).toContain('华法林');
  });

  it('exposes the lexicon for NER', () => {
    const lex = g.lexicon();
    expect(lex.find((e) => e.term === '波立维')).toEqual({
      term: '波立维',
      kind: 'Drug',
      conceptId: 'drug:clopidogrel',
    });
  });
});

describe('loading', () => {
  it('names file and line of a bad record', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kg-'));
    mkdirSync(join(dir, 'nodes'));
    writeFileSync(
      join(dir, 'nodes', 'a.jsonl'),
      '{"id":"x","kind":"Drug","name":"X","source":"s"}\n{"id":"y","kind":"Nope","name":"Y","source":"s"}\n',
    );
    try {
      MemoryGraph.fromDirectory(dir);
      expect.unreachable();
    } catch (e) {
      expect(isCdssError(e) && e.code).toBe('CDSS_ERR_INVALID_DATA');
      expect((e as Error).message).toContain('a.jsonl:2');
      expect((e as Error).message).toContain('kind');
    }
  });

  it('rejects unknown keys and unknown edge ends', () => {
    expect(() =>
      MemoryGraph.fromData({
        nodes: [{ id: 'a', kind: 'Drug', name: 'A', source: 's', extra: 1 } as never],
        edges: [],
      }),
    ).toThrow(/invalid node/);
    expect(() =>
      MemoryGraph.fromData({
        nodes: [{ id: 'a', kind: 'Drug', name: 'A', synonyms: [], codes: [], props: {}, source: 's' }],
        edges: [{ type: 'IS_A', from: 'a', to: 'b', props: {}, source: 's' }],
      }),
    ).toThrow(/unknown node b/);
  });

  it('round-trips through a snapshot', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kg-'));
    const file = join(dir, 'graph.json');
    writeFileSync(file, g.toSnapshot());
    const back = MemoryGraph.load(file);
    expect(back.statsSync()).toEqual(g.statsSync());
  });
});
