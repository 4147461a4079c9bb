/**
 * Second-pass graph fields and route awareness, on the curated default knowledge graph:
 * age-conditioned interactions (ceftriaxone + calcium), aspirin's dose-dependent NSAID class, and
 * local eye/ear/skin preparations kept out of systemic rules.
 */
import { existsSync } from 'node:fs';
import { createLinker, defaultGraphDir, loadDefaultGraph, type MemoryGraph } from '@yijian/knowledge-graph';
import { describe, expect, it } from 'vitest';
import { classifyAdministration, routesFileSchema, routeTable } from './administration.js';
import { type AdHocInput, buildFactsFromLists, createRuleEngine } from './index.js';

describe('classifyAdministration (resources/routes.yaml)', () => {
  it('reads local use from the form in the name, the written route and the graph routes', () => {
    expect(classifyAdministration('地塞米松滴眼液', undefined, ['po', 'iv', 'im'])).toMatchObject({
      systemic: false,
      localBasis: '剂型「滴眼液」（眼局部）',
    });
    expect(classifyAdministration('红霉素眼膏', undefined, undefined).systemic).toBe(false);
    expect(classifyAdministration('氧氟沙星滴耳液', undefined, undefined).localBasis).toContain('耳');
    expect(classifyAdministration('丁酸氢化可的松乳膏', undefined, undefined).systemic).toBe(false);
    expect(classifyAdministration('双氯芬酸二乙胺凝胶', undefined, undefined).systemic).toBe(false);
    expect(classifyAdministration('左氧氟沙星', '滴眼', ['po', 'iv']).systemic).toBe(false);
    expect(classifyAdministration('地塞米松', '外用', ['po', 'iv', 'im']).systemic).toBe(false);
    const tobradex = classifyAdministration('妥布霉素地塞米松', undefined, ['ophthalmic']);
    expect(tobradex).toMatchObject({ systemic: false, localProduct: true });
  });
  it('keeps injections, oral forms and transdermal patches systemic', () => {
    expect(classifyAdministration('地塞米松磷酸钠注射液', undefined, ['po', 'iv', 'im']).systemic).toBe(true);
    expect(classifyAdministration('地塞米松', 'iv', ['po', 'iv', 'im']).systemic).toBe(true);
    expect(classifyAdministration('芬太尼透皮贴剂', '外用', ['transdermal']).systemic).toBe(true);
    expect(classifyAdministration('布洛芬', undefined, ['po']).systemic).toBe(true);
    expect(classifyAdministration('酮康唑', undefined, ['topical', 'po']).systemic).toBe(true);
  });
  it('the route table is schema-checked data (unknown keys rejected)', () => {
    expect(routeTable().localForms.length).toBeGreaterThan(0);
    expect(routesFileSchema.safeParse({ ...routeTable(), extra: 1 }).success).toBe(false);
  });
});

let hasGraph = false;
try {
  hasGraph = existsSync(defaultGraphDir());
} catch {
  hasGraph = false;
}
if (!hasGraph) console.warn('[rules] default knowledge graph (corpora/kg) not found: graph tests skipped');

describe.skipIf(!hasGraph)('graph fields and routes on the default graph', () => {
  const graph = hasGraph ? loadDefaultGraph() : (undefined as unknown as MemoryGraph);
  const linker = hasGraph ? createLinker(graph) : (undefined as never);
  const engine = createRuleEngine({ graph });
  const run = async (input: AdHocInput) =>
    engine.evaluate(await buildFactsFromLists(input, { graph, linker }));
  const ofCategory = async (input: AdHocInput, category: string) =>
    (await run(input)).filter((a) => a.category === category);

  it('ceftriaxone + calcium: critical up to 28 days of age, info after, critical without an age', async () => {
    const drugs = ['头孢曲松 1g ivgtt qd', '葡萄糖酸钙 1g ivgtt qd'];
    const neonate = await ofCategory({ drugs, ageDays: 10 }, 'drug-drug');
    expect(neonate.map((a) => a.severity)).toEqual(['critical']);
    expect(neonate[0]!.detail).toContain('≤ 28 天');
    const infant = await ofCategory({ drugs, ageDays: 60 }, 'drug-drug');
    expect(infant.map((a) => a.severity)).toEqual(['info']);
    expect(infant[0]!.evidence.find((e) => e.kind === 'graph')?.data).toMatchObject({
      severity: 'major',
      appliedSeverity: 'moderate',
      ageMaxDays: 28,
    });
    const adult = await ofCategory({ drugs: ['头孢曲松', '乳酸钠林格注射液'], age: 45 }, 'drug-drug');
    expect(adult.map((a) => a.severity)).toEqual(['info']);
    expect(adult[0]!.summary).toContain('新生儿');
    const unknownAge = await ofCategory({ drugs }, 'drug-drug');
    expect(unknownAge.map((a) => a.severity)).toEqual(['critical']);
  });

  it('aspirin ≥ 500 mg/d counts as a salicylate NSAID; antiplatelet aspirin does not', async () => {
    // Heart failure: an NSAID caution, not one of aspirin's own relations.
    const low = await ofCategory(
      { drugs: ['阿司匹林 100mg po qd'], conditions: ['心力衰竭'] },
      'drug-disease',
    );
    expect(low).toEqual([]);
    const high = await ofCategory(
      { drugs: ['阿司匹林 1g po tid'], conditions: ['心力衰竭'] },
      'drug-disease',
    );
    expect(high.length).toBe(1);
    expect(high[0]!.evidence.some((e) => /3000 mg ≥ 500 mg/.test(e.text))).toBe(true);
    // Unknown dose: no class (the graph's antiplatelet reading).
    expect(await ofCategory({ drugs: ['阿司匹林'], conditions: ['心力衰竭'] }, 'drug-disease')).toEqual([]);
    // Interactions: aspirin + ACEI is a low-priority info card at antiplatelet dose, the NSAID + ACEI
    // interaction at analgesic dose.
    const acei = (d: string) => ofCategory({ drugs: [d, '依那普利 10mg po qd'] }, 'drug-drug');
    const lowAcei = await acei('阿司匹林 100mg po qd');
    expect(lowAcei.every((a) => a.severity === 'info')).toBe(true);
    const highAcei = await acei('阿司匹林 1g po q6h');
    expect(highAcei.length).toBe(1);
    expect(highAcei[0]!.severity).not.toBe('info');
    expect(highAcei[0]!.evidence.some((e) => e.text.includes('水杨酸类'))).toBe(true);
    // Allergy is dose-independent.
    const allergy = await ofCategory({ drugs: ['阿司匹林 100mg po qd'], allergies: ['布洛芬'] }, 'allergy');
    expect(allergy.length).toBe(1);
  });

  it('local eye/ear/skin preparations: no systemic contraindication, interaction or dose limit', async () => {
    const eye = await run({ drugs: ['地塞米松滴眼液 1滴 滴眼 qid'], conditions: ['2型糖尿病'], age: 71 });
    expect(eye.filter((a) => a.severity !== 'info')).toEqual([]);
    expect(eye.filter((a) => a.category === 'drug-disease')).toEqual([]);
    // The same drug given systemically is flagged.
    const iv = await ofCategory(
      { drugs: ['地塞米松 10mg iv qd'], conditions: ['2型糖尿病'] },
      'drug-disease',
    );
    expect(iv.length).toBeGreaterThan(0);
    const topicalNsaid = await ofCategory(
      { drugs: ['双氯芬酸二乙胺凝胶 外用 tid', '华法林 3mg po qd'] },
      'drug-drug',
    );
    expect(topicalNsaid).toEqual([]);
    const oralNsaid = await ofCategory({ drugs: ['双氯芬酸 75mg po bid', '华法林 3mg po qd'] }, 'drug-drug');
    expect(oralNsaid.some((a) => a.severity === 'critical')).toBe(true);
    const ear = await ofCategory({ drugs: ['氧氟沙星滴耳液 滴耳 tid', '胺碘酮 200mg po qd'] }, 'drug-drug');
    expect(ear).toEqual([]);
  });

  it('systemic dose limits do not apply to a skin preparation', async () => {
    const gel = await ofCategory({ drugs: ['双氯芬酸二乙胺凝胶 1000mg 外用 tid'] }, 'dose');
    expect(gel).toEqual([]);
    const oral = await ofCategory({ drugs: ['双氯芬酸 1000mg po tid'] }, 'dose');
    expect(oral.map((a) => a.severity)).toEqual(['critical']);
  });

  it('keeps direct allergy conflicts for local preparations', async () => {
    const alerts = await ofCategory(
      { drugs: ['左氧氟沙星滴眼液 滴眼 qid'], allergies: ['左氧氟沙星'] },
      'allergy',
    );
    expect(alerts.map((a) => a.severity)).toEqual(['critical']);
  });
});
