import { CdssError, fromZodIssues } from '@yijian/emr';
import { z } from 'zod';
import { type AttributeExtractor, createAttributeExtractor } from './attributes.js';
import { type ContextEngine, createContextEngine, type SectionDefault, typeMaskOf } from './context.js';
import { mergeMentions } from './merge.js';
import { getDefaultFolder, type TextFolder } from './normalize.js';
import type {
  AttributesFile,
  ContextRule,
  ContextRulesFile,
  SectionDefinition,
  SectionsFile,
} from './schemas.js';
import { createSectionDetector, type SectionDetector } from './sections.js';
import type { Annotation, Mention, RawMention, Section, Tagger } from './types.js';
import { extractVitals } from './vitals.js';

const isTagger = (t: unknown): t is Tagger =>
  typeof t === 'object' &&
  t !== null &&
  typeof (t as Tagger).name === 'string' &&
  typeof (t as Tagger).tag === 'function';

/** Options are checked when the annotator is created: unknown keys (a typo such as `resource`) are errors. */
const annotatorOptionsSchema = z.strictObject({
  taggers: z.array(z.custom<Tagger>(isTagger, '标注器（Tagger）需要 name 和 tag()')),
  resources: z
    .strictObject({
      sections: z.unknown().optional(),
      extraSections: z.array(z.unknown()).optional(),
      context: z.unknown().optional(),
      extraContextRules: z.array(z.unknown()).optional(),
      attributes: z.unknown().optional(),
    })
    .optional(),
  folder: z
    .custom<TextFolder>(
      (f) => typeof f === 'object' && f !== null && typeof (f as TextFolder).fold === 'function',
    )
    .optional(),
});

/** Data the annotator runs on; each part defaults to the shipped file under resources/zh/. */
export interface AnnotatorResources {
  /** Section headers (replaces resources/zh/sections.json). */
  sections?: SectionsFile;
  /** Extra section headers: your hospital's own spellings or new sections. */
  extraSections?: SectionDefinition[];
  /** Assertion cues (replaces resources/zh/context-rules.json). */
  context?: ContextRulesFile;
  /** Extra cue rules (same id replaces a shipped rule). */
  extraContextRules?: ContextRule[];
  /** Routes, frequencies and units (replaces resources/zh/attributes.json). */
  attributes?: AttributesFile;
}

export interface AnnotatorOptions {
  taggers: Tagger[];
  resources?: AnnotatorResources;
  /** Character folding used by every stage (default: full width, case, traditional characters). */
  folder?: TextFolder;
}

export interface Annotator {
  /** Run the taggers, then {@link Annotator.annotateMentions}. */
  annotate(text: string): Promise<Annotation>;
  /**
   * The rule path on mentions you already have (from a tagger, a gold file, a previous run):
   * merge overlaps, detect sections, assign assertion and attributes, read vital signs. Synchronous.
   */
  annotateMentions(text: string, mentions: readonly RawMention[]): Annotation;
  readonly sectionDetector: SectionDetector;
  readonly context: ContextEngine;
  readonly attributes: AttributeExtractor;
}

/**
 * The annotation pipeline: taggers → merge (longer, then higher score wins) → sections →
 * assertion (ConText) → attributes → vital signs. Everything it needs is data passed in; it does
 * not use the knowledge graph.
 */
export function createAnnotator(options: AnnotatorOptions): Annotator {
  const checked = annotatorOptionsSchema.safeParse(options);
  if (!checked.success) {
    throw fromZodIssues('CDSS_ERR_INVALID_CONFIG', 'createAnnotator 的配置不正确', checked.error.issues);
  }
  const folder = options.folder ?? getDefaultFolder();
  const res = options.resources ?? {};
  const sectionDetector = createSectionDetector({
    folder,
    ...(res.sections ? { sections: res.sections } : {}),
    ...(res.extraSections ? { extraSections: res.extraSections } : {}),
  });
  const context = createContextEngine({
    folder,
    ...(res.context ? { rules: res.context } : {}),
    ...(res.extraContextRules ? { extraRules: res.extraContextRules } : {}),
  });
  const attributes = createAttributeExtractor({
    folder,
    ...(res.attributes ? { attributes: res.attributes } : {}),
  });
  const sectionDefaults = new Map<string, SectionDefault>();
  for (const d of sectionDetector.definitions.values()) {
    if (d.default)
      sectionDefaults.set(d.name, { status: d.default.status, typeMask: typeMaskOf(d.default.types) });
  }

  function annotateMentions(text: string, raw: readonly RawMention[]): Annotation {
    const folded = folder.fold(text);
    const sections: Section[] = sectionDetector.detect(text, folded);
    // Mentions inside a header (现病史 is not a disease) are dropped.
    let merged = mergeMentions(raw.filter((m) => m.start >= 0 && m.end <= text.length));
    if (sections.length > 0) {
      let h = 0;
      merged = merged.filter((m) => {
        while (h < sections.length && sections[h]!.header.end <= m.start) h++;
        return !(h < sections.length && m.end > sections[h]!.header.start);
      });
    }
    const assertions = context.assert(text, merged, sections, sectionDefaults, folded);
    const mentions: Mention[] = new Array(merged.length);
    let si = -1;
    let previousDrug: { end: number; route?: string } | undefined;
    for (let i = 0; i < merged.length; i++) {
      const m = merged[i]!;
      while (si + 1 < sections.length && sections[si + 1]!.start <= m.start) si++;
      const out: Mention = {
        start: m.start,
        end: m.end,
        type: m.type,
        text: text.slice(m.start, m.end),
        score: m.score,
        source: m.source,
        assertion: assertions[i]!,
      };
      if (m.conceptId !== undefined) out.conceptId = m.conceptId;
      if (si >= 0) out.section = sections[si]!.name;
      if (m.type === 'drug' || m.type === 'lab') {
        const w = {
          start: m.start,
          end: m.end,
          prevEnd: i > 0 ? merged[i - 1]!.end : 0,
          nextStart: i + 1 < merged.length ? merged[i + 1]!.start : text.length,
          ...(m.type === 'drug' && previousDrug ? { previousDrug } : {}),
        };
        if (m.type === 'drug') {
          const a = attributes.drug(folded, w);
          if (a) out.attributes = a;
          previousDrug = a?.route ? { end: m.end, route: a.route } : { end: m.end };
        } else {
          const a = attributes.lab(folded, w);
          if (a) out.attributes = a;
        }
      }
      mentions[i] = out;
    }
    return { text, sections, mentions, vitals: extractVitals(text, folded) };
  }

  return {
    sectionDetector,
    context,
    attributes,
    annotateMentions,
    async annotate(text: string): Promise<Annotation> {
      if (typeof text !== 'string')
        throw new CdssError('CDSS_ERR_INVALID_REQUEST', 'annotate：text 必须是字符串');
      const results = await Promise.all(options.taggers.map((t) => t.tag(text)));
      return annotateMentions(text, results.flat());
    },
  };
}
