import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultGraphDir, loadDefaultGraph } from './default-graph.js';
import { createLinker } from './linker.js';
import { isLexiconJunk } from './memory-graph.js';
import type { DrugProps } from './schema.js';
import { DOSE_UNITS } from './schema.js';

// Content checks on the curated graph (second pass of issue 3): dose units, aspirin modelling,
// severities, concepts the rules and samples need, and a clean NER lexicon.
const g = loadDefaultGraph();
const linker = createLinker(g);
const drugs = [...g.allConcepts()].filter((c) => c.kind === 'Drug');
const drug = (id: string): DrugProps => g.getConcept(id)!.props as DrugProps;
const limit = (id: string, route: string) => drug(id).doseLimits?.find((l) => l.route === route);
const toMg = (x: number | undefined, unit: string): number | undefined =>
  x === undefined
    ? undefined
    : unit === 'g'
      ? x * 1000
      : unit === 'μg'
        ? x / 1000
        : unit === 'mg'
          ? x
          : undefined;

describe('dose limits', () => {
  it('carry a unit from the closed list and no daily maximum below the single maximum', () => {
    const bad: string[] = [];
    let n = 0;
    for (const d of drugs) {
      for (const l of (d.props as DrugProps).doseLimits ?? []) {
        n++;
        if (!(DOSE_UNITS as readonly string[]).includes(l.unit))
          bad.push(`${d.name} ${l.route}: unit ${l.unit}`);
        if (l.maxSingle !== undefined && l.maxDaily !== undefined && l.maxDaily < l.maxSingle)
          bad.push(`${d.name} ${l.route}: ${l.maxSingle}/${l.maxDaily} ${l.unit}`);
        if (l.maxSingle === undefined && l.maxDaily === undefined)
          bad.push(`${d.name} ${l.route}: no amount`);
      }
    }
    expect(n).toBeGreaterThan(250);
    expect(bad).toEqual([]);
  });

  it('reads "500mg/2g" as 500 mg single and 2000 mg daily', () => {
    expect(limit('drug:cefuroxime', 'po')).toMatchObject({ unit: 'mg', maxSingle: 500, maxDaily: 1000 });
    expect(limit('drug:clindamycin', 'po')).toMatchObject({ unit: 'mg', maxSingle: 450, maxDaily: 1800 });
  });

  // Adult single / daily maximum in mg per route, from the Chinese package inserts (说明书).
  const LABEL: [string, string, number | undefined, number | undefined][] = [
    ['drug:amlodipine', 'po', 10, 10],
    ['drug:levamlodipine', 'po', 5, 5],
    ['drug:nifedipine', 'po', 60, 120],
    ['drug:atorvastatin', 'po', 80, 80],
    ['drug:rosuvastatin', 'po', 20, 20],
    ['drug:simvastatin', 'po', 40, 40],
    ['drug:metformin', 'po', 1000, 2550],
    ['drug:glimepiride', 'po', 6, 6],
    ['drug:clopidogrel', 'po', 600, 600],
    ['drug:ticagrelor', 'po', 180, 180],
    ['drug:rivaroxaban', 'po', 20, 30],
    ['drug:levofloxacin', 'iv', 750, 750],
    ['drug:moxifloxacin', 'po', 400, 400],
    ['drug:ceftriaxone', 'iv', 2000, 4000],
    ['drug:meropenem', 'iv', 2000, 6000],
    ['drug:piperacillin-tazobactam', 'iv', 4500, 18000],
    ['drug:amikacin', 'iv', 1500, 1500],
    ['drug:azithromycin', 'iv', 500, 500],
    ['drug:linezolid', 'iv', 600, 1200],
    ['drug:metronidazole', 'po', 2000, 4000],
    ['drug:cefuroxime', 'iv', 1500, 6000],
    ['drug:paracetamol', 'po', 1000, 4000],
    ['drug:ibuprofen', 'po', 800, 3200],
    ['drug:tramadol', 'po', 100, 400],
    ['drug:aminophylline', 'iv', 500, 1000],
    ['drug:furosemide', 'iv', undefined, 1000],
    ['drug:spironolactone', 'po', 100, 400],
    ['drug:omeprazole', 'iv', 80, 160],
    ['drug:digoxin', 'po', 0.5, 1],
    ['drug:gabapentin', 'po', 1200, 3600],
    ['drug:valproate', 'po', undefined, 3000],
    ['drug:acyclovir', 'iv', 1000, 3000],
    ['drug:azathioprine', 'po', undefined, 300],
    ['drug:colchicine', 'po', 1, 1.8],
  ];
  it.each(LABEL)('%s %s: %s / %s mg', (id, route, single, daily) => {
    const l = limit(id, route);
    expect(l, `${id} ${route}`).toBeDefined();
    expect(toMg(l!.maxSingle, l!.unit)).toBe(single);
    expect(toMg(l!.maxDaily, l!.unit)).toBe(daily);
  });
});

describe('aspirin', () => {
  it('is an antiplatelet, not an NSAID, with an analgesic-dose class for the rules', () => {
    const up = g.ancestorsSync('drug:aspirin').map((c) => c.id);
    expect(up).toContain('class:antiplatelets');
    expect(up).not.toContain('class:nsaids');
    expect(drug('drug:aspirin').doseDependentClasses).toEqual([
      expect.objectContaining({ class: 'class:salicylates', minDailyDose: 500, unit: 'mg' }),
    ]);
    expect(g.ancestorsSync('class:salicylates').map((c) => c.id)).toContain('class:nsaids');
  });

  it('does not take NSAID cautions at antiplatelet dose, but keeps its own', () => {
    const conds = ['disease:I10', 'disease:I50', 'disease:I25.1', 'disease:N18', 'disease:K27'];
    const ci = g.contraindicationsOfSync(['drug:aspirin'], conds).map((c) => c.condition.id);
    expect(ci).toEqual(['disease:K27']);
    // An order at analgesic dose adds the class, and the NSAID cautions return.
    const high = g.contraindicationsOfSync(['class:salicylates'], conds).map((c) => c.condition.id);
    expect(high).toEqual(expect.arrayContaining(['disease:I10', 'disease:I50', 'disease:K27']));
    // Lithium is unaffected by low-dose aspirin; at analgesic dose the NSAID rule applies.
    expect(g.interactionsAmongSync(['drug:aspirin', 'drug:lithium-carbonate'])).toEqual([]);
    const ddi = g.interactionsAmongSync(['drug:aspirin', 'class:salicylates', 'drug:lithium-carbonate']);
    expect(ddi.map((d) => d.ruleId)).toContain('ddi:lithium-carbonate+nsaids');
  });

  it('still interacts with NSAIDs and anticoagulants and cross-reacts with NSAID allergy', () => {
    const [withIbu] = g.interactionsAmongSync(['drug:aspirin', 'drug:ibuprofen']);
    expect(withIbu?.severity).toBe('moderate');
    expect(g.interactionsAmongSync(['drug:aspirin', 'drug:celecoxib'])[0]?.ruleId).toBe('ddi:aspirin+coxibs');
    expect(g.interactionsAmongSync(['drug:aspirin', 'drug:warfarin'])[0]?.severity).toBe('major');
    const [a] = g.allergyConflictsSync(['drug:aspirin'], ['drug:ibuprofen']);
    expect(a).toMatchObject({ kind: 'cross-reactive', severity: 'major' });
    const [b] = g.allergyConflictsSync(['drug:ibuprofen'], ['drug:aspirin']);
    expect(b).toMatchObject({ kind: 'cross-reactive', severity: 'major' });
  });
});

describe('interaction severities', () => {
  const sev = (a: string, b: string) => g.interactionsAmongSync([a, b])[0];
  it('rates label contraindications major', () => {
    expect(sev('drug:simvastatin', 'drug:erythromycin')?.severity).toBe('major');
    expect(sev('drug:lovastatin', 'drug:erythromycin')?.severity).toBe('major');
    expect(sev('drug:ergotamine-caffeine', 'drug:erythromycin')?.severity).toBe('major');
    expect(sev('drug:ramelteon', 'drug:fluvoxamine')?.severity).toBe('major');
    // Ciprofloxacin is a weaker CYP1A2 inhibitor than fluvoxamine: caution, not contraindication.
    expect(sev('drug:ramelteon', 'drug:ciprofloxacin')?.severity).toBe('moderate');
  });
  it('conditions ceftriaxone + calcium on neonatal age', () => {
    const r = sev('drug:ceftriaxone', 'drug:calcium-gluconate');
    expect(r).toMatchObject({ severity: 'major', ageMaxDays: 28, severityOtherwise: 'moderate' });
    expect(sev('drug:warfarin', 'drug:aspirin')?.ageMaxDays).toBeUndefined();
  });
});

describe('concepts the rules and samples need', () => {
  it.each([
    ['口服补液盐', 'Drug'],
    ['异维A酸', 'Drug'],
    ['波生坦', 'Drug'],
    ['溴隐亭', 'Drug'],
    ['碘化钾', 'Drug'],
    ['左氨氯地平', 'Drug'],
    // named in the texts of corpora/samples
    ['妥布霉素地塞米松眼膏', 'Drug'],
    ['普拉洛芬滴眼液', 'Drug'],
    ['玻璃酸钠滴眼液', 'Drug'],
    ['小儿豉翘清热颗粒', 'Drug'],
    ['磺胺', 'DrugClass'],
    ['保钾利尿药', 'DrugClass'],
    ['张力性气胸', 'Disease'],
    ['消化道穿孔', 'Disease'],
    ['异位妊娠破裂', 'Disease'],
    ['颅内出血', 'Disease'],
    ['大面积脑梗死', 'Disease'],
    ['心室扑动', 'Disease'],
    ['低钙血症', 'Disease'],
    ['高钙血症', 'Disease'],
    ['菌血症', 'Disease'],
    ['高碳酸血症', 'Disease'],
  ] as const)('%s links to a %s', (name, kind) => {
    const r = linker.link(name, { kind });
    expect(r.linked, name).toBe(true);
    expect(r.candidates[0]!.score).toBeGreaterThanOrEqual(0.9);
  });

  const samplesDir = join(defaultGraphDir(), '..', 'samples');
  it.skipIf(!existsSync(samplesDir))('links every drug and diagnosis of corpora/samples', () => {
    const missing: string[] = [];
    for (const f of readdirSync(samplesDir).filter((x) => x.endsWith('.json') && !x.includes('.expected'))) {
      const r = JSON.parse(readFileSync(join(samplesDir, f), 'utf8')) as {
        medications?: { drugName: string }[];
        diagnoses?: { name: string }[];
      };
      for (const m of r.medications ?? [])
        if (!linker.link(m.drugName, { kind: 'Drug' }).linked) missing.push(`${f}: drug ${m.drugName}`);
      for (const d of r.diagnoses ?? [])
        if (!linker.link(d.name, { kind: 'Disease' }).linked) missing.push(`${f}: diagnosis ${d.name}`);
    }
    expect(missing).toEqual([]);
  });
});

describe('lexicon for the NER tagger', () => {
  const lex = g.lexicon();
  it('has no junk terms', () => {
    const junk = lex.filter((e) => isLexiconJunk(e.term)).map((e) => e.term);
    expect(junk).toEqual([]);
    expect(lex.filter((e) => /^[A-Za-z]$/.test(e.term))).toEqual([]);
    for (const unit of ['mm', 'mg', 'ml', 'MG', 'MM', 'kg', 'g'])
      expect(lex.some((e) => e.term === unit)).toBe(false);
  });
  it('leaves out ambiguous abbreviations, which still link when asked for', () => {
    for (const t of ['VT', 'PE', 'CI', 'PH', 'HE', 'ALL', 'ET', 'CHB', 'Ca', 'T3'])
      expect(
        lex.some((e) => e.term === t),
        t,
      ).toBe(false);
    expect(linker.link('VT', { kind: 'Disease' }).candidates[0]?.conceptId).toBe('disease:I47.2');
    // Unambiguous abbreviations stay.
    for (const t of ['房颤', 'CKD', 'COPD', 'AF', 'ACS', 'INR', 'PLT', 'Mg'])
      expect(
        lex.some((e) => e.term === t),
        t,
      ).toBe(true);
  });
  it('flags single letters, bare numbers and unit words as junk, not real terms', () => {
    for (const t of ['H', 'k', '5', '12.5', 'mm', 'MG', 'mmol', ' ']) expect(isLexiconJunk(t), t).toBe(true);
    for (const t of ['Mg', 'VT', 'CKD', '华法林', 'pH', '3TC']) expect(isLexiconJunk(t), t).toBe(false);
  });
});

describe('clinical properties of the most used inpatient drugs', () => {
  const listFile = join(defaultGraphDir(), 'src', 'top-inpatient.txt');
  it.skipIf(!existsSync(listFile))('all 200 carry a pregnancy category, nearly all a further caution', () => {
    const slugs = readFileSync(listFile, 'utf8')
      .split('\n')
      .filter((l) => !l.startsWith('//'))
      .join(' ')
      .split(/\s+/)
      .filter(Boolean);
    expect(new Set(slugs).size).toBe(200);
    const props = slugs.map((s) => {
      const c = g.getConcept(`drug:${s}`);
      expect(c?.kind, s).toBe('Drug');
      return [s, c!.props as DrugProps] as const;
    });
    expect(props.filter(([, p]) => !p.pregnancy).map(([s]) => s)).toEqual([]);
    const withCaution = props.filter(([, p]) => p.lactation || p.renal || p.hepatic || p.elderly);
    expect(withCaution.length).toBeGreaterThanOrEqual(180);
    // Renally cleared drugs the rules dose by eGFR.
    for (const s of [
      'enoxaparin',
      'rivaroxaban',
      'metformin',
      'levofloxacin',
      'meropenem',
      'vancomycin',
      'gabapentin',
    ])
      expect(drug(`drug:${s}`).renal?.length, s).toBeGreaterThan(0);
  });
});

describe('common EMR diagnosis spellings', () => {
  it.each([
    ['尿感', 'disease:N39.0'],
    ['慢性肾衰', 'disease:N18'],
    ['窦缓', 'disease:R00.1'],
    ['肺Ca', 'disease:C34'],
    ['糖网', 'disease:E11.3'],
    ['妊高征', 'disease:O13'],
    ['Ⅱ型呼衰', 'disease:J96.9'],
    ['MODS', 'disease:R68.8'],
    ['低蛋白血症', 'disease:E77.801'],
    ['Hp感染', 'disease:A49.809'],
    ['慢阻肺', 'disease:J44'],
    ['房颤', 'disease:I48'],
  ])('%s -> %s', (text, id) => {
    expect(linker.link(text, { kind: 'Disease' }).candidates[0]?.conceptId).toBe(id);
  });
});
