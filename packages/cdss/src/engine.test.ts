import { CdssError } from '@yijian/emr';
import type { Alert } from '@yijian/rules';
import { beforeAll, describe, expect, it } from 'vitest';
import { type AnalyzeResult, createEngine, type Engine } from './engine.js';
import { loadSamples, type PlantedProblem } from './samples.js';

const samples = loadSamples();
const byId = new Map(samples.map((s) => [s.id, s]));

/** CDSS problem kinds (alerts); QC kinds are checked against result.qc. */
const ALERT_KINDS: Record<string, string> = {
  'drug-interaction': 'drug-drug',
  'allergy-conflict': 'allergy',
  'drug-disease': 'drug-disease',
  'dose-range': 'dose',
  'duplicate-therapy': 'duplicate',
  'critical-value': 'critical-value',
};

function alertText(a: Alert): string {
  return `${a.summary} ${a.evidence.map((e) => e.text).join(' ')}`;
}

function explainsAlert(p: PlantedProblem, a: Alert): boolean {
  if (ALERT_KINDS[p.kind] !== a.category) return false;
  const text = alertText(a);
  const names = [...(p.drugs ?? []), ...(p.drug ? [p.drug] : []), ...(p.item ? [p.item] : [])];
  return names.every((n) => text.includes(n));
}

let engine: Engine;
const results = new Map<string, AnalyzeResult>();

beforeAll(async () => {
  engine = await createEngine();
  for (const s of samples) results.set(s.id, await engine.analyze(s.record));
}, 120_000);

describe('createEngine: one record end to end', () => {
  it.skipIf(!byId.has('cardiology-01'))(
    'reports warfarin + aspirin with the order fields and the graph path',
    () => {
      const result = results.get('cardiology-01')!;
      const ddi = result.alerts.find(
        (a) => a.category === 'drug-drug' && /华法林/.test(a.summary) && /阿司匹林/.test(a.summary),
      );
      expect(ddi, 'warfarin + aspirin alert').toBeDefined();
      expect(ddi!.severity).toBe('critical');
      expect(ddi!.ruleId).toBeTruthy();
      expect(ddi!.ruleVersion).toBeTruthy();
      const orders = ddi!.evidence.filter((e) => e.kind === 'order');
      expect(orders.map((e) => e.ref).sort()).toEqual(['med-1', 'med-3']);
      expect(orders.every((e) => typeof e.data?.drugName === 'string' && e.data?.startTime)).toBe(true);
      const graph = ddi!.evidence.find((e) => e.kind === 'graph');
      expect(graph?.path?.length).toBeGreaterThan(0);
      expect(graph!.path!.some((s) => s.type === 'INTERACTS_WITH')).toBe(true);
    },
  );

  it.skipIf(!byId.has('cardiology-01'))(
    'returns mentions with spans into the document text and linked concepts',
    () => {
      const result = results.get('cardiology-01')!;
      const record = byId.get('cardiology-01')!.record as { documents: { id: string; text: string }[] };
      const texts = new Map(record.documents.map((d) => [d.id, d.text]));
      expect(result.mentions.length).toBeGreaterThan(20);
      for (const m of result.mentions) expect(texts.get(m.documentId)!.slice(m.start, m.end)).toBe(m.text);
      const warfarin = result.mentions.find((m) => m.type === 'drug' && m.text.startsWith('华法林'));
      expect(warfarin?.concept?.name).toBe('华法林');
      const negated = result.mentions.filter((m) => m.assertion.status === 'negated');
      expect(negated.length).toBeGreaterThan(0);
    },
  );

  it('is deterministic', async () => {
    const s = samples[0];
    if (!s) return;
    expect(await engine.analyze(s.record)).toEqual(results.get(s.id));
  });

  it('rejects bad input with a coded error naming the field', async () => {
    await expect(engine.analyze({ id: 'x' })).rejects.toMatchObject({ code: 'CDSS_ERR_INVALID_RECORD' });
    const s = byId.get('cardiology-01');
    if (!s) return;
    const bad = structuredClone(s.record) as { documents: { type: string }[] };
    bad.documents[0]!.type = '未知文书';
    const error = await engine.analyze(bad).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CdssError);
    expect((error as CdssError).issues[0]!.path).toEqual(['documents', 0, 'type']);
  });
});

describe.skipIf(samples.length === 0)('sample records: every planted problem found, nothing else', () => {
  if (samples.length === 0)
    console.warn('[yijian] corpora/samples is empty: skipping the sample-record tests');
  for (const s of samples) {
    it(`${s.id}: alerts`, () => {
      const result = results.get(s.id)!;
      const planted = s.problems.filter((p) => p.kind in ALERT_KINDS);
      for (const p of planted) {
        expect(
          result.alerts.some((a) => explainsAlert(p, a)),
          `${p.id} ${p.kind} ${JSON.stringify(p.drugs ?? p.drug ?? p.item)}`,
        ).toBe(true);
      }
      // Risk scores are recommendations computed for every patient, not planted defects; info alerts are passive.
      const unexplained = result.alerts
        .filter((a) => a.severity !== 'info' && a.category !== 'risk-score')
        .filter((a) => !planted.some((p) => explainsAlert(p, a)))
        .map((a) => `${a.ruleId}: ${a.summary}`);
      expect(unexplained).toEqual([]);
    });
  }
});

describe('checkMedications', () => {
  const input = {
    drugs: [
      '华法林钠片 2.5mg 口服 qd',
      '阿司匹林肠溶片 100mg 口服 qd',
      '阿莫西林胶囊 500mg 口服 tid',
      '布洛芬缓释胶囊 0.3g 口服 bid',
      '辛伐他汀片 20mg 口服 qn',
      '克拉霉素片 500mg 口服 bid',
    ],
    conditions: ['消化性溃疡', '慢性肾脏病'],
    allergies: ['青霉素'],
    age: 72,
  };
  const cites = (a: Alert, indices: number[]) =>
    a.evidence.some((e) => indices.some((i) => e.ref === `input.drugs[${i}]`));

  it('with concerning: exactly the alerts that cite those entries, the others never built', async () => {
    const all = await engine.checkMedications(input);
    expect(all.length).toBeGreaterThan(4);
    for (const focus of [[0], [2, 5], [3, 4], [1, 2, 3, 4, 5], []]) {
      const focused = await engine.checkMedications(input, { concerning: focus });
      expect(focused, String(focus)).toEqual(all.filter((a) => cites(a, focus)));
    }
    // Some alerts concern only the other entries (the point of not building them).
    expect(all.some((a) => !cites(a, [2, 5]))).toBe(true);
  });

  it('refuses an index outside the list with a coded error', async () => {
    for (const bad of [[6], [-1], [1.5]]) {
      const error = await engine.checkMedications(input, { concerning: bad }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CdssError);
      expect((error as CdssError).code).toBe('CDSS_ERR_INVALID_REQUEST');
    }
  });
});

describe('createEngine with a CC/MCC table', () => {
  it('reports a CC/MCC secondary diagnosis the record proves but the front page lacks', async () => {
    const { fileURLToPath } = await import('node:url');
    const { generateCcMccFixtures } = await import('@yijian/qc');
    const fixtures = generateCcMccFixtures();
    const positive = fixtures.find((f) => f.expected.includes('fp.secondary.cc-mcc-missing'))!;
    const negative = fixtures.find((f) => f.expected.length === 0)!;
    const table = fileURLToPath(new URL('../../qc/resources/demo-cc-mcc.csv', import.meta.url));
    const withTable = await createEngine({ nerModel: 'none', qc: false, ccMccTablePath: table });
    const without = await createEngine({ nerModel: 'none', qc: false });
    const rules = async (e: Engine, r: unknown) =>
      (await e.qcFrontPage(r as never)).findings.map((f) => f.ruleId);
    expect(await rules(withTable, positive.record)).toContain('fp.secondary.cc-mcc-missing');
    expect(await rules(withTable, negative.record)).not.toContain('fp.secondary.cc-mcc-missing');
    expect(await rules(without, positive.record)).not.toContain('fp.secondary.cc-mcc-missing');
    await expect(createEngine({ ccMccTablePath: '/nonexistent/cc.csv' })).rejects.toMatchObject({
      code: 'CDSS_ERR_IO',
    });
  });
});
