import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CdssError } from '@yijian/emr';
import { splitCsvLine } from './code-table.js';
import { primaryCode } from './icd.js';

/**
 * A CC/MCC table the hospital supplies (CHS-DRG 1.1 lists of major complications/comorbidities and
 * complications/comorbidities, keyed by 医保版 diagnosis code): CSV with a header naming `code` and
 * `level` (`MCC` or `CC`) and optionally `name`. It is never shipped: the national list belongs to the
 * hospital's DRG version, exactly like its code tables.
 *
 * How the CHS-DRG 1.1 table reads (checked against the 21,246-row list): every row is a full 医保版 code
 * (`E87.600`, `E87.600x002`, `D69.005+N08.2*`); when a code is listed, every extension under it
 * (`E87.600x0nn`) is listed too with the same level, and each four-character subcategory is either listed
 * whole with one level or not at all. So a lookup answers:
 * 1. the code itself (after normalising case, `x`/`X`, spaces, full-width characters and keeping the
 *    dagger part of a dagger/asterisk pair);
 * 2. else its six-digit parent (`E87.600X009` → `E87.600`), for local or 国临版 extensions the list lacks;
 * 3. else, for a code written short (`E87.6`, `D62`, `E87.60`), the padded 医保版 form (`E87.600`, `D62.X00`).
 * A code that only shares a subcategory with listed codes is not answered (a local list may list part of one).
 */
export type CcMccLevel = 'MCC' | 'CC';

export interface CcMccEntry {
  code: string;
  level: CcMccLevel;
  name?: string;
}

export interface CcMccTable {
  /** Number of distinct codes listed. */
  readonly size: number;
  /** The level of a code (see the lookup order above), or undefined when it is neither MCC nor CC. */
  levelOf(code: string): CcMccLevel | undefined;
  /** The listed entry that answers for a code, with the table's own code spelling and name. */
  lookup(code: string): CcMccEntry | undefined;
}

const LEVEL_RANK: Record<CcMccLevel, number> = { CC: 1, MCC: 2 };

/** The higher of two levels (MCC outranks CC). */
export function higherLevel(a: CcMccLevel | undefined, b: CcMccLevel | undefined): CcMccLevel | undefined {
  if (!a) return b;
  if (!b) return a;
  return LEVEL_RANK[b] > LEVEL_RANK[a] ? b : a;
}

function candidates(code: string): string[] {
  const key = primaryCode(code);
  if (!key) return [];
  const out = [key];
  // E87.600X002 → E87.600 (an extension the list does not carry).
  if (/^[A-Z]\d{2}\.[0-9X]\d{2}X\d+$/.test(key)) out.push(key.slice(0, 7));
  // Short spellings → the padded 医保版 form.
  if (/^[A-Z]\d{2}$/.test(key)) out.push(`${key}.X00`);
  else if (/^[A-Z]\d{2}\.\d$/.test(key)) out.push(`${key}00`);
  else if (/^[A-Z]\d{2}\.\d{2}$/.test(key)) out.push(`${key}0`);
  return out;
}

/** Build a table from entries; a code listed twice with different levels keeps the higher one. */
export function createCcMccTable(entries: readonly CcMccEntry[]): CcMccTable {
  const byKey = new Map<string, CcMccEntry>();
  for (const e of entries) {
    const key = primaryCode(e.code);
    if (!key) continue;
    const prev = byKey.get(key);
    if (!prev || higherLevel(prev.level, e.level) !== prev.level) byKey.set(key, e);
  }
  const lookup = (code: string): CcMccEntry | undefined => {
    for (const k of candidates(code)) {
      const hit = byKey.get(k);
      if (hit) return hit;
    }
    return undefined;
  };
  return {
    size: byKey.size,
    lookup,
    levelOf: (code) => lookup(code)?.level,
  };
}

function invalid(what: string, line: number, message: string): CdssError {
  return new CdssError('CDSS_ERR_INVALID_DATA', `${what}: line ${line}: ${message}`, {
    issues: [{ path: [what, line], message }],
  });
}

/**
 * Parse CSV text with a header naming `code` and `level` (optional `name`; other columns are ignored).
 * RFC 4180 quotes, a UTF-8 BOM, CRLF line ends, blank lines and `#` comment lines are accepted. A header
 * without the columns, an empty code or a level other than MCC/CC is `CDSS_ERR_INVALID_DATA` naming the
 * file and the line.
 */
export function parseCcMccTableCsv(text: string, what = 'CC/MCC table'): CcMccTable {
  return createCcMccTable(parseEntries(text, what));
}

function parseEntries(text: string, what: string): CcMccEntry[] {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const header = splitCsvLine(lines[0] ?? '').map((h) => h.trim().toLowerCase());
  const ci = header.indexOf('code');
  const li = header.indexOf('level');
  const ni = header.indexOf('name');
  if (ci < 0 || li < 0) {
    throw invalid(
      what,
      1,
      `the header must name the columns code and level (got ${JSON.stringify(lines[0] ?? '')})`,
    );
  }
  const entries: CcMccEntry[] = [];
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (!line.trim() || line.startsWith('#')) continue;
    const cells = splitCsvLine(line);
    const code = cells[ci]?.trim();
    const level = cells[li]?.trim().toUpperCase();
    if (!code) throw invalid(what, i + 1, 'the code is empty');
    if (level !== 'MCC' && level !== 'CC')
      throw invalid(what, i + 1, `level must be MCC or CC, got ${JSON.stringify(cells[li] ?? '')}`);
    const name = ni >= 0 ? cells[ni]?.trim() : undefined;
    entries.push({ code, level, ...(name ? { name } : {}) });
  }
  return entries;
}

/** Read one or more `code,level[,name]` CSV files into one table; unreadable files are `CDSS_ERR_IO`. */
export function loadCcMccTableCsv(...files: string[]): CcMccTable {
  if (files.length === 0) throw new CdssError('CDSS_ERR_IO', 'No CC/MCC table file given');
  const entries: CcMccEntry[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      throw new CdssError('CDSS_ERR_IO', `Cannot read CC/MCC table ${file}: ${(error as Error).message}`, {
        cause: error,
      });
    }
    entries.push(...parseEntries(text, file));
  }
  return createCcMccTable(entries);
}

let demo: CcMccTable | undefined;

/**
 * The small demo table shipped in resources/demo-cc-mcc.csv: only the codes the evidence file names, with
 * their CHS-DRG 1.1 levels, for examples and fixtures. Hospitals pass their own table.
 */
export function loadDemoCcMccTable(): CcMccTable {
  demo ??= loadCcMccTableCsv(fileURLToPath(new URL('../resources/demo-cc-mcc.csv', import.meta.url)));
  return demo;
}
