import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CdssError } from '@yijian/emr';
import { normaliseCode, primaryCode } from './icd.js';

/**
 * A code table the hospital supplies (国临版 or 医保版 diagnosis / procedure codes): CSV with a header
 * line `code,name` (other columns are ignored). Lookups normalise case, spaces, full-width characters,
 * `x`/`X` and dagger/asterisk marks.
 */
export interface CodeTable {
  readonly size: number;
  /** The official name of a code, or undefined when the code is not in the table. */
  nameOf(code: string): string | undefined;
  has(code: string): boolean;
  /** Is `name` the code's name or an allowed synonym (after name normalisation)? */
  nameMatches(code: string, name: string): boolean;
}

export interface CodeTableEntry {
  code: string;
  name: string;
  /** Other names accepted for the code. */
  synonyms?: string[];
}

function tableKey(code: string): string {
  return primaryCode(code);
}

/** Names compare without spaces, brackets' width, and the trailing 的/等 noise of free text. */
export function normaliseName(name: string): string {
  return normaliseCode(name).replace(/[()（）［］[\]\s,，、]/g, '');
}

export function createCodeTable(entries: readonly CodeTableEntry[]): CodeTable {
  const names = new Map<string, { name: string; accepted: Set<string> }>();
  for (const e of entries) {
    const key = tableKey(e.code);
    if (!key) continue;
    const slot = names.get(key) ?? { name: e.name, accepted: new Set<string>() };
    slot.accepted.add(normaliseName(e.name));
    for (const s of e.synonyms ?? []) slot.accepted.add(normaliseName(s));
    names.set(key, slot);
  }
  return {
    size: names.size,
    nameOf: (code) => names.get(tableKey(code))?.name,
    has: (code) => names.has(tableKey(code)),
    nameMatches: (code, name) => names.get(tableKey(code))?.accepted.has(normaliseName(name)) ?? false,
  };
}

/** Split one CSV line (RFC 4180 quotes). */
export function splitCsvLine(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cur += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out;
}

/**
 * Parse CSV text with a header naming `code` and `name` columns (an optional `synonyms` column holds
 * `|`-separated names). A missing column is `CDSS_ERR_INVALID_DATA` naming the file.
 */
export function parseCodeTableCsv(text: string, what = 'code table'): CodeTable {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const header = splitCsvLine(lines[0] ?? '').map((h) => h.trim().toLowerCase());
  const ci = header.indexOf('code');
  const ni = header.indexOf('name');
  const si = header.indexOf('synonyms');
  if (ci < 0 || ni < 0) {
    throw new CdssError('CDSS_ERR_INVALID_DATA', `${what}: the header must name the columns code and name`, {
      issues: [{ path: [what, 1], message: `header is ${JSON.stringify(lines[0] ?? '')}` }],
    });
  }
  const entries: CodeTableEntry[] = [];
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (!line.trim() || line.startsWith('#')) continue;
    const cells = splitCsvLine(line);
    const code = cells[ci]?.trim();
    const name = cells[ni]?.trim();
    if (!code || !name) {
      throw new CdssError('CDSS_ERR_INVALID_DATA', `${what}: line ${i + 1} needs both code and name`, {
        issues: [{ path: [what, i + 1], message: 'code and name are required' }],
      });
    }
    const synonyms = si >= 0 ? (cells[si] ?? '').split('|').filter(Boolean) : [];
    entries.push({ code, name, synonyms });
  }
  return createCodeTable(entries);
}

/** Read a `code,name` CSV file; unreadable files are `CDSS_ERR_IO`. */
export function loadCodeTableCsv(...files: string[]): CodeTable {
  const entries: string[] = [];
  for (const file of files) {
    try {
      entries.push(readFileSync(file, 'utf8'));
    } catch (error) {
      throw new CdssError('CDSS_ERR_IO', `Cannot read code table ${file}: ${(error as Error).message}`, {
        cause: error,
      });
    }
  }
  if (entries.length === 1) return parseCodeTableCsv(entries[0]!, files[0]);
  return mergeCodeTables(entries.map((text, i) => parseCodeTableCsv(text, files[i])));
}

/** One table answering from several (diagnoses and procedures kept in separate files). */
export function mergeCodeTables(tables: readonly CodeTable[]): CodeTable {
  return {
    size: tables.reduce((n, t) => n + t.size, 0),
    nameOf: (code) => {
      for (const t of tables) {
        const n = t.nameOf(code);
        if (n !== undefined) return n;
      }
      return undefined;
    },
    has: (code) => tables.some((t) => t.has(code)),
    nameMatches: (code, name) => tables.some((t) => t.nameMatches(code, name)),
  };
}

let demo: CodeTable | undefined;

/** The small demo table shipped in resources/demo-code-table.csv (for examples and fixtures only). */
export function loadDemoCodeTable(): CodeTable {
  demo ??= loadCodeTableCsv(fileURLToPath(new URL('../resources/demo-code-table.csv', import.meta.url)));
  return demo;
}
