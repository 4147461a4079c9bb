import { type PatientRecordInput, parseRecord } from '@yijian/emr';
import { createLinker } from '@yijian/knowledge-graph';
import { describe, expect, it } from 'vitest';
import { buildFacts, buildFactsFromLists, createAlertLog, createRuleEngine, parsePackYaml } from './index.js';
import { fixtureGraph } from './testing/fixture-graph.js';

const graph = fixtureGraph();
const linker = createLinker(graph);
const engine = createRuleEngine({ graph });

function record(over: Partial<PatientRecordInput> = {}): PatientRecordInput {
  return {
    id: 'r1',
    patient: { id: 'p1', sex: 'male', birthDate: '1955-04-01' },
    encounter: { id: 'e1', admissionTime: '2025-03-10 09:00', department: '心内科' },
    ...over,
  };
}

const warfarin = {
  id: 'med-1',
  drugName: '华法林钠片',
  dose: 2.5,
  doseUnit: 'mg',
  route: 'po',
  frequency: 'qd',
  startTime: '2025-03-10 17:00',
  kind: 'long-term' as const,
};
const aspirin = { ...warfarin, id: 'med-3', drugName: '阿司匹林肠溶片', dose: 100 };

describe('drug–drug interactions', () => {
  it('fires critical for 华法林 + 阿司匹林 with both orders and the graph path as evidence', async () => {
    const r = parseRecord(record({ medications: [warfarin, aspirin] }));
    const facts = await buildFacts(r, { graph, linker });
    expect(facts.evaluation.mode).toBe('point');
    const alerts = await engine.evaluate(facts);
    const ddi = alerts.find((a) => a.category === 'drug-drug');
    expect(ddi).toBeDefined();
    expect(ddi!.severity).toBe('critical');
    expect(ddi!.presentation).toBe('interruptive');
    expect(ddi!.ruleId).toBe('ddi.graph');
    const orders = ddi!.evidence.filter((e) => e.kind === 'order');
    expect(orders.map((e) => e.ref).sort()).toEqual(['med-1', 'med-3']);
    expect(orders[0]!.data).toMatchObject({
      drugName: expect.any(String),
      dose: expect.any(Number),
      startTime: '2025-03-10 17:00',
    });
    const path = ddi!.evidence.find((e) => e.kind === 'graph');
    expect(path?.path?.length).toBeGreaterThan(0);
    expect(path?.text).toContain('抗凝药');
    expect(path?.text).toContain('INTERACTS_WITH');
    expect(ddi!.summary.length).toBeLessThanOrEqual(140);
    expect(ddi!.summary).toContain('华法林');
    expect(ddi!.detail).toContain('ddi.graph');
    expect(ddi!.overrideReasons?.length).toBeGreaterThan(0);
  });

  it('respects the evaluation time: an order stopped before `at` does not interact', async () => {
    const stopped = { ...aspirin, stopTime: '2025-03-11 08:00', status: 'stopped' as const };
    const r = parseRecord(record({ medications: [warfarin, stopped] }));
    const later = await engine.evaluate(await buildFacts(r, { graph, linker, at: '2025-03-12 09:00' }));
    expect(later.filter((a) => a.category === 'drug-drug')).toHaveLength(0);
    const during = await engine.evaluate(await buildFacts(r, { graph, linker, at: '2025-03-11 07:00' }));
    expect(during.filter((a) => a.category === 'drug-drug')).toHaveLength(1);
  });

  it('reviews a discharged stay by interval overlap', async () => {
    const early = {
      ...aspirin,
      startTime: '2025-03-10 09:00',
      stopTime: '2025-03-10 12:00',
      status: 'stopped' as const,
    };
    const overlapping = { ...aspirin, stopTime: '2025-03-12 12:00', status: 'completed' as const };
    const encounter = {
      id: 'e1',
      admissionTime: '2025-03-10 09:00',
      dischargeTime: '2025-03-15 10:00',
      department: '心内科',
    };
    const noOverlap = await buildFacts(parseRecord(record({ encounter, medications: [warfarin, early] })), {
      graph,
      linker,
    });
    expect(noOverlap.evaluation.mode).toBe('stay');
    expect((await engine.evaluate(noOverlap)).filter((a) => a.category === 'drug-drug')).toHaveLength(0);
    const overlap = await buildFacts(
      parseRecord(record({ encounter, medications: [warfarin, overlapping] })),
      { graph, linker },
    );
    expect((await engine.evaluate(overlap)).filter((a) => a.category === 'drug-drug')).toHaveLength(1);
  });

  it('reads diagnoses at the evaluation time: one made later is not known yet', async () => {
    const r = parseRecord(
      record({
        diagnoses: [
          { name: '心房颤动', type: 'admission', time: '2025-03-10 10:00' },
          { name: '消化性溃疡', type: 'discharge', time: '2025-03-14 09:00' },
          { name: '高血压', type: 'secondary' },
        ],
      }),
    );
    const names = async (at: string) =>
      (await buildFacts(r, { graph, linker, at })).conditions.map((c) => c.name).sort();
    expect(await names('2025-03-12 08:00')).toEqual(['心房颤动', '高血压'].sort());
    expect(await names('2025-03-14 12:00')).toEqual(['心房颤动', '消化性溃疡', '高血压'].sort());
    // The whole-stay review keeps them all.
    const stay = await buildFacts(r, { graph, linker, mode: 'stay' });
    expect(stay.conditions.map((c) => c.name)).toContain('消化性溃疡');
  });

  it('reads the untimed discharge diagnoses of a discharged record at discharge, not before', async () => {
    const r = parseRecord(
      record({
        encounter: {
          id: 'e1',
          admissionTime: '2025-03-10 09:00',
          dischargeTime: '2025-03-16 10:00',
          department: '心内科',
        },
        diagnoses: [
          { name: '心房颤动', type: 'admission' },
          { name: '消化性溃疡', type: 'principal' },
          { name: '高血压', type: 'secondary' },
        ],
      }),
    );
    const names = async (at?: string) =>
      (await buildFacts(r, { graph, linker, ...(at ? { at } : {}) })).conditions.map((c) => c.name).sort();
    expect(await names('2025-03-12 08:00')).toEqual(['心房颤动']);
    expect(await names('2025-03-16 10:00')).toEqual(['心房颤动', '消化性溃疡', '高血压'].sort());
    expect(await names()).toEqual(['心房颤动', '消化性溃疡', '高血压'].sort()); // whole stay
  });

  it('shows ONC low-priority pairs as passive info only', async () => {
    const facts = await buildFactsFromLists({ drugs: ['华法林', '对乙酰氨基酚'] }, { graph, linker });
    const alerts = await engine.evaluate(facts);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ severity: 'info', presentation: 'passive' });
  });

  it('is deterministic', async () => {
    const r = parseRecord(record({ medications: [warfarin, aspirin] }));
    const a = await engine.evaluate(await buildFacts(r, { graph, linker }));
    const b = await engine.evaluate(await buildFacts(r, { graph, linker }));
    expect(a).toEqual(b);
    expect(a[0]!.id).toMatch(/^[0-9a-f]{16}$/);
  });
});

describe('allergy', () => {
  it('青霉素过敏 + 阿莫西林 is critical (direct), + 头孢曲松 a warning (cross-reactive)', async () => {
    const facts = await buildFactsFromLists(
      { drugs: ['阿莫西林', '头孢曲松'], allergies: ['青霉素'] },
      { graph, linker },
    );
    const alerts = (await engine.evaluate(facts)).filter((a) => a.category === 'allergy');
    const amox = alerts.find((a) => a.summary.includes('阿莫西林'));
    const cef = alerts.find((a) => a.summary.includes('头孢曲松'));
    expect(amox?.severity).toBe('critical');
    expect(amox?.suggestions[0]?.actions[0]).toMatchObject({
      type: 'delete',
      resourceId: 'MedicationRequest/input-1',
    });
    expect(cef?.severity).toBe('warning');
    expect(cef?.evidence.some((e) => e.kind === 'graph' && e.text.includes('CROSS_REACTS'))).toBe(true);
  });
});

describe('drug–disease', () => {
  it('uses past history one tier lower and ignores negated history', async () => {
    const past = await buildFactsFromLists(
      { drugs: ['布洛芬'], history: ['十二指肠球部溃疡'] },
      { graph, linker },
    );
    const a = (await engine.evaluate(past)).filter((x) => x.category === 'drug-disease');
    expect(a).toHaveLength(1);
    expect(a[0]!.severity).toBe('warning');
    expect(a[0]!.summary).toContain('既往');
    const present = await buildFactsFromLists(
      { drugs: ['布洛芬'], conditions: ['消化性溃疡'] },
      { graph, linker },
    );
    expect((await engine.evaluate(present)).find((x) => x.category === 'drug-disease')?.severity).toBe(
      'critical',
    );
    const none = await buildFactsFromLists({ drugs: ['布洛芬'] }, { graph, linker });
    expect((await engine.evaluate(none)).filter((x) => x.category === 'drug-disease')).toHaveLength(0);
  });
});

describe('overrides and alert fatigue', () => {
  it('disables rules, changes severity and adds local rules as data', async () => {
    const local = createRuleEngine({
      graph,
      overrides: {
        hospital: '测试医院',
        disable: ['allergy.graph'],
        severity: { 'ddi.graph': 'warning' },
        rules: [
          {
            id: 'local.no-diazepam',
            version: '1.0.0',
            kind: 'match',
            category: 'local',
            severity: 'warning',
            title: '本院限制地西泮',
            summary: '本院限制使用{{drug.conceptName}}',
            detail: '请使用替代药物',
            references: [{ label: '本院药事委员会' }],
            when: { drug: { drugs: ['地西泮'] } },
          },
        ],
      },
    });
    const facts = await buildFactsFromLists(
      { drugs: ['华法林', '阿司匹林', '安定', '阿莫西林'], allergies: ['青霉素'] },
      { graph, linker },
    );
    const alerts = await local.evaluate(facts);
    expect(alerts.find((a) => a.ruleId === 'ddi.graph')?.severity).toBe('warning');
    expect(alerts.some((a) => a.ruleId === 'allergy.graph')).toBe(false);
    expect(alerts.find((a) => a.ruleId === 'local.no-diazepam')?.summary).toBe('本院限制使用地西泮');
    expect(local.rules().find((r) => r.id === 'allergy.graph')?.enabled).toBe(false);
  });

  it('rejects unknown keys and unknown rule ids with coded errors', () => {
    expect(() =>
      parsePackYaml(
        'pack: x\nversion: 1.0.0\ndescription: d\nrules:\n  - id: a.b\n    version: 1.0.0\n    kind: match\n    categry: x\n',
      ),
    ).toThrow(expect.objectContaining({ code: 'CDSS_ERR_INVALID_DATA' }));
    expect(() => createRuleEngine({ graph, overrides: { disable: ['no.such-rule'] } })).toThrow(
      expect.objectContaining({ code: 'CDSS_ERR_INVALID_CONFIG' }),
    );
  });

  it('suppresses duplicates per encounter unless the severity rises, and records feedback', async () => {
    const log = createAlertLog();
    const facts = await buildFactsFromLists({ drugs: ['华法林', '阿司匹林'] }, { graph, linker });
    const first = await engine.evaluate(facts, { log });
    expect(first).toHaveLength(1);
    expect(await engine.evaluate(facts, { log })).toHaveLength(0);
    log.recordFeedback({
      alertId: first[0]!.id,
      ruleId: first[0]!.ruleId,
      encounterId: facts.encounterId,
      outcome: 'overridden',
      reasonCode: 'will-monitor',
      at: '2025-03-10T09:00:00Z',
    });
    expect(log.overrideRate('ddi.graph')).toBe(1);
    log.reset(facts.encounterId);
    expect(await engine.evaluate(facts, { log })).toHaveLength(1);
  });
});

describe('the example overrides file', () => {
  it('replaces the 危急值 table and adds a local rule', async () => {
    const file = new URL('../resources/overrides.example.yaml', import.meta.url);
    const local = createRuleEngine({ graph, overrides: file });
    const facts = await buildFactsFromLists(
      { drugs: ['氨氯地平'], labs: [{ item: '血钾', value: 6.1, unit: 'mmol/L' }] },
      { graph, linker },
    );
    const cv = (await local.evaluate(facts)).find((a) => a.ruleId === 'critical-value.lab');
    expect(cv?.ruleVersion).toBe('2025.1.0');
    expect((await engine.evaluate(facts)).some((a) => a.category === 'critical-value')).toBe(false);
    expect(local.rules().find((r) => r.id === 'critical-value.lab')).toMatchObject({
      pack: 'local',
      overridden: true,
    });
    expect(local.rules().find((r) => r.id === 'duplicate.therapy')?.severity).toBe('info');
  });
});
