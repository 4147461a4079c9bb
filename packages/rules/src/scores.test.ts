import { type PatientRecordInput, parseRecord } from '@yijian/emr';
import { createLinker } from '@yijian/knowledge-graph';
import { describe, expect, it } from 'vitest';
import {
  buildFacts,
  caprini,
  computeScores,
  createRuleEngine,
  curb65,
  morse,
  news2,
  padua,
  qsofa,
} from './index.js';
import { fixtureGraph } from './testing/fixture-graph.js';

const graph = fixtureGraph();
const linker = createLinker(graph);
const engine = createRuleEngine({ graph });

function rec(over: Partial<PatientRecordInput>): PatientRecordInput {
  return {
    id: 'r',
    patient: { id: 'p', sex: 'male', birthDate: '1948-02-01', weightKg: 80, heightCm: 170 },
    encounter: { id: 'e', admissionTime: '2025-06-01 08:00', department: '呼吸内科' },
    ...over,
  };
}
const vitals = (t: string, v: Record<string, number | string>, onOxygen = false) =>
  Object.entries(v).map(([kind, value]) => ({
    kind: kind as never,
    value,
    time: t,
    ...(onOxygen ? { onOxygen } : {}),
  }));

describe('risk scores', () => {
  it('NEWS2 adds each parameter and recommends an emergency response at >= 7', async () => {
    const r = parseRecord(
      rec({
        vitals: vitals(
          '2025-06-01 09:00',
          { respiratoryRate: 26, spo2: 91, systolicBP: 95, heartRate: 118, temperature: 38.6 },
          true,
        ),
        documents: [
          { id: 'd1', type: '首次病程记录', createdTime: '2025-06-01 09:30', text: '患者神志清楚，精神差。' },
        ],
      }),
    );
    const facts = await buildFacts(r, { graph, linker });
    const s = news2(facts);
    // RR 26 → 3, SpO2 91 → 3, O2 → 2, SBP 95 → 2, HR 118 → 2, T 38.6 → 1
    expect(s.total).toBe(13);
    expect(s.band).toBe('高危');
    expect(s.items.map((i) => i.points)).toEqual([3, 3, 2, 2, 1, 2]);
    const alert = (await engine.evaluate(facts)).find((a) => a.ruleId === 'score.news2');
    expect(alert?.severity).toBe('critical');
    expect(alert?.detail).toContain('| 呼吸频率 26次/分 | 3 |');
    expect(alert?.summary).toContain('紧急响应');
  });

  it('qSOFA and CURB-65 from vitals, labs and text', async () => {
    const r = parseRecord(
      rec({
        diagnoses: [{ name: '社区获得性肺炎', type: 'admission' }],
        vitals: vitals('2025-06-01 09:00', { respiratoryRate: 32, systolicBP: 88, diastolicBP: 50 }),
        labs: [{ id: 'l1', item: '尿素', value: 9.2, unit: 'mmol/L', time: '2025-06-01 09:10' }],
        documents: [
          { id: 'd1', type: '入院记录', createdTime: '2025-06-01 10:00', text: '患者意识模糊，呼之可应。' },
        ],
      }),
    );
    const facts = await buildFacts(r, { graph, linker });
    expect(qsofa(facts).total).toBe(3);
    const c = curb65(facts)!;
    expect(c.total).toBe(5);
    expect(c.severity).toBe('critical');
    expect(c.items.find((i) => i.label.startsWith('尿素'))?.evidence[0]?.ref).toBe('l1');
    const ids = (await engine.evaluate(facts)).map((a) => a.ruleId);
    expect(ids).toEqual(expect.arrayContaining(['score.qsofa', 'score.curb65', 'score.news2']));
  });

  it('Caprini for a hip fracture operation recommends prophylaxis; silent once an anticoagulant is ordered', async () => {
    const base = rec({
      encounter: { id: 'e', admissionTime: '2025-06-01 08:00', department: '骨科' },
      diagnoses: [{ name: '股骨颈骨折', type: 'admission' }],
      procedures: [{ name: '人工髋关节置换术', time: '2025-06-02 10:00' }],
    });
    const facts = await buildFacts(parseRecord(base), { graph, linker });
    const s = caprini(facts);
    expect(s.total).toBeGreaterThanOrEqual(12); // age 77 → 3, arthroplasty 5, hip fracture 5
    expect(s.band).toBe('高危');
    expect(s.action).toContain('低分子肝素');
    expect((await engine.evaluate(facts)).some((a) => a.ruleId === 'score.caprini')).toBe(true);
    const withLmwh = await buildFacts(
      parseRecord({
        ...base,
        medications: [
          {
            id: 'm',
            drugName: '依诺肝素',
            dose: 40,
            doseUnit: 'mg',
            route: 'ih',
            frequency: 'qd',
            startTime: '2025-06-02 20:00',
            kind: 'long-term',
          },
        ],
      }),
      { graph, linker },
    );
    expect((await engine.evaluate(withLmwh)).some((a) => a.ruleId === 'score.caprini')).toBe(false);
  });

  it('Padua for medical patients; Morse with a negated fall history', async () => {
    const r = parseRecord(
      rec({
        diagnoses: [
          { name: '肺癌', type: 'admission' },
          { name: '心力衰竭', type: 'secondary' },
        ],
        documents: [
          { id: 'd1', type: '入院记录', createdTime: '2025-06-01 10:00', text: '长期卧床。无跌倒史。' },
        ],
      }),
    );
    const facts = await buildFacts(r, { graph, linker });
    const p = padua(facts);
    expect(p.items.map((i) => i.label)).toEqual(
      expect.arrayContaining(['活动性恶性肿瘤', '活动减少（卧床 ≥3 天）', '心力衰竭和/或呼吸衰竭']),
    );
    expect(p.alert).toBe(true);
    const m = morse(facts);
    expect(m.items.some((i) => i.label === '跌倒史')).toBe(false);
    expect(computeScores(facts).map((s) => s.score)).toEqual(['padua', 'morse', 'braden', 'qsofa', 'news2']);
  });

  it('uses a documented Braden score', async () => {
    const r = parseRecord(
      rec({
        documents: [
          {
            id: 'd1',
            type: '护理记录',
            createdTime: '2025-06-01 10:00',
            text: 'Braden评分：11分，予气垫床。',
          },
        ],
      }),
    );
    const facts = await buildFacts(r, { graph, linker });
    const a = (await engine.evaluate(facts)).find((x) => x.ruleId === 'score.braden');
    expect(a?.summary).toContain('11 分');
  });
});

describe('risk scores over time and without over-counting', () => {
  const septic = (over: Partial<PatientRecordInput> = {}) =>
    rec({
      encounter: {
        id: 'e',
        admissionTime: '2025-06-01 08:00',
        dischargeTime: '2025-06-10 10:00',
        department: '呼吸内科',
      },
      diagnoses: [{ name: '社区获得性肺炎', type: 'admission' }],
      vitals: [
        ...vitals('2025-06-01 09:00', {
          respiratoryRate: 30,
          systolicBP: 86,
          diastolicBP: 50,
          heartRate: 120,
          temperature: 39.2,
          spo2: 92,
          consciousness: '嗜睡',
        }),
        ...vitals('2025-06-09 09:00', {
          respiratoryRate: 16,
          systolicBP: 124,
          diastolicBP: 76,
          heartRate: 78,
          temperature: 36.6,
          spo2: 97,
          consciousness: '清醒',
        }),
      ],
      ...over,
    });

  it('whole-stay review (discharged, no `at`): scores at admission from the admission data, with their time', async () => {
    const facts = await buildFacts(parseRecord(septic()), { graph, linker });
    expect(facts.evaluation.mode).toBe('stay');
    const alerts = (await engine.evaluate(facts)).filter((a) => a.category === 'risk-score');
    const n = alerts.find((a) => a.ruleId === 'score.news2');
    expect(n?.severity).toBe('critical');
    expect(n?.summary).toContain('入院评估');
    expect(n?.detail).toContain('2025-06-01 08:00');
    // The day-9 observations (normal) are not what the admission assessment used.
    expect(n?.evidence.every((e) => !e.text.includes('2025-06-09'))).toBe(true);
    expect(alerts.map((a) => a.ruleId)).toEqual(expect.arrayContaining(['score.qsofa', 'score.curb65']));
  });

  it('patient view (point mode): bedside scores from the last 24 hours only', async () => {
    const record = parseRecord(septic());
    const early = await buildFacts(record, { graph, linker, at: '2025-06-01 12:00' });
    const ids = (await engine.evaluate(early)).map((a) => a.ruleId);
    expect(ids).toEqual(expect.arrayContaining(['score.news2', 'score.qsofa']));
    const late = await buildFacts(record, { graph, linker, at: '2025-06-09 12:00' });
    const lateIds = (await engine.evaluate(late)).map((a) => a.ruleId);
    // Day 1's 嗜睡 and BP 86/50 are eight days old: no NEWS2, qSOFA or CURB-65 now.
    expect(lateIds.filter((id) => /news2|qsofa|curb65/.test(id))).toEqual([]);
  });

  it('Caprini: an operation under topical or local anaesthesia scores no surgery item', async () => {
    const cataract = rec({
      patient: { id: 'p', sex: 'male', birthDate: '1954-06-06', weightKg: 64, heightCm: 166 },
      encounter: { id: 'e', admissionTime: '2025-12-01 08:30', department: '眼科' },
      diagnoses: [{ name: '老年性白内障', type: 'admission' }],
      procedures: [{ name: '白内障超声乳化抽吸术', time: '2025-12-02 09:00' }],
      frontPage: { procedures: [{ name: '白内障超声乳化抽吸术', anesthesiaMethod: '表面麻醉' }] },
    } as Partial<PatientRecordInput>);
    const facts = await buildFacts(parseRecord(cataract), { graph, linker });
    const s = caprini(facts);
    expect(s.total).toBe(2); // age 71 only
    expect(s.items.find((i) => i.points === 0)?.label).toContain('表面麻醉');
    expect((await engine.evaluate(facts)).some((a) => a.ruleId === 'score.caprini')).toBe(false);
  });

  it('Caprini in a whole-stay review: admission and again after a major operation, each with its time', async () => {
    const r = rec({
      patient: { id: 'p', sex: 'female', birthDate: '1960-03-01', weightKg: 60, heightCm: 160 },
      encounter: {
        id: 'e',
        admissionTime: '2025-06-01 08:00',
        dischargeTime: '2025-06-12 10:00',
        department: '普通外科',
      },
      diagnoses: [{ name: '结肠癌', type: 'admission' }],
      procedures: [{ name: '右半结肠切除术', time: '2025-06-05 09:00' }],
      documents: [
        {
          id: 'op',
          type: '手术记录',
          createdTime: '2025-06-05 13:00',
          text: '手术名称：右半结肠切除术　麻醉方法：全身麻醉',
        },
      ],
    });
    const facts = await buildFacts(parseRecord(r), { graph, linker });
    expect(facts.procedures[0]?.anesthesia).toBe('全身麻醉');
    const capr = (await engine.evaluate(facts)).filter((a) => a.ruleId === 'score.caprini');
    // Admission: age 65 → 2, cancer 2 = 4 (moderate); after surgery + major operation 2 = 6 (high).
    expect(capr.map((a) => a.summary.match(/(\d+) 分/)?.[1])).toEqual(['6', '4']);
    expect(capr.find((a) => a.summary.includes('6 分'))?.summary).toContain('术后评估');
    expect(capr.find((a) => a.summary.includes('4 分'))?.summary).toContain('入院评估');
  });

  it('adult scores are not run on children', async () => {
    const child = rec({
      patient: { id: 'p', sex: 'male', birthDate: '2020-03-01', weightKg: 18, heightCm: 110 },
      encounter: { id: 'e', admissionTime: '2025-06-01 08:00', department: '儿科' },
      diagnoses: [{ name: '支气管肺炎', type: 'admission' }],
      vitals: vitals('2025-06-01 09:00', { respiratoryRate: 28, systolicBP: 98, heartRate: 120 }),
    });
    const alerts = await engine.evaluate(await buildFacts(parseRecord(child), { graph, linker }));
    expect(alerts.filter((a) => a.category === 'risk-score')).toEqual([]);
  });

  it('Morse counts medical diagnoses (not Z codes) and gait as written; a negated finding is not scored', async () => {
    const r = parseRecord(
      rec({
        diagnoses: [
          { name: '社区获得性肺炎', code: 'J15.902', type: 'admission' },
          { name: '青霉素过敏史', code: 'Z88.000', type: 'secondary' },
        ],
        documents: [
          {
            id: 'd1',
            type: '首次病程记录',
            createdTime: '2025-06-01 10:00',
            text: '患者全身乏力，头晕。BNP轻度升高，LVEF正常，暂不诊断心力衰竭。',
          },
        ],
      }),
    );
    const facts = await buildFacts(r, { graph, linker });
    const m = morse(facts);
    expect(m.items.map((i) => i.label)).toEqual([]);
    expect(padua(facts).items.some((i) => i.label.includes('心力衰竭'))).toBe(false);
  });

  it('a fetal heart rate in the text is not the patient pulse', async () => {
    const r = parseRecord(
      rec({
        patient: { id: 'p', sex: 'female', birthDate: '1996-01-01', weightKg: 68, heightCm: 162 },
        encounter: { id: 'e', admissionTime: '2025-07-08 06:40', department: '产科' },
        documents: [
          {
            id: 'd1',
            type: '入院记录',
            createdTime: '2025-07-08 08:00',
            text: '体格检查：P 80次/分。产科检查：宫高33cm，胎心率142次/分。',
          },
        ],
      }),
    );
    const annotations = [
      {
        documentId: 'd1',
        annotation: await (await import('@yijian/ner'))
          .createAnnotator({ taggers: [] })
          .annotate(r.documents[0]!.text),
      },
    ];
    // The text tagger does not read 心率142次/分 inside 胎心率142次/分 as a vital sign …
    expect(annotations[0]!.annotation.vitals.some((v) => v.value === 142)).toBe(false);
    const facts = await buildFacts(r, { graph, linker, annotations });
    // … and the facts keep the mother's pulse only.
    expect(facts.vitals.some((v) => v.numeric === 142)).toBe(false);
    expect(facts.vitals.some((v) => v.numeric === 80)).toBe(true);
  });
});
