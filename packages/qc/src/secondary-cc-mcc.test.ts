import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { createCcMccTable, loadCcMccTableCsv, loadDemoCcMccTable } from './cc-mcc-table.js';
import { loadDemoCodeTable } from './code-table.js';
import { evaluateFrontPage, evaluateRecord } from './evaluate.js';
import { buildCase } from './fixtures/cases.js';
import { generateCcMccFixtures } from './fixtures/cc-mcc.js';
import { generateQcFixtures } from './fixtures/generate.js';
import type { FixtureRecord } from './fixtures/templates.js';
import { parseCcMccEvidence } from './secondary-cc-mcc.js';

const RULE = 'fp.secondary.cc-mcc-missing';
const ccMccTable = loadDemoCcMccTable();
const codeTable = loadDemoCodeTable();
const config = { enabledRules: ['cp.doc.critical-notice'] };

const shared = process.env.YIJIAN_SHARED_DIR ?? fileURLToPath(new URL('../../../../shared', import.meta.url));
const tableFile = `${shared}/kg-data/icd-chs-yb2.0/chs_drg_1.1_mcc_cc.csv`;
const hasShared = existsSync(tableFile);
if (!hasShared)
  console.warn(`[qc] ${tableFile} not found: skipping the CC/MCC check against the national table`);

function withLab(name: Parameters<typeof buildCase>[0], item: string, value: number, unit: string) {
  const r = buildCase(name, 77);
  r.labs = [
    {
      id: `${r.id}-l1`,
      item,
      value,
      unit,
      time: r.encounter.admissionTime.replace(/\d\d:\d\d:\d\d$/, '') + '23:00:00',
    },
  ];
  return r;
}

const ruleFindings = (r: FixtureRecord, table = ccMccTable) =>
  evaluateFrontPage(r, { codeTable, ccMccTable: table }).filter((f) => f.ruleId === RULE);

describe('fp.secondary.cc-mcc-missing', () => {
  it('reports a low potassium with its value, time, level, codes and the DRG weight', () => {
    const r = withLab('pneumonia', '血钾', 2.7, 'mmol/L');
    const [f, ...rest] = ruleFindings(r);
    expect(rest).toEqual([]);
    expect(f).toMatchObject({ ruleId: RULE, category: 'front-page', severity: 'warning', deduction: 2 });
    expect(f!.summary).toContain('血钾 2.7mmol/L');
    expect(f!.summary).toContain('低钾血症');
    expect(f!.summary).toContain('E87.600 低钾血症为CC');
    expect(f!.summary).toContain('DRG');
    expect(f!.summary.length).toBeLessThanOrEqual(140);
    const lab = f!.evidence.find((e) => e.kind === 'lab')!;
    expect(lab).toMatchObject({ ref: `${r.id}-l1`, data: { item: '血钾', value: 2.7, unit: 'mmol/L' } });
    expect(lab.text).toContain(r.labs![0]!.time);
    expect(lab.text).toContain('< 3 mmol/L');
    // The coded diagnoses are cited as fields with their official codes (C03C, C06x01C …).
    const fields = f!.evidence.filter((e) => e.kind === 'field').map((e) => e.data?.fieldCode);
    expect(fields).toContain('C03C');
    expect(f!.detail).toContain('CC/MCC表列为CC');
    expect(f!.detail).toMatch(/DRG细分组及权重/);
    expect(f!.suggestions[0]!.actions[0]!.resourceId).toBe('frontPage.otherDiagnoses');
  });

  it('says MCC for an acute kidney injury shown by a creatinine rise, citing both results', () => {
    const r = buildCase('hip-fracture', 5);
    const t0 = r.encounter.admissionTime;
    const t1 = t0.replace(
      /^(\d{4}-\d\d-)(\d\d)/,
      (_m, a: string, d: string) => `${a}${String(Number(d) + 1).padStart(2, '0')}`,
    );
    r.labs = [
      { id: 'cr1', item: '肌酐', value: 80, unit: 'μmol/L', time: t0 },
      { id: 'cr2', item: '肌酐', value: 118, unit: 'umol/L', time: t1 },
    ];
    const [f] = ruleFindings(r);
    expect(f!.summary).toContain('为MCC');
    expect(f!.summary).toContain('N17.901');
    expect(f!.evidence.filter((e) => e.kind === 'lab').map((e) => e.ref)).toEqual(['cr1', 'cr2']);
    // 80 → 105 is a rise of 25 μmol/L, below 26.5, and 1.31 times: not AKI.
    r.labs[1]!.value = 105;
    expect(ruleFindings(r)).toEqual([]);
  });

  it('is silent at the threshold, when coded, without a table, and when the table does not list the code', () => {
    expect(ruleFindings(withLab('pneumonia', '钾', 3.0, 'mmol/L'))).toEqual([]);
    const coded = withLab('pneumonia', '钾', 2.5, 'mmol/L');
    coded.frontPage.otherDiagnoses!.push({ code: 'e87.600', name: '低钾血症', admissionCondition: '1' });
    expect(ruleFindings(coded)).toEqual([]);
    // A front-page name that says it counts as coded (a missing code is another rule's finding).
    const named = withLab('pneumonia', '钾', 2.5, 'mmol/L');
    named.frontPage.otherDiagnoses!.push({ code: 'E87.800', name: '低钾低氯血症', admissionCondition: '1' });
    expect(ruleFindings(named)).toEqual([]);
    const low = withLab('pneumonia', '钾', 2.5, 'mmol/L');
    expect(evaluateFrontPage(low, { codeTable }).map((f) => f.ruleId)).not.toContain(RULE);
    expect(evaluateRecord(low, { codeTable }).findings.map((f) => f.ruleId)).not.toContain(RULE);
    const otherTable = createCcMccTable([{ code: 'N17.901', level: 'MCC' }]);
    expect(ruleFindings(low, otherTable)).toEqual([]);
    // Anaemia by haemoglobin: D64.900 is neither MCC nor CC in CHS-DRG 1.1 (absent from the demo table) …
    const hb = withLab('lung-cancer', '血红蛋白', 76, 'g/L');
    expect(ruleFindings(hb)).toEqual([]);
    // … but a hospital table that lists it makes it count.
    const [f] = ruleFindings(hb, createCcMccTable([{ code: 'D64.900', level: 'CC', name: '贫血' }]));
    expect(f!.summary).toContain('D64.900 贫血为CC');
    expect(f!.summary).not.toContain('D62');
  });

  it('reads g/dL, ignores unknown units, non-blood specimens, bounds on the wrong side and labs of another stay', () => {
    expect(ruleFindings(withLab('appendicitis', '白蛋白', 2.6, 'g/dL'))).toHaveLength(1);
    expect(ruleFindings(withLab('appendicitis', '白蛋白', 26, 'mg/mL'))).toEqual([]);
    const urine = withLab('pneumonia', '钾', 2.1, 'mmol/L');
    urine.labs![0]!.specimen = '尿液';
    expect(ruleFindings(urine)).toEqual([]);
    const bound = withLab('pneumonia', '钾', 0, 'mmol/L');
    bound.labs![0]!.value = '>2.0';
    expect(ruleFindings(bound)).toEqual([]);
    bound.labs![0]!.value = '<2.0';
    expect(ruleFindings(bound)).toHaveLength(1);
    const old = withLab('pneumonia', '钾', 2.1, 'mmol/L');
    old.labs![0]!.time = '2019-01-01 08:00:00';
    expect(ruleFindings(old)).toEqual([]);
  });

  it('reports red cells on the front page as D62 (CC), citing F22', () => {
    const r = buildCase('appendicitis', 9);
    r.frontPage.transfusion = { reaction: '2', redCellsU: 3 };
    const [f] = ruleFindings(r);
    expect(f!.summary).toContain('红细胞3单位');
    expect(f!.summary).toContain('D62.x00 急性出血后贫血为CC');
    expect(f!.evidence.find((e) => e.ref === 'frontPage.transfusion.redCellsU')?.data?.fieldCode).toBe('F22');
    // Mixed levels name each code's level; the finding takes the higher.
    const mixed = createCcMccTable([
      { code: 'D62.x00', level: 'CC' },
      { code: 'D64.900', level: 'MCC' },
    ]);
    const [g] = ruleFindings(r, mixed);
    expect(g!.summary).toContain('D62.x00 急性出血后贫血（CC）、D64.900 贫血（MCC）为MCC');
  });

  it('takes an albumin order as evidence only when no indication is coded, and supersedes cs.treated-uncoded', () => {
    const r = buildCase('pneumonia', 11);
    r.medications!.push({
      id: 'alb',
      drugName: '人血白蛋白注射液',
      startTime: r.encounter.admissionTime,
      kind: 'long-term',
      status: 'completed',
    });
    const ids = (x: ReturnType<typeof evaluateRecord>) => x.findings.map((f) => f.ruleId);
    // Without a table: the treated-but-uncoded finding.
    expect(ids(evaluateRecord(r, { codeTable, config }))).toEqual(['cs.treated-uncoded']);
    // With a table: one finding, the CC one, citing the order.
    const withTable = evaluateRecord(r, { codeTable, config, ccMccTable });
    expect(ids(withTable)).toEqual([RULE]);
    expect(withTable.findings[0]!.evidence.find((e) => e.kind === 'order')?.ref).toBe('alb');
    expect(withTable.findings[0]!.summary).toContain('E77.801 低蛋白血症为CC');
    // A cancelled order is no evidence.
    r.medications!.at(-1)!.status = 'cancelled';
    expect(ids(evaluateRecord(r, { codeTable, config, ccMccTable }))).toEqual([]);
  });

  it('can be switched off and re-weighted by the config', () => {
    const r = withLab('pneumonia', '钾', 2.5, 'mmol/L');
    expect(ruleFindings(r)).toHaveLength(1);
    expect(
      evaluateFrontPage(r, { ccMccTable, config: { disabledRules: [RULE] } }).map((f) => f.ruleId),
    ).not.toContain(RULE);
    const [f] = evaluateFrontPage(r, { ccMccTable, config: { overrides: { [RULE]: { deduction: 4 } } } });
    expect(f!.deduction).toBe(4);
  });

  it('rejects an evidence file with unknown keys, unknown treated labels or codes outside the condition', () => {
    const text = readFileSync(new URL('../resources/cc-mcc-evidence.yaml', import.meta.url), 'utf8');
    const good = parseYaml(text) as { conditions: Record<string, unknown>[] };
    expect(() => parseCcMccEvidence(good)).not.toThrow();
    const clone = () => JSON.parse(JSON.stringify(good)) as typeof good;
    const extra = clone();
    extra.conditions[0]!.severity = 'high';
    expect(() => parseCcMccEvidence(extra, 'x.yaml')).toThrow(/x\.yaml: conditions\[0\]: Unrecognized key/);
    const treated = clone();
    (treated.conditions[0]!.evidence as unknown[]).push({ treated: '不存在的治疗' });
    expect(() => parseCcMccEvidence(treated)).toThrow(/unknown treated condition/);
    const codes = clone();
    (codes.conditions[0]!.evidence as unknown[]).push({
      lab: 'potassium',
      below: 2,
      unit: 'mmol/L',
      codes: ['X99.999'],
    });
    expect(() => parseCcMccEvidence(codes)).toThrow(/not one of the condition's codes/);
    const both = clone();
    (both.conditions[0]!.evidence as unknown[]).push({
      lab: 'potassium',
      below: 2,
      above: 7,
      unit: 'mmol/L',
    });
    expect(() => parseCcMccEvidence(both)).toThrow(/exactly one of below and above/);
  });
});

describe('CC/MCC fixtures', () => {
  const fixtures = generateCcMccFixtures();

  it('covers every evidence kind positively and negatively', () => {
    const kinds = (positive: boolean) =>
      new Set(fixtures.filter((f) => f.expected.length > 0 === positive).map((f) => f.defect.split('.')[0]));
    expect([...kinds(true)].sort()).toEqual(['front-page', 'lab', 'order', 'rise']);
    expect(fixtures.filter((f) => f.expected.length === 0).length).toBeGreaterThanOrEqual(10);
  });

  it('each fixture gives exactly its expected rule ids on the front page (demo CC/MCC table)', () => {
    const wrong: string[] = [];
    for (const f of fixtures) {
      const got = [
        ...new Set(evaluateFrontPage(f.record, { codeTable, ccMccTable, config }).map((x) => x.ruleId)),
      ];
      if (JSON.stringify(got) !== JSON.stringify(f.expected))
        wrong.push(`${f.record.id} ${f.defect}: ${got.join(',')}`);
    }
    expect(wrong).toEqual([]);
  });

  it('gives nothing without a CC/MCC table', () => {
    for (const f of fixtures)
      expect(
        evaluateFrontPage(f.record, { codeTable, config }).map((x) => x.ruleId),
        f.defect,
      ).toEqual([]);
  });

  it('leaves the QC fixture set as it is with the table: clean fixtures give zero findings', () => {
    const { frontPages, records } = generateQcFixtures();
    const wrong: string[] = [];
    const hasRedCells = (r: FixtureRecord) =>
      ((r.frontPage?.transfusion?.redCellsU ?? 0) > 0 || (r.frontPage?.transfusion?.wholeBloodMl ?? 0) > 0) &&
      ![r.frontPage.principalDiagnosis, ...(r.frontPage.otherDiagnoses ?? [])].some((d) =>
        /^D(5\d|6[0-4])/i.test(d?.code ?? ''),
      );
    for (const f of frontPages) {
      const got = new Set(
        evaluateFrontPage(f.record, { codeTable, ccMccTable, config }).map((x) => x.ruleId),
      );
      const want = new Set([...f.expected, ...(f.record.frontPage && hasRedCells(f.record) ? [RULE] : [])]);
      if ([...got].sort().join() !== [...want].sort().join())
        wrong.push(`${f.record.id} ${f.defect}: ${[...got]}`);
    }
    for (const f of records) {
      const got = new Set(
        evaluateRecord(f.record, { codeTable, ccMccTable, config }).findings.map((x) => x.ruleId),
      );
      const want = new Set([...f.expected, ...(hasRedCells(f.record) ? [RULE] : [])]);
      if ([...got].sort().join() !== [...want].sort().join())
        wrong.push(`${f.record.id} ${f.defect}: ${[...got]}`);
    }
    expect(wrong).toEqual([]);
    const clean = [...frontPages, ...records].filter((f) => f.defect === 'clean');
    expect(clean.length).toBeGreaterThan(100);
  });
});

describe.skipIf(!hasShared)('fp.secondary.cc-mcc-missing with the CHS-DRG 1.1 table (../shared)', () => {
  it('gives the same findings as the demo table on every CC/MCC fixture', () => {
    const table = loadCcMccTableCsv(tableFile);
    for (const f of generateCcMccFixtures()) {
      const a = evaluateFrontPage(f.record, { codeTable, ccMccTable: table }).map((x) => x.summary);
      const b = evaluateFrontPage(f.record, { codeTable, ccMccTable }).map((x) => x.summary);
      expect(a, f.defect).toEqual(b);
    }
  });

  it('finds nothing new in the twelve sample records, whose front pages code what their labs show', () => {
    const table = loadCcMccTableCsv(tableFile);
    const dir = fileURLToPath(new URL('../../../corpora/samples/', import.meta.url));
    const samples = readdirSync(dir).filter((f) => f.endsWith('.json') && !f.endsWith('.expected.json'));
    expect(samples.length).toBeGreaterThanOrEqual(12);
    for (const file of samples) {
      const record = JSON.parse(readFileSync(`${dir}${file}`, 'utf8'));
      expect(
        evaluateFrontPage(record, { ccMccTable: table }).filter((f) => f.ruleId === RULE),
        file,
      ).toEqual([]);
    }
  });
});
