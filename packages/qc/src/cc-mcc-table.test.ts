import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CdssError } from '@yijian/emr';
import { afterAll, describe, expect, it } from 'vitest';
import {
  createCcMccTable,
  loadCcMccTableCsv,
  loadDemoCcMccTable,
  parseCcMccTableCsv,
} from './cc-mcc-table.js';
import { ccMccEvidence } from './secondary-cc-mcc.js';

const shared = process.env.YIJIAN_SHARED_DIR ?? fileURLToPath(new URL('../../../../shared', import.meta.url));
const tableFile = `${shared}/kg-data/icd-chs-yb2.0/chs_drg_1.1_mcc_cc.csv`;
const hasShared = existsSync(tableFile);
if (!hasShared)
  console.warn(`[qc] ${tableFile} not found: skipping the tests against the CHS-DRG 1.1 CC/MCC table`);

const tmp = mkdtempSync(join(tmpdir(), 'yijian-ccmcc-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function thrown(fn: () => unknown): CdssError {
  try {
    fn();
  } catch (error) {
    if (error instanceof CdssError) return error;
    throw error;
  }
  throw new Error('expected a CdssError');
}

describe('CC/MCC tables', () => {
  it('normalise case, x/X, spaces, full-width characters and dagger/asterisk pairs', () => {
    const t = parseCcMccTableCsv(
      'code,level,name\nE87.600,CC,低钾血症\nD62.x00,CC,急性出血后贫血\nD69.005+N08.2*,CC,肾型过敏性紫癜\nN17.901,MCC,急性肾损害\n',
    );
    expect(t.size).toBe(4);
    expect(t.levelOf('e87.600')).toBe('CC');
    expect(t.levelOf(' Ｅ87.600 ')).toBe('CC');
    expect(t.levelOf('D62.X00')).toBe('CC');
    expect(t.levelOf('D69.005†N08.2*')).toBe('CC');
    expect(t.levelOf('D69.005')).toBe('CC');
    expect(t.levelOf('N17.901')).toBe('MCC');
    expect(t.lookup('n17.901')).toEqual({ code: 'N17.901', level: 'MCC', name: '急性肾损害' });
    expect(t.levelOf('I10.X00')).toBeUndefined();
  });

  it('answer an extension through its listed parent and a short code through its padded form', () => {
    const t = createCcMccTable([
      { code: 'E87.600', level: 'CC' },
      { code: 'D62.x00', level: 'CC' },
    ]);
    expect(t.levelOf('E87.600x009')).toBe('CC');
    expect(t.lookup('E87.600X009')?.code).toBe('E87.600');
    expect(t.levelOf('E87.6')).toBe('CC');
    expect(t.levelOf('E87.60')).toBe('CC');
    expect(t.levelOf('D62')).toBe('CC');
    // A sibling of a listed code is not answered: a list may hold part of a subcategory.
    expect(t.levelOf('E87.601')).toBeUndefined();
    expect(t.levelOf('E87')).toBeUndefined();
  });

  it('keep the higher level when a code is listed twice', () => {
    const t = createCcMccTable([
      { code: 'J96.900', level: 'CC' },
      { code: 'j96.900', level: 'MCC' },
      { code: 'J96.900', level: 'CC' },
    ]);
    expect(t.levelOf('J96.900')).toBe('MCC');
    expect(t.size).toBe(1);
  });

  it('read quotes, a BOM, CRLF, blank and comment lines, and columns in any order', () => {
    const t = parseCcMccTableCsv(
      '\uFEFFname,code,level,extra\r\n# comment\r\n"贫血,其他的",D64.800,cc,x\r\n\r\n"含""引号""",E87.102,MCC,\r\n',
    );
    expect(t.lookup('D64.800')).toEqual({ code: 'D64.800', level: 'CC', name: '贫血,其他的' });
    expect(t.lookup('E87.102')?.name).toBe('含"引号"');
    expect(t.size).toBe(2);
  });

  it('reject a bad header, an empty code or a bad level, naming the file and the line', () => {
    const header = thrown(() => parseCcMccTableCsv('code,name\nE87.600,低钾血症', 'cc.csv'));
    expect(header.code).toBe('CDSS_ERR_INVALID_DATA');
    expect(header.message).toMatch(/cc\.csv: line 1/);
    const level = thrown(() => parseCcMccTableCsv('code,level\nE87.600,CC\nE87.500,MAJOR\n', 'cc.csv'));
    expect(level.code).toBe('CDSS_ERR_INVALID_DATA');
    expect(level.message).toMatch(/cc\.csv: line 3: level must be MCC or CC/);
    expect(level.issues[0]!.path).toEqual(['cc.csv', 3]);
    const empty = thrown(() => parseCcMccTableCsv('code,level\n,CC\n', 'cc.csv'));
    expect(empty.message).toMatch(/line 2: the code is empty/);
  });

  it('load several files, and report a missing file as CDSS_ERR_IO', () => {
    const a = join(tmp, 'a.csv');
    const b = join(tmp, 'b.csv');
    writeFileSync(a, 'code,level\nE87.600,CC\n');
    writeFileSync(b, 'code,level,name\nN17.901,MCC,急性肾损害\n');
    const t = loadCcMccTableCsv(a, b);
    expect(t.levelOf('E87.600')).toBe('CC');
    expect(t.levelOf('N17.901')).toBe('MCC');
    const missing = thrown(() => loadCcMccTableCsv(join(tmp, 'nope.csv')));
    expect(missing.code).toBe('CDSS_ERR_IO');
    expect(missing.message).toMatch(/nope\.csv/);
    writeFileSync(b, 'code,level\nN17.901,XCC\n');
    expect(thrown(() => loadCcMccTableCsv(a, b)).message).toMatch(/b\.csv: line 2/);
  });

  it('ship a demo table that lists every CC/MCC code the evidence file names, and nothing else', () => {
    const demo = loadDemoCcMccTable();
    const named = new Set(
      ccMccEvidence().data.conditions.flatMap((c) => c.codes.map((x) => x.code.toUpperCase())),
    );
    const text = readFileSync(new URL('../resources/demo-cc-mcc.csv', import.meta.url), 'utf8');
    const listed = text
      .split('\n')
      .slice(1)
      .filter((l) => l && !l.startsWith('#'))
      .map((l) => l.split(',')[0]!.toUpperCase());
    expect(demo.size).toBe(listed.length);
    for (const code of listed) expect(named, code).toContain(code);
  });
});

describe.skipIf(!hasShared)('the CHS-DRG 1.1 CC/MCC table (../shared)', () => {
  const table = hasShared ? loadCcMccTableCsv(tableFile) : undefined;

  it('loads all rows and answers known levels', () => {
    expect(table!.size).toBe(21_246);
    expect(table!.levelOf('E87.600')).toBe('CC');
    expect(table!.levelOf('E87.600x003')).toBe('CC');
    expect(table!.levelOf('N17.901')).toBe('MCC');
    expect(table!.levelOf('J96.900x002')).toBe('MCC');
    expect(table!.levelOf('A41.900')).toBe('MCC');
    expect(table!.levelOf('D62.X00')).toBe('CC');
    expect(table!.levelOf('D69.005+N08.2*')).toBe('CC');
    // Neither MCC nor CC.
    expect(table!.levelOf('D64.900')).toBeUndefined();
    expect(table!.levelOf('E11.900')).toBeUndefined();
    expect(table!.levelOf('I10.X00')).toBeUndefined();
  });

  it('agrees with the demo table on every code the demo lists, and on every code the evidence file names', () => {
    const demo = loadDemoCcMccTable();
    for (const c of ccMccEvidence().data.conditions)
      for (const { code } of c.codes) expect(demo.levelOf(code), code).toBe(table!.levelOf(code));
    const text = readFileSync(new URL('../resources/demo-cc-mcc.csv', import.meta.url), 'utf8');
    for (const line of text.split('\n').slice(1)) {
      if (!line || line.startsWith('#')) continue;
      const [code, level, name] = line.split(',');
      expect(table!.lookup(code!), code).toEqual({ code: code!, level, name });
    }
  });
});
