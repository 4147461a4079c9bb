import { getDefaultFolder, type TextFolder } from './normalize.js';
import { parseResource, readResourceJson } from './resources.js';
import {
  type SectionDefinition,
  type SectionDefinitionParsed,
  type SectionsFile,
  sectionDefinitionSchema,
  sectionsFileSchema,
} from './schemas.js';
import type { Section } from './types.js';

export interface SectionDetector {
  /** Sections of `text`; pass `folded` (the folded text, same length) when you already have it. */
  detect(text: string, folded?: string): Section[];
  /** Definitions in use (after merging user headers), by canonical name. */
  definitions: ReadonlyMap<string, SectionDefinitionParsed>;
}

export interface SectionDetectorOptions {
  /** Replace the shipped headers (resources/zh/sections.json). */
  sections?: SectionsFile;
  /** Headers to add: a known canonical name gets more variants, a new name is a new section. */
  extraSections?: SectionDefinition[];
  folder?: TextFolder;
}

let shipped: SectionsFile | undefined;
/** The shipped section headers (resources/zh/sections.json), validated. */
export function loadDefaultSections(): SectionsFile {
  shipped ??= readResourceJson('sections.json', sectionsFileSchema);
  return shipped;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

const NUMERAL = '(?:\\d{1,2}|[一二三四五六七八九十]{1,3})';
// Line-start characters and sentence ends after which a header may begin (folded text).
const LINE_BREAK = new Set([0x0a, 0x0d]);
const SENTENCE_END = new Set(['。', ';', '!', '?', '；'].map((c) => c.charCodeAt(0)));

/**
 * Detect sections. A header is a known spelling (folded: full width, traditional characters) that
 * starts a line, optionally numbered (一、 1. (1) （一）) or bracketed (【】 [] ()), and is followed
 * by a colon, a closing bracket, the end of the line, or spaces. After 。；！？ in running text a
 * header needs a colon. A section runs from its header to the next header.
 */
export function createSectionDetector(options: SectionDetectorOptions = {}): SectionDetector {
  const folder = options.folder ?? getDefaultFolder();
  const file = parseResource(
    options.sections ?? loadDefaultSections(),
    sectionsFileSchema,
    'section headers',
  );
  const defs = new Map<string, SectionDefinitionParsed>();
  const add = (d: SectionDefinitionParsed) => {
    const prev = defs.get(d.name);
    if (prev) {
      defs.set(d.name, {
        ...prev,
        variants: [...prev.variants, ...d.variants],
        default: d.default ?? prev.default,
      });
    } else defs.set(d.name, { ...d, variants: [...d.variants] });
  };
  for (const d of file.sections) add(d);
  for (const d of options.extraSections ?? [])
    add(parseResource(d, sectionDefinitionSchema, 'extra section header'));

  // Keys without spaces: 体 格 检 查 and 主 诉 are matched by allowing one space between characters.
  const byVariant = new Map<string, string>();
  for (const d of defs.values()) {
    for (const v of [d.name, ...d.variants]) {
      const key = folder.fold(v).replace(/[ \t]/g, '');
      if (key && !byVariant.has(key)) byVariant.set(key, d.name);
    }
  }
  const alternation = [...byVariant.keys()]
    .sort((a, b) => b.length - a.length || (a < b ? -1 : 1))
    .map((v) => [...v].map(escapeRegExp).join('[ \\t]?'))
    .join('|');
  // groups: 1 open bracket, 2 header, 3 close bracket, 4 colon, 5 trailing spaces.
  const headerRe = new RegExp(
    `[ \\t]*(?:${NUMERAL}[、.)]\\s*|\\(${NUMERAL}\\)\\s*)?([【\\[(]?)(${alternation})([】\\])]?)(?:[ \\t]*(:)|([ \\t]+))?`,
    'y',
  );

  // Characters a header can start with (after spaces): numbering, brackets, or a header's first character.
  const canStart = new Uint8Array(65536);
  for (const ch of ' \t0123456789一二三四五六七八九十(【[') canStart[ch.charCodeAt(0)] = 1;
  for (const v of byVariant.keys()) canStart[v.charCodeAt(0)] = 1;
  const boundary = new Uint8Array(65536);
  for (const c of LINE_BREAK) boundary[c] = 1;
  for (const c of SENTENCE_END) boundary[c] = 2;

  return {
    definitions: defs,
    detect(text: string, foldedIn?: string): Section[] {
      const folded = foldedIn ?? folder.fold(text);
      const n = folded.length;
      const sections: Section[] = [];
      const tryAt = (pos: number, lineStart: boolean): number => {
        headerRe.lastIndex = pos;
        const m = headerRe.exec(folded);
        if (!m) return -1;
        const open = m[1] ?? '';
        const close = m[3] ?? '';
        if (open && !close && !m[4]) return -1;
        if (!open && close) return -1;
        const end = m.index + m[0].length;
        const atLineEnd = end >= n || LINE_BREAK.has(folded.charCodeAt(end));
        const ok = m[4] !== undefined || (open && close) || (lineStart && (atLineEnd || m[5] !== undefined));
        if (!ok) return -1;
        // Header span: from the first non-space character to the colon / bracket / header end.
        let hs = m.index;
        while (hs < end && (folded[hs] === ' ' || folded[hs] === '\t')) hs++;
        let he = end;
        if (m[5] !== undefined) he -= m[5].length;
        while (he > hs && (folded[he - 1] === ' ' || folded[he - 1] === '\t')) he--;
        sections.push({
          name: byVariant.get(m[2]!.replace(/[ \t]/g, ''))!,
          header: { start: hs, end: he, text: text.slice(hs, he) },
          start: hs,
          end: n,
        });
        return end;
      };
      let i = 0;
      let prev = 1; // 1: line start, 2: after a sentence end, 0: elsewhere
      while (i < n) {
        if (prev !== 0 && canStart[folded.charCodeAt(i)] === 1) {
          const next = tryAt(i, prev === 1);
          if (next > i) {
            i = next;
            prev = 0;
            continue;
          }
        }
        prev = boundary[folded.charCodeAt(i)]!;
        i++;
      }
      for (let k = 0; k + 1 < sections.length; k++) sections[k]!.end = sections[k + 1]!.start;
      return sections;
    },
  };
}
