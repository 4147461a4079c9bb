import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadCodeTableCsv, loadDemoCodeTable, parseCodeTableCsv } from './code-table.js';
import { evaluateFrontPage } from './evaluate.js';
import { buildCase } from './fixtures/cases.js';

const shared = process.env.YIJIAN_SHARED_DIR ?? fileURLToPath(new URL('../../../../shared', import.meta.url));
const icdDir = `${shared}/kg-data/icd-chs-yb2.0`;
const hasShared = existsSync(`${icdDir}/icd10_yb2.0_diagnosis.csv`);
if (!hasShared) console.warn(`[qc] ${icdDir} not found: skipping the tests against the national code tables`);

describe('code tables', () => {
  it('normalises case, spaces, full-width characters and dagger/asterisk marks', () => {
    const t = parseCodeTableCsv('code,name,synonyms\nI10.x00,高血压,原发性高血压\nA17.0,结核性脑膜炎,');
    expect(t.has('i10.X00 ')).toBe(true);
    expect(t.has('Ｉ10.x00')).toBe(true);
    expect(t.has('A17.0†G01*')).toBe(true);
    expect(t.nameMatches('I10.x00', '原发性高血压')).toBe(true);
    expect(t.nameMatches('I10.x00', '高 血 压')).toBe(true);
    expect(t.nameMatches('I10.x00', '继发性高血压')).toBe(false);
    expect(t.nameOf('I10.X00')).toBe('高血压');
  });

  it('rejects a header without code and name, naming the table', () => {
    expect(() => parseCodeTableCsv('icd,label\nA,B', 'my.csv')).toThrow(/my\.csv/);
    expect(() => parseCodeTableCsv('code,name\nA00,', 'my.csv')).toThrow(/line 2/);
  });

  it('ships a demo table', () => {
    expect(loadDemoCodeTable().size).toBeGreaterThan(50);
  });
});

describe.skipIf(!hasShared)('national code tables (../shared)', () => {
  const table = hasShared
    ? loadCodeTableCsv(`${icdDir}/icd10_yb2.0_diagnosis.csv`, `${icdDir}/icd9cm3_yb2.0_operation.csv`)
    : undefined;

  it('loads the 医保版 2.0 tables and knows every code of the demo table', () => {
    expect(table!.size).toBeGreaterThan(30_000);
    const demo = loadDemoCodeTable();
    const missing = [
      'J18.900',
      'I10.x00',
      'E11.900',
      'K35.800',
      'S72.000',
      'W01.x00',
      'C34.900',
      '47.0100',
      '81.5100',
      '32.4900',
    ].filter((c) => demo.has(c) && !table!.has(c));
    expect(missing).toEqual([]);
  });

  it('finds unknown codes and code-name mismatches against the national table', () => {
    const r = buildCase('pneumonia', 1);
    // Use the official names so the clean record agrees with the national table.
    r.frontPage.principalDiagnosis = {
      code: 'J18.900',
      name: table!.nameOf('J18.900')!,
      admissionCondition: '1',
    };
    r.frontPage.outpatientDiagnosis = { code: 'J18.900', name: table!.nameOf('J18.900')! };
    r.frontPage.otherDiagnoses = [
      { code: 'I10.x00', name: table!.nameOf('I10.x00')!, admissionCondition: '1' },
      { code: 'E11.900', name: table!.nameOf('E11.900')!, admissionCondition: '1' },
    ];
    expect(evaluateFrontPage(r, { codeTable: table! })).toEqual([]);
    r.frontPage.otherDiagnoses[0]!.code = 'I10.x99';
    r.frontPage.otherDiagnoses[1]!.name = '1型糖尿病';
    const ids = evaluateFrontPage(r, { codeTable: table! }).map((f) => f.ruleId);
    expect(ids.sort()).toEqual(['fp.code.name-mismatch', 'fp.code.unknown']);
  });
});
