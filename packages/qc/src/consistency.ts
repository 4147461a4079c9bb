import { type ClinicalDocument, fromZodIssues, localDate, type PatientRecord } from '@yijian/emr';
import type { Annotation, Mention } from '@yijian/ner';
import type { PatientFacts } from '@yijian/rules';
import { z } from 'zod';
import { readResource } from './catalog.js';
import type { QcConfig } from './config.js';
import { isBlank } from './fields.js';
import type { Emit } from './findings.js';
import { matchesAny } from './icd.js';
import { docsOfType } from './timeliness.js';
import type { Evidence } from './types.js';

/**
 * Consistency checks through NER (issue 7 §4): the text of the record against its coded front page.
 * Each finding cites the text spans (document id + offsets into the original text) and the fields.
 * Assertion comes from @yijian/ner annotations when given (negated, family, hypothetical mentions never
 * count); without annotations a clause-level cue check stands in, so QC still runs on bare records.
 */

/** A graph concept with its lineage (itself and its IS_A / BELONGS_TO ancestors). */
export interface ResolvedConcept {
  id: string;
  lineage: ReadonlySet<string>;
}

/** Links coded or named diagnoses and procedures to knowledge-graph concepts. */
export interface ConceptResolver {
  /** The concept of a coded diagnosis or procedure, by code then by name. */
  coded(
    kind: 'diagnosis' | 'procedure',
    code: string | undefined,
    name: string | undefined,
  ): ResolvedConcept | undefined;
  /** The concept of a text mention: its conceptId from the tagger, else linked by its text. */
  text(kind: 'diagnosis' | 'procedure', text: string, conceptId?: string): ResolvedConcept | undefined;
}

export interface ConsistencyInput {
  annotations: ReadonlyMap<string, Annotation>;
  resolver?: ConceptResolver;
  /** Rule ids that already fired for this record (to avoid a second finding on the same defect). */
  fired: ReadonlySet<string>;
  /** Facts from @yijian/rules: medication orders linked to graph concepts and classes. */
  facts?: PatientFacts;
  /**
   * Treated-condition labels whose orders fp.secondary.cc-mcc-missing already reported (as evidence of a
   * missing CC/MCC): cs.treated-uncoded stays silent on them so one defect is not deducted twice.
   */
  supersededTreated?: ReadonlySet<string>;
}

// --- data --------------------------------------------------------------------------------------------------

const termSchema = z.strictObject({
  terms: z.array(z.string().min(1)).min(1),
  /** The patient sex the terms belong to. */
  sex: z.enum(['male', 'female']).optional(),
  /** The terms are wrong for patients younger than this (years). */
  minAge: z.number().optional(),
  /** The terms are wrong for patients older than this (years). */
  maxAge: z.number().optional(),
  label: z.string().min(1),
});

const treatedSchema = z.strictObject({
  label: z.string().min(1),
  /** Regular expression over the order's drug name. */
  orders: z.string().min(1),
  /** Also triggered by front-page transfusion quantities / blood fee. */
  frontPageTransfusion: z.boolean().default(false),
  /** ICD-10 ranges (`E10-E14`) or prefixes (`K92.2`) one of which must be coded. */
  codes: z.array(z.string().min(1)).min(1),
  condition: z.string().min(1),
});

export const consistencyFileSchema = z.strictObject({
  version: z.string(),
  patientTerms: z.array(termSchema),
  treatedConditions: z.array(treatedSchema),
  /** Cues that negate a term in the same clause when no NER annotation is given. */
  negationCues: z.array(z.string().min(1)),
  /** Sections whose content is not about the patient's own body (family history …). */
  otherPersonSections: z.array(z.string().min(1)),
});
export type ConsistencyData = z.infer<typeof consistencyFileSchema>;

let cached: (ConsistencyData & { termRes: RegExp[]; orderRes: RegExp[]; negRe: RegExp }) | undefined;

export function consistencyData(): NonNullable<typeof cached> {
  if (cached) return cached;
  const parsed = consistencyFileSchema.safeParse(readResource('consistency.yaml'));
  if (!parsed.success)
    throw fromZodIssues('CDSS_ERR_INVALID_DATA', 'Invalid resources/consistency.yaml', parsed.error.issues);
  const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  cached = {
    ...parsed.data,
    termRes: parsed.data.patientTerms.map((t) => new RegExp(t.terms.map(esc).join('|'), 'g')),
    orderRes: parsed.data.treatedConditions.map((t) => new RegExp(t.orders)),
    negRe: new RegExp(parsed.data.negationCues.map(esc).join('|')),
  };
  return cached;
}

// --- text helpers --------------------------------------------------------------------------------------------

const CLAUSE_BREAK = /[。；;！!？?\n，,]/;

/** The clause around [start, end): from the previous sentence break to the next one. */
function clauseAround(text: string, start: number, end: number): { start: number; end: number } {
  let a = start;
  while (a > 0 && !CLAUSE_BREAK.test(text[a - 1]!)) a--;
  let b = end;
  while (b < text.length && !CLAUSE_BREAK.test(text[b]!)) b++;
  return { start: a, end: b };
}

/** Section name at an offset: from the annotation, else the nearest `header：` line above. */
function sectionAt(text: string, offset: number, annotation: Annotation | undefined): string | undefined {
  if (annotation) {
    const s = annotation.sections.find((x) => x.start <= offset && offset < x.end);
    if (s) return s.name;
  }
  const lineStart = text.lastIndexOf('\n', offset - 1) + 1;
  const m = /^[ \t\u3000]*[【[]?([\u4e00-\u9fff]{2,8})[】\]]?[:：]/.exec(text.slice(lineStart));
  return m ? m[1] : undefined;
}

/** Does the patient's record assert this span (not negated, family, hypothetical or merely possible)? */
function asserted(
  text: string,
  start: number,
  end: number,
  annotation: Annotation | undefined,
  data: ConsistencyData & { negRe: RegExp },
): boolean {
  const section = sectionAt(text, start, annotation);
  if (section && data.otherPersonSections.includes(section)) return false;
  const mention = annotation?.mentions.find((m) => m.start <= start && end <= m.end);
  if (mention) return mention.assertion.status === 'present' || mention.assertion.status === 'historical';
  const clause = clauseAround(text, start, end);
  return !data.negRe.test(text.slice(clause.start, start));
}

function textEvidence(doc: ClinicalDocument, start: number, end: number, label?: string): Evidence {
  return {
    kind: 'text',
    ref: `documents/${doc.id}`,
    documentId: doc.id,
    span: { start, end },
    text: `${doc.type}（${doc.id}）${label ? `${label}` : ''}“${doc.text.slice(start, end)}”`,
  };
}

function bigrams(s: string): Map<string, number> {
  const out = new Map<string, number>();
  for (let i = 0; i + 1 < s.length; i++) {
    const g = s.slice(i, i + 2);
    out.set(g, (out.get(g) ?? 0) + 1);
  }
  return out;
}

/** Sørensen–Dice similarity of character bigrams (multiset), 0–1. */
export function diceSimilarity(a: string, b: string): number {
  if (a.length < 2 || b.length < 2) return a === b ? 1 : 0;
  const ga = bigrams(a);
  const gb = bigrams(b);
  let common = 0;
  for (const [g, n] of ga) common += Math.min(n, gb.get(g) ?? 0);
  return (2 * common) / (a.length - 1 + (b.length - 1));
}

function normName(s: string): string {
  return s
    .replace(/[（(][^）)]*[）)]/g, '')
    .replace(/[\s\u3000"“”‘’'、，,。；;：:]/g, '')
    .replace(/^(左|右|双)侧?/, '')
    .replace(/(术|手术)$/, '');
}

function longestCommonSubstring(a: string, b: string): number {
  let best = 0;
  for (let i = 0; i < a.length; i++) {
    for (let j = 0; j < b.length; j++) {
      let k = 0;
      while (i + k < a.length && j + k < b.length && a[i + k] === b[j + k]) k++;
      if (k > best) best = k;
    }
  }
  return best;
}

/** Share of the shorter name's characters found in the longer one. */
function coverage(a: string, b: string): number {
  const [short, long] = a.length <= b.length ? [a, b] : [b, a];
  const pool = [...long];
  let hit = 0;
  for (const ch of short) {
    const k = pool.indexOf(ch);
    if (k >= 0) {
      hit++;
      pool.splice(k, 1);
    }
  }
  return short.length ? hit / short.length : 0;
}

/** Do two clinical names say the same thing? Lenient on purpose: an uncoded-item finding must be sure. */
export function sameClinicalName(a: string, b: string): boolean {
  const x = normName(a);
  const y = normName(b);
  if (!x || !y) return false;
  if (x === y || x.includes(y) || y.includes(x)) return true;
  const lcs = longestCommonSubstring(x, y);
  if (lcs >= 3) return true;
  return lcs >= 2 && coverage(x, y) >= 0.75;
}

/**
 * Split a diagnosis / operation list into items with offsets. Numbered lists ("1. 肺炎　2. 高血压") split at
 * the numbers only, so commas inside an item stay; unnumbered lists split at ；、，+ and line breaks.
 * Separators inside brackets never split.
 */
export function listItems(
  text: string,
  start: number,
  end: number,
): { start: number; end: number; name: string }[] {
  const body = text.slice(start, end);
  const numbered = /(?:^|[\s\u3000；;，,])\d{1,2}[.．、]/.test(body);
  const cuts: number[] = [];
  let depth = 0;
  for (let i = 0; i < body.length; i++) {
    const ch = body[i]!;
    if (ch === '（' || ch === '(' || ch === '[' || ch === '【') depth++;
    else if (ch === '）' || ch === ')' || ch === ']' || ch === '】') depth = Math.max(0, depth - 1);
    else if (depth === 0) {
      if (ch === '\n' || ch === '；' || ch === ';') cuts.push(i);
      else if (
        numbered &&
        /\d/.test(ch) &&
        (i === 0 || /[\s\u3000；;，,。]/.test(body[i - 1]!)) &&
        /^\d{1,2}[.．、]/.test(body.slice(i))
      )
        cuts.push(i - 0.5);
      else if (!numbered && /[、，,+＋]/.test(ch)) cuts.push(i);
    }
  }
  const out: { start: number; end: number; name: string }[] = [];
  let prev = 0;
  for (const c of [...cuts, body.length]) {
    const cut = Math.ceil(c);
    let s = prev;
    let e = c % 1 === 0 ? cut : Math.floor(c) + 1;
    if (c % 1 !== 0) e = Math.floor(c) + 1;
    e = Math.min(e, body.length);
    const raw = body.slice(s, e);
    const lead = /^[\s\u3000、，,；;+＋]*(?:\d{1,2}[.．、]|[①-⑳])?[\s\u3000]*/.exec(raw);
    s += lead ? lead[0].length : 0;
    while (e > s && /[\s\u3000。.，,；;、]/.test(body[e - 1]!)) e--;
    if (e - s >= 2) out.push({ start: start + s, end: start + e, name: body.slice(s, e) });
    prev = c % 1 === 0 ? cut + 1 : Math.floor(c) + 1;
  }
  return out;
}

/** Offsets of a section's body: annotation section, else the text after `header：` up to the next header line. */
function sectionBody(
  doc: ClinicalDocument,
  names: readonly string[],
  annotation: Annotation | undefined,
): { start: number; end: number } | undefined {
  const text = doc.text;
  const nextHeader = (from: number, limit: number) => {
    const next = /\n[ \t\u3000]*[【[]?[\u4e00-\u9fff]{2,8}[】\]]?[:：]/.exec(text.slice(from, limit));
    return next ? from + next.index : limit;
  };
  // The NER section may run on over lines such as "手术者：…" that it does not know as headers.
  const fromNer = annotation?.sections.find((s) => names.includes(s.name));
  if (fromNer) return { start: fromNer.header.end, end: nextHeader(fromNer.header.end, fromNer.end) };
  const re = new RegExp(`(?:^|\\n)[ \\t\\u3000]*[【\\[]?(?:${names.join('|')})[】\\]]?[ \\t\\u3000]*[:：]?`);
  const m = re.exec(text);
  if (!m) return undefined;
  const start = m.index + m[0].length;
  const next = /\n[ \t\u3000]*[【[]?[\u4e00-\u9fff]{2,8}[】\]]?[:：]/.exec(text.slice(start));
  return { start, end: next ? start + next.index : text.length };
}

/** Same concept, or one is an ancestor of the other (肺炎 and 社区获得性肺炎). */
function related(a: ResolvedConcept | undefined, b: ResolvedConcept | undefined): boolean {
  return a !== undefined && b !== undefined && (a.lineage.has(b.id) || b.lineage.has(a.id));
}

interface Coded {
  path: string;
  code: string;
  name: string;
  concept: ResolvedConcept | undefined;
}

function matchesCoded(
  itemName: string,
  itemConcept: ResolvedConcept | undefined,
  coded: readonly Coded[],
): boolean {
  // An item may carry several descriptors ("孕1产0，孕39周，LOA，顺产"): any one that matches is enough.
  const parts = [itemName, ...itemName.split(/[，,、]/)].filter((p) => normName(p).length >= 2);
  if (parts.length === 0) return true;
  for (const c of coded) {
    if (related(itemConcept, c.concept)) return true;
    if (parts.some((p) => sameClinicalName(p, c.name))) return true;
  }
  return false;
}

// --- checks ---------------------------------------------------------------------------------------------------

function checkDischargeDiagnoses(record: PatientRecord, input: ConsistencyInput, emit: Emit): void {
  const fp = record.frontPage;
  if (!fp) return;
  const coded: Coded[] = [];
  const add = (path: string, code: string | undefined, name: string | undefined) => {
    if (isBlank(name) && isBlank(code)) return;
    coded.push({
      path,
      code: code ?? '',
      name: name ?? '',
      concept: input.resolver?.coded('diagnosis', code, name),
    });
  };
  add('principalDiagnosis', fp.principalDiagnosis?.code, fp.principalDiagnosis?.name);
  (fp.otherDiagnoses ?? []).forEach((d, i) => {
    add(`otherDiagnoses[${i}]`, d.code, d.name);
  });
  if (fp.pathologyDiagnosis) add('pathologyDiagnosis', undefined, fp.pathologyDiagnosis.name);
  if (coded.length === 0) return;
  for (const doc of docsOfType(
    record,
    '出院记录',
    '死亡记录',
    '24小时内入出院记录',
    '24小时内入院死亡记录',
  )) {
    const ann = input.annotations.get(doc.id);
    const body = sectionBody(doc, ['出院诊断', '死亡诊断'], ann);
    if (!body) continue;
    for (const item of listItems(doc.text, body.start, body.end)) {
      const mention = ann?.mentions.find(
        (m) => m.type === 'disease' && m.start >= item.start && m.end <= item.end,
      );
      if (mention && (mention.assertion.status === 'negated' || mention.assertion.status === 'family'))
        continue;
      const concept = input.resolver?.text('diagnosis', mention?.text ?? item.name, mention?.conceptId);
      if (matchesCoded(item.name, concept, coded)) continue;
      emit('cs.discharge-diagnosis.uncoded', {
        evidence: [textEvidence(doc, item.start, item.end, '出院诊断')],
        fields: [
          'principalDiagnosis.name',
          ...(fp.otherDiagnoses ?? []).map((_d, i) => `otherDiagnoses[${i}].name`),
        ],
        params: { doc: doc.type, name: item.name },
        key: item.name,
        target: 'frontPage.otherDiagnoses',
      });
    }
  }
}

function checkOperations(record: PatientRecord, input: ConsistencyInput, emit: Emit): void {
  const fp = record.frontPage;
  if (!fp) return;
  const coded: Coded[] = (fp.procedures ?? [])
    .map((p, i) => ({
      path: `procedures[${i}]`,
      code: p.code ?? '',
      name: p.name ?? '',
      concept: input.resolver?.coded('procedure', p.code, p.name),
    }))
    .filter((c) => c.name || c.code);
  for (const doc of docsOfType(record, '手术记录')) {
    const ann = input.annotations.get(doc.id);
    const body = sectionBody(doc, ['手术名称', '手术方式'], ann);
    if (!body) continue;
    for (const item of listItems(doc.text, body.start, body.end)) {
      const mention = ann?.mentions.find(
        (m) => m.type === 'operation' && m.start >= item.start && m.end <= item.end,
      );
      const concept = input.resolver?.text('procedure', mention?.text ?? item.name, mention?.conceptId);
      if (matchesCoded(item.name, concept, coded)) continue;
      emit('cs.operation.uncoded', {
        evidence: [textEvidence(doc, item.start, item.end, '手术名称')],
        fields: coded.length ? coded.map((c) => `${c.path}.name`) : ['procedures[0].name'],
        params: { name: item.name },
        key: item.name,
        target: 'frontPage.procedures',
      });
    }
  }
}

const NOT_A_DRUG =
  /^(药物|食物|其他|无|否认|未|不详|过敏|皮肤|接触|季节|花粉|海鲜|鸡蛋|牛奶|虾|蟹|尘螨|酒精)/;
const LEAD_CUES = /^(?:既往|曾经|曾|有|对|因|出现|使用|注射|服用|口服|静滴|输注|应用)+/;
const DELIMS = /[，,。；;：:、\s（(）)\n]/;

/** Substances written before "过敏" ("对青霉素过敏", "有头孢类药物过敏史") or after "过敏史：". */
export function allergySubstances(text: string): { start: number; end: number; substance: string }[] {
  const out: { start: number; end: number; substance: string }[] = [];
  for (let idx = text.indexOf('过敏'); idx >= 0; idx = text.indexOf('过敏', idx + 2)) {
    let a = idx;
    while (a > 0 && idx - a < 14 && !DELIMS.test(text[a - 1]!)) a--;
    let s = text.slice(a, idx);
    const lead = LEAD_CUES.exec(s);
    const start = a + (lead ? lead[0].length : 0);
    s = s.slice(lead ? lead[0].length : 0).replace(/(类药物|类药|类|药物|药)$/, '');
    if (s.length >= 2 && !NOT_A_DRUG.test(s)) {
      out.push({ start, end: start + s.length, substance: s });
      continue;
    }
    const after = /^史?[：:]\s*([^，,。；;、\n（(]{2,12})/.exec(text.slice(idx + 2));
    if (after && !NOT_A_DRUG.test(after[1]!)) {
      const st = idx + 2 + after[0].length - after[1]!.length;
      out.push({ start: st, end: st + after[1]!.length, substance: after[1]! });
    }
  }
  return out;
}

function checkAllergyText(record: PatientRecord, input: ConsistencyInput, emit: Emit): void {
  const fp = record.frontPage;
  if (fp?.drugAllergy?.trim() !== '1') return;
  if (input.fired.has('fp.allergy.record-conflict')) return;
  const data = consistencyData();
  for (const doc of record.documents) {
    const ann = input.annotations.get(doc.id);
    const text = doc.text;
    for (const hit of allergySubstances(text)) {
      // The tagger may read "青霉素过敏史" as one disease mention (Z88.0-style concept) or "青霉素" as a drug.
      const drug = ann?.mentions.find(
        (x) => (x.type === 'drug' || x.type === 'disease') && x.start < hit.end && hit.start < x.end,
      );
      if (!asserted(text, hit.start, hit.end, ann, data)) continue;
      emit('cs.allergy.text', {
        fields: ['drugAllergy'],
        evidence: [textEvidence(doc, hit.start, hit.end)],
        params: { drug: drug?.type === 'drug' ? drug.text : hit.substance, doc: doc.type },
        key: doc.id,
      });
      return;
    }
  }
}

function checkPatientTerms(record: PatientRecord, input: ConsistencyInput, emit: Emit): void {
  const data = consistencyData();
  const sex = record.patient.sex;
  const age = ageAtAdmission(record);
  data.patientTerms.forEach((spec, k) => {
    const wrongSex = spec.sex !== undefined && (sex === 'male' || sex === 'female') && spec.sex !== sex;
    const wrongAge =
      !Number.isNaN(age) &&
      ((spec.minAge !== undefined && age < spec.minAge) || (spec.maxAge !== undefined && age > spec.maxAge));
    if (!wrongSex && !wrongAge) return;
    const re = data.termRes[k]!;
    for (const doc of record.documents) {
      const ann = input.annotations.get(doc.id);
      re.lastIndex = 0;
      for (let m = re.exec(doc.text); m; m = re.exec(doc.text)) {
        if (!asserted(doc.text, m.index, m.index + m[0].length, ann, data)) continue;
        const who = wrongSex ? `${sex === 'male' ? '男' : '女'}性患者` : `${age}岁患者`;
        emit(wrongSex ? 'cs.sex-term' : 'cs.age-term', {
          evidence: [
            textEvidence(doc, m.index, m.index + m[0].length),
            {
              kind: 'patient',
              ref: wrongSex ? 'patient.sex' : 'patient.birthDate',
              text: wrongSex ? `性别：${sex === 'male' ? '男' : '女'}` : `年龄：${age}岁`,
            },
          ],
          params: { term: m[0], who, label: spec.label, doc: doc.type },
          key: `${doc.id}:${m.index}`,
          target: doc.id,
        });
        break;
      }
    }
  });
}

function ageAtAdmission(record: PatientRecord): number {
  const b = record.patient.birthDate;
  const t = localDate(record.encounter.admissionTime);
  if (!b || !t) return Number.NaN;
  return Number(t.slice(0, 4)) - Number(b.slice(0, 4)) - (t.slice(5) < b.slice(5) ? 1 : 0);
}

/** Progress-note paragraphs compared per record at most (in time order). */
const MAX_COPY_PASTE_PARAGRAPHS = 2000;

const NOTE_TYPES = [
  '日常病程记录',
  '上级医师查房记录',
  '首次病程记录',
  '术后首次病程记录',
  '阶段小结',
  '交接班记录',
] as const;

/**
 * Copy-paste between progress notes: a paragraph of a later note that is nearly identical (character-bigram
 * Dice ≥ threshold) to a paragraph of a note written on another day. One finding per copying note.
 */
function checkCopyPaste(record: PatientRecord, config: QcConfig, emit: Emit): void {
  const { copyPasteSimilarity: threshold, copyPasteMinChars: minChars } = config.consistency;
  interface Para {
    doc: ClinicalDocument;
    day: string;
    start: number;
    end: number;
    len: number;
    grams: Map<string, number>;
  }
  const byDoc: Para[][] = [];
  let total = 0;
  for (const doc of docsOfType(record, ...NOTE_TYPES)) {
    const day = localDate(doc.createdTime);
    const paras: Para[] = [];
    const re = /[^\n]+/g;
    for (let m = re.exec(doc.text); m; m = re.exec(doc.text)) {
      const norm = m[0].replace(/[\s\u3000]/g, '');
      if (norm.length >= minChars)
        paras.push({
          doc,
          day,
          start: m.index,
          end: m.index + m[0].length,
          len: norm.length - 1,
          grams: bigrams(norm),
        });
    }
    if (paras.length) byDoc.push(paras);
    total += paras.length;
    // Bound the pairwise comparison on pathological records (thousands of long paragraphs).
    if (total >= MAX_COPY_PASTE_PARAGRAPHS) break;
  }
  const dice = (a: Para, b: Para) => {
    let common = 0;
    for (const [g, n] of a.grams) {
      const k = b.grams.get(g);
      if (k) common += Math.min(n, k);
    }
    return (2 * common) / (a.len + b.len);
  };
  for (let j = 1; j < byDoc.length; j++) {
    let hit: { a: Para; b: Para; sim: number } | undefined;
    for (const b of byDoc[j]!) {
      for (let i = 0; i < j && !hit; i++) {
        for (const a of byDoc[i]!) {
          if (a.day === b.day || Math.min(a.len, b.len) / Math.max(a.len, b.len) < threshold) continue;
          const sim = dice(a, b);
          if (sim >= threshold) {
            hit = { a, b, sim };
            break;
          }
        }
      }
      if (hit) break;
    }
    if (!hit) continue;
    const { a, b, sim } = hit;
    emit('cs.copy-paste', {
      evidence: [
        textEvidence(a.doc, a.start, a.end, `${a.day}`),
        textEvidence(b.doc, b.start, b.end, `${b.day}`),
      ],
      params: {
        a: `${a.doc.type}（${a.day}）`,
        b: `${b.doc.type}（${b.day}）`,
        similarity: `${Math.round(sim * 100)}%`,
      },
      target: b.doc.id,
    });
  }
}

function checkTreatedUncoded(
  record: PatientRecord,
  facts: PatientFacts | undefined,
  superseded: ReadonlySet<string> | undefined,
  emit: Emit,
): void {
  const data = consistencyData();
  const fp = record.frontPage;
  const codes: { code: string; path: string }[] = fp
    ? [
        ...(fp.principalDiagnosis?.code
          ? [{ code: fp.principalDiagnosis.code, path: 'principalDiagnosis.code' }]
          : []),
        ...(fp.otherDiagnoses ?? []).flatMap((d, i) =>
          d.code ? [{ code: d.code, path: `otherDiagnoses[${i}].code` }] : [],
        ),
      ]
    : record.diagnoses.flatMap((d, i) => (d.code ? [{ code: d.code, path: `diagnoses[${i}]` }] : []));
  if (codes.length === 0) return;
  data.treatedConditions.forEach((spec, k) => {
    if (superseded?.has(spec.label)) return;
    const re = data.orderRes[k]!;
    // An order counts by its written name, or by the graph concept @yijian/rules linked it to (brand names).
    const linked = new Set(
      (facts?.medications ?? []).filter((m) => m.conceptId && re.test(m.conceptName)).map((m) => m.id),
    );
    const orders = record.medications.filter(
      (m) => m.status !== 'cancelled' && m.status !== 'draft' && (re.test(m.drugName) || linked.has(m.id)),
    );
    const t = fp?.transfusion;
    const units = spec.frontPageTransfusion
      ? (t?.redCellsU ?? 0) + (t?.plateletsDoses ?? 0) + (t?.plasmaMl ?? 0) + (t?.wholeBloodMl ?? 0)
      : 0;
    if (orders.length === 0 && units <= 0) return;
    if (codes.some((c) => matchesAny(c.code, spec.codes))) return;
    emit('cs.treated-uncoded', {
      evidence: [
        ...orders.map((m) => ({
          kind: 'order' as const,
          ref: m.id,
          text: `医嘱：${m.drugName}（${m.startTime}）`,
        })),
        ...(units > 0
          ? [{ kind: 'field' as const, ref: 'frontPage.transfusion', text: `首页输血量合计：${units}` }]
          : []),
      ],
      fields: fp
        ? [
            'principalDiagnosis.code',
            ...(fp.otherDiagnoses ?? []).map((_d, i) => `otherDiagnoses[${i}].code`),
          ]
        : [],
      params: { treatment: spec.label, condition: spec.condition, codes: spec.codes.join('、') },
      key: spec.label,
      target: 'frontPage.otherDiagnoses',
    });
  });
}

/** Annotations by document id. */
export function annotationMap(
  annotations: readonly { documentId: string; annotation: Annotation }[] | undefined,
): Map<string, Annotation> {
  return new Map((annotations ?? []).map((a) => [a.documentId, a.annotation]));
}

export function runConsistencyChecks(
  record: PatientRecord,
  config: QcConfig,
  emit: Emit,
  input: ConsistencyInput,
): void {
  checkDischargeDiagnoses(record, input, emit);
  checkOperations(record, input, emit);
  checkAllergyText(record, input, emit);
  checkPatientTerms(record, input, emit);
  checkCopyPaste(record, config, emit);
  checkTreatedUncoded(record, input.facts, input.supersededTreated, emit);
}

export type { Mention };
