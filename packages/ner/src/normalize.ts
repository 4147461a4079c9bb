import { readResourceJson } from './resources.js';
import { type NormalizationFile, normalizationFileSchema } from './schemas.js';

/**
 * Character folding that never changes the length of the text: each UTF-16 code unit maps to
 * exactly one code unit, so an index into the folded text IS the index into the original text.
 * Folds full-width ASCII (Ａ１：（ → A1:( ), odd spaces (NBSP, U+3000, zero-width …) to ' ',
 * dashes to '-', traditional characters to simplified ones, and optionally ASCII case.
 */
export interface TextFolder {
  /** Same length as `text`; `fold(text)[i]` is the folded form of `text[i]`. */
  fold(text: string): string;
  /** Fold one UTF-16 code unit. */
  foldCode(code: number): number;
}

export interface FolderOptions {
  /** Fold ASCII upper case to lower case (default true). */
  lowerCase?: boolean;
  /** Folding data; defaults to resources/zh/normalization.json. */
  data?: NormalizationFile;
}

let defaultData: NormalizationFile | undefined;
function loadDefaultNormalization(): NormalizationFile {
  defaultData ??= readResourceJson('normalization.json', normalizationFileSchema);
  return defaultData;
}

function buildTable(data: NormalizationFile, lowerCase: boolean): Uint16Array {
  const table = new Uint16Array(65536);
  for (let i = 0; i < 65536; i++) table[i] = i;
  // Full-width forms U+FF01..U+FF5E -> U+0021..U+007E.
  for (let c = 0xff01; c <= 0xff5e; c++) table[c] = c - 0xfee0;
  for (const ch of data.spaces) table[ch.charCodeAt(0)] = 0x20;
  for (const ch of data.dashes) table[ch.charCodeAt(0)] = 0x2d;
  const pairs = data.traditional + data.extra;
  for (let i = 0; i + 1 < pairs.length; i += 2) table[pairs.charCodeAt(i)] = pairs.charCodeAt(i + 1);
  // Apply the table twice for chains (Ｈ -> H -> h).
  if (lowerCase) {
    for (let c = 0x41; c <= 0x5a; c++) table[c] = c + 32;
    for (let i = 0; i < 65536; i++) {
      const t = table[i]!;
      if (t >= 0x41 && t <= 0x5a) table[i] = t + 32;
    }
  }
  return table;
}

const decoder = new TextDecoder('utf-16le');

export function createTextFolder(options: FolderOptions = {}): TextFolder {
  const table = buildTable(options.data ?? loadDefaultNormalization(), options.lowerCase ?? true);
  let buf = new Uint16Array(4096);
  return {
    foldCode: (code) => table[code]!,
    fold(text: string): string {
      const n = text.length;
      let i = 0;
      while (i < n) {
        const c = text.charCodeAt(i);
        if (table[c] !== c) break;
        i++;
      }
      if (i === n) return text;
      if (buf.length < n) buf = new Uint16Array(Math.max(n, buf.length * 2));
      let surrogates = false;
      for (let k = i; k < n; k++) {
        const c = text.charCodeAt(k);
        if ((c & 0xf800) === 0xd800) surrogates = true;
        buf[k] = table[c]!;
      }
      // The decoder would replace an unpaired surrogate with U+FFFD: fold those texts unit by unit.
      if (surrogates) return text.slice(0, i) + slowFold(text, i, table);
      return text.slice(0, i) + decoder.decode(buf.subarray(i, n));
    },
  };
}

/** Character-by-character fold, for texts with unpaired surrogates. */
function slowFold(text: string, from: number, table: Uint16Array): string {
  const parts: string[] = [];
  for (let k = from; k < text.length; k += 2048) {
    const end = Math.min(text.length, k + 2048);
    const codes: number[] = [];
    for (let j = k; j < end; j++) codes.push(table[text.charCodeAt(j)]!);
    parts.push(String.fromCharCode(...codes));
  }
  return parts.join('');
}

let defaultFolder: TextFolder | undefined;

/** The default folder (full width, spaces, dashes, traditional → simplified, lower case). */
export function getDefaultFolder(): TextFolder {
  defaultFolder ??= createTextFolder();
  return defaultFolder;
}

/** Fold `text` with the default folder; the result has the same length, so offsets carry over. */
export function normalizeText(text: string): string {
  return getDefaultFolder().fold(text);
}
