import { type PatientRecordInput, parseRecord } from '@yijian/emr';
import { createLinker } from '@yijian/knowledge-graph';
import { createAnnotator, createLexiconTagger, type LexiconEntry } from '@yijian/ner';
import { describe, expect, it } from 'vitest';
import { buildFacts, buildFactsFromLists, createRuleEngine } from './index.js';
import { fixtureGraph } from './testing/fixture-graph.js';

const graph = fixtureGraph();
const linker = createLinker(graph);
const engine = createRuleEngine({ graph });
const check = async (input: Parameters<typeof buildFactsFromLists>[0]) =>
  engine.evaluate(await buildFactsFromLists(input, { graph, linker }));

describe('dose range', () => {
  it('flags single and daily overdoses, tenfold slips as critical', async () => {
    const over = await check({ drugs: ['阿莫西林 1500mg po tid'], age: 40 });
    const a = over.find((x) => x.category === 'dose');
    expect(a?.severity).toBe('warning');
    expect(a?.summary).toContain('单次剂量');
    const tenfold = await check({ drugs: ['华法林 25mg po qd'], age: 40 });
    expect(tenfold.find((x) => x.category === 'dose')?.severity).toBe('critical');
    expect(await check({ drugs: ['阿莫西林 500mg po tid'], age: 40 })).toEqual([]);
  });

  it('catches daily methotrexate (a weekly drug)', async () => {
    const a = (await check({ drugs: ['甲氨蝶呤 10mg po qd'] })).find((x) => x.category === 'dose');
    expect(a?.severity).toBe('critical');
    expect(a?.summary).toContain('每周');
    expect((await check({ drugs: ['甲氨蝶呤 10mg po qw'] })).filter((x) => x.category === 'dose')).toEqual(
      [],
    );
  });

  it('uses mg/kg limits for children and eGFR bands for renal adjustment', async () => {
    const child = await check({ drugs: ['对乙酰氨基酚 500mg po q6h'], age: 4, weightKg: 16 });
    expect(child.find((x) => x.category === 'dose')?.summary).toMatch(/儿童/);
    const renal = await check({ drugs: ['二甲双胍 500mg po bid'], egfr: 25, age: 70 });
    expect(renal.some((x) => x.category === 'dose' && x.severity === 'critical')).toBe(true);
    expect(renal.some((x) => x.ruleId === 'lab.metformin-low-egfr')).toBe(true);
    const ok = await check({ drugs: ['二甲双胍 500mg po bid'], egfr: 80, age: 50 });
    expect(ok).toEqual([]);
  });
});

describe('duplicate therapy', () => {
  it('flags two PPIs and the same ingredient twice, not a one-off extra dose', async () => {
    const ppis = await check({ drugs: ['奥美拉唑', '泮托拉唑'] });
    expect(ppis.find((a) => a.category === 'duplicate')?.summary).toContain('质子泵抑制剂');
    const r: PatientRecordInput = {
      id: 'r',
      patient: { id: 'p', sex: 'female', birthDate: '1970-01-01' },
      encounter: { id: 'e', admissionTime: '2025-01-01 08:00', department: '消化内科' },
      medications: [
        {
          id: 'm1',
          drugName: '奥美拉唑肠溶胶囊',
          dose: 20,
          doseUnit: 'mg',
          route: 'po',
          frequency: 'qd',
          startTime: '2025-01-01 09:00',
          kind: 'long-term',
        },
        {
          id: 'm2',
          drugName: '奥美拉唑',
          dose: 40,
          doseUnit: 'mg',
          route: 'iv',
          frequency: 'q12h',
          startTime: '2025-01-01 10:00',
          kind: 'long-term',
        },
        {
          id: 'm3',
          drugName: '奥美拉唑',
          dose: 40,
          doseUnit: 'mg',
          route: 'iv',
          frequency: 'st',
          startTime: '2025-01-01 10:00',
          kind: 'once',
        },
      ],
    };
    const alerts = await engine.evaluate(await buildFacts(parseRecord(r), { graph, linker }));
    const dup = alerts.filter((a) => a.category === 'duplicate');
    expect(dup).toHaveLength(1);
    expect(dup[0]!.evidence.map((e) => e.ref).sort()).toEqual(['m1', 'm2']);
  });
});

describe('pregnancy, lactation, elderly, pediatric', () => {
  it('warfarin in pregnancy is critical; in a non-pregnant woman nothing', async () => {
    expect(
      (await check({ drugs: ['华法林'], sex: 'female', pregnant: true })).find(
        (a) => a.category === 'pregnancy',
      )?.severity,
    ).toBe('critical');
    expect(
      (await check({ drugs: ['华法林'], sex: 'female', conditions: ['妊娠'] })).some(
        (a) => a.category === 'pregnancy',
      ),
    ).toBe(true);
    expect(await check({ drugs: ['华法林'], sex: 'female', age: 30 })).toEqual([]);
  });

  it('Beers-style warnings are passive and only for 65+', async () => {
    const old = (await check({ drugs: ['地西泮'], age: 80 })).find((a) => a.category === 'elderly');
    expect(old).toMatchObject({ severity: 'warning', presentation: 'passive' });
    expect(await check({ drugs: ['地西泮'], age: 40 })).toEqual([]);
  });

  it('aspirin under 16', async () => {
    expect((await check({ drugs: ['阿司匹林'], age: 10 })).some((a) => a.category === 'pediatric')).toBe(
      true,
    );
  });
});

describe('lab-aware checks and critical values', () => {
  it('K+ high with spironolactone; critical potassium', async () => {
    const alerts = await check({ drugs: ['螺内酯'], labs: [{ item: '血钾', value: 5.9, unit: 'mmol/L' }] });
    expect(alerts.find((a) => a.ruleId === 'lab.hyperkalaemia-potassium-raising')?.severity).toBe('critical');
    const crit = await check({ drugs: ['氨氯地平'], labs: [{ item: 'K+', value: 6.8, unit: 'mmol/L' }] });
    const cv = crit.find((a) => a.category === 'critical-value');
    expect(cv?.severity).toBe('critical');
    expect(cv?.summary).toContain('血钾');
  });

  it('INR high with warfarin; platelets low with anticoagulants', async () => {
    const inr = await check({ drugs: ['华法林'], labs: [{ item: 'INR', value: 3.6 }] });
    expect(inr.find((a) => a.ruleId === 'lab.inr-high-warfarin')?.severity).toBe('warning');
    const plt = await check({
      drugs: ['依诺肝素'],
      labs: [{ item: '血小板计数', value: 35, unit: '×10^9/L' }],
    });
    expect(plt.some((a) => a.ruleId === 'lab.thrombocytopenia-antithrombotic')).toBe(true);
  });
});

describe('facts from text (context-aware mentions)', () => {
  const lexicon: LexiconEntry[] = graph.lexicon().flatMap((e) => {
    const type =
      e.kind === 'Drug' || e.kind === 'DrugClass' ? 'drug' : e.kind === 'Disease' ? 'disease' : undefined;
    return type ? [{ term: e.term, type, conceptId: e.conceptId } as LexiconEntry] : [];
  });
  const annotator = createAnnotator({ taggers: [createLexiconTagger(lexicon)] });
  const base = (text: string): PatientRecordInput => ({
    id: 'r',
    patient: { id: 'p', sex: 'male', birthDate: '1960-05-01' },
    encounter: { id: 'e', admissionTime: '2025-06-01 08:00', department: '骨科' },
    documents: [{ id: 'doc-1', type: '入院记录', createdTime: '2025-06-01 10:00', text }],
    medications: [
      {
        id: 'med-1',
        drugName: '布洛芬缓释胶囊',
        dose: 300,
        doseUnit: 'mg',
        route: 'po',
        frequency: 'bid',
        startTime: '2025-06-01 12:00',
        kind: 'long-term',
      },
      {
        id: 'med-2',
        drugName: '阿莫西林胶囊',
        dose: 500,
        doseUnit: 'mg',
        route: 'po',
        frequency: 'tid',
        startTime: '2025-06-01 12:00',
        kind: 'long-term',
      },
    ],
  });
  const run = async (text: string) => {
    const r = parseRecord(base(text));
    const annotation = await annotator.annotate(text);
    const facts = await buildFacts(r, { graph, linker, annotations: [{ documentId: 'doc-1', annotation }] });
    return { facts, alerts: await engine.evaluate(facts) };
  };

  it('a history of duodenal ulcer with an NSAID is a warning with the text span', async () => {
    const text = '既往史：十二指肠球部溃疡病史5年。否认高血压病史。';
    const { alerts } = await run(text);
    const a = alerts.find((x) => x.category === 'drug-disease');
    expect(a?.severity).toBe('warning');
    const span = a!.evidence.find((e) => e.kind === 'text')!.span!;
    expect(text.slice(span.start, span.end)).toBe('十二指肠球部溃疡');
  });

  it('a whole-stay review pairs a drug with a condition only while the condition was documented', async () => {
    const record = (ibuprofenStart: string): PatientRecordInput => ({
      id: 'r',
      patient: { id: 'p', sex: 'male', birthDate: '1960-05-01' },
      encounter: {
        id: 'e',
        admissionTime: '2025-06-01 08:00',
        dischargeTime: '2025-06-20 10:00',
        department: '消化内科',
      },
      diagnoses: [{ name: '消化性溃疡', type: 'discharge' }],
      documents: [
        {
          id: 'doc-1',
          type: '入院记录',
          createdTime: '2025-06-01 10:00',
          text: '现病史：诊断消化性溃疡，予抑酸治疗。',
        },
        { id: 'doc-2', type: '出院记录', createdTime: '2025-06-20 09:00', text: '出院诊断：消化性溃疡。' },
      ],
      medications: [
        {
          id: 'med-1',
          drugName: '布洛芬',
          dose: 200,
          doseUnit: 'mg',
          route: 'po',
          frequency: 'bid',
          startTime: ibuprofenStart,
          stopTime: '2025-06-20 10:00',
          kind: 'long-term',
        },
      ],
    });
    const run = async (start: string) => {
      const r = parseRecord(record(start));
      const annotations = await Promise.all(
        r.documents.map(async (d) => ({ documentId: d.id, annotation: await annotator.annotate(d.text) })),
      );
      return (await engine.evaluate(await buildFacts(r, { graph, linker, annotations }))).filter(
        (a) => a.category === 'drug-disease',
      );
    };
    expect(await run('2025-06-02 08:00')).toHaveLength(1);
    // Documented on 06-01 only (the discharge summary carries no time): a drug from 06-15 is not paired.
    expect(await run('2025-06-15 08:00')).toHaveLength(0);
  });

  it('negated history and allergy do not count; 青霉素过敏史 does', async () => {
    const negated = await run('既往史：否认消化性溃疡病史，否认药物过敏史。');
    expect(negated.alerts.filter((a) => a.category === 'drug-disease' || a.category === 'allergy')).toEqual(
      [],
    );
    const allergic = await run('过敏史：青霉素过敏史，表现为皮疹。');
    expect(allergic.facts.allergies.map((x) => x.conceptName)).toContain('青霉素');
    expect(allergic.alerts.find((a) => a.category === 'allergy')?.severity).toBe('critical');
  });
});

describe('drug properties from the graph', () => {
  it('fills gaps of the curated lists without repeating them', async () => {
    const alerts = await check({ drugs: ['华法林', '波生坦'], sex: 'female', pregnant: true });
    const preg = alerts.filter((a) => a.category === 'pregnancy');
    expect(preg.map((a) => a.ruleId).sort()).toEqual([
      'graph-property.pregnancy',
      'pregnancy.contraindicated',
    ]);
    expect(preg.find((a) => a.ruleId === 'graph-property.pregnancy')?.summary).toContain('波生坦');
  });

  it('uses graph dose limits for drugs without a curated entry', async () => {
    const a = (await check({ drugs: ['氨氯地平 20mg po qd'] })).find((x) => x.category === 'dose');
    expect(a?.severity).toBe('critical');
    expect(await check({ drugs: ['氨氯地平 5mg po qd'] })).toEqual([]);
  });
});

describe('lab trends', () => {
  it('creatinine rising by KDIGO criteria with an NSAID', async () => {
    const r = parseRecord({
      id: 'r',
      patient: { id: 'p', sex: 'male', birthDate: '1950-01-01' },
      encounter: { id: 'e', admissionTime: '2025-01-01 08:00', department: '肾内科' },
      medications: [
        {
          id: 'm1',
          drugName: '布洛芬',
          dose: 200,
          doseUnit: 'mg',
          route: 'po',
          frequency: 'tid',
          startTime: '2025-01-01 09:00',
          kind: 'long-term',
        },
      ],
      labs: [
        { id: 'l1', item: '肌酐', value: 88, unit: 'μmol/L', time: '2025-01-01 08:30' },
        { id: 'l2', item: 'Cr', value: 1.6, unit: 'mg/dL', time: '2025-01-02 08:30' },
      ],
    });
    const alerts = await engine.evaluate(await buildFacts(r, { graph, linker }));
    const aki = alerts.find((a) => a.ruleId === 'lab.aki-nephrotoxic');
    expect(aki?.summary).toContain('88');
    expect(aki?.evidence.map((e) => e.ref)).toEqual(expect.arrayContaining(['l1', 'l2', 'm1']));
  });
});

describe('cautions', () => {
  it('a moderate 慎用 is passive info; a contraindication stays critical', async () => {
    const caution = (await check({ drugs: ['二甲双胍'], conditions: ['慢性肾脏病'] })).find(
      (a) => a.category === 'drug-disease',
    );
    expect(caution).toMatchObject({ severity: 'info', presentation: 'passive' });
    expect(caution?.overrideReasons).toBeUndefined();
  });
});
