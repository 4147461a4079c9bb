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
