import { createHash } from 'node:crypto';
import { CdssError, type PatientRecord, recordSchema, toEpochMs } from '@yijian/emr';
import {
  type Annotation,
  type Annotator,
  createAnnotator,
  createLexiconTagger,
  type LexiconEntry,
  type Mention,
  type RawMention,
  type Tagger,
} from '@yijian/ner';
import { type DetectionResources, type EventRule, loadDefaultResources } from './resources.js';
import {
  type AdverseEvent,
  CATEGORY_LABELS,
  type EventCategory,
  type EventDetails,
  type EvidenceSpan,
  GRADE_RANK,
  type Grade,
  type MedicationErrorType,
  PRESSURE_STAGES,
  type PressureStage,
} from './types.js';

/** A term's jobs in detection; one term may have several (过敏性休克 is a trigger and a grade cue). */
type Role =
  | { kind: 'trigger'; rule: EventRule; weak: boolean; errorType?: MedicationErrorType }
  | { kind: 'blocker' }
  | { kind: 'outside' }
  | { kind: 'inside' }
  | { kind: 'grade'; grade: Grade }
  | { kind: 'drug' }
  | { kind: 'tube' }
  | { kind: 'transfusion-anchor' }
  | { kind: 'transfusion-reaction' }
  | { kind: 'drug-reaction' }
  | { kind: 'administration' };

export type DetectInput =
  | { text: string }
  | {
      record: PatientRecord | unknown;
      /** Annotations already made by the engine, by document id: their drug mentions help name the suspected drug. */
      annotations?: Record<string, Annotation>;
    };

export interface DetectorOptions {
  resources?: DetectionResources;
}

export interface Detector {
  detect(input: DetectInput): AdverseEvent[];
  /** Candidate events of one text, before de-duplication (used by parseReport and the eval). */
  detectText(text: string, options?: TextOptions): Candidate[];
  readonly resources: DetectionResources;
}

export interface TextOptions {
  /** Skip the pre-admission / plan sections (default true). */
  excludeSections?: boolean;
  /** More drug names (e.g. the record's orders). */
  extraDrugs?: readonly string[];
  /** Drug mentions from an earlier annotation of the same text. */
  drugMentions?: readonly Mention[];
}

/** One event found in one sentence. */
export interface Candidate {
  category: EventCategory;
  rule: string;
  grade: Grade;
  gradeFromCue: boolean;
  gradeReason: string;
  details: EventDetails;
  summary: string;
  /** Sentence span and trigger, offsets into the text. */
  sentence: { start: number; end: number; text: string };
  trigger: { text: string; start: number; end: number };
  /** Assertion status of the trigger (present or possible). */
  status: 'present' | 'possible';
}

/** The evidence a candidate found in free text gives: its sentence, trigger and rule. */
export function textEvidence(c: Candidate) {
  return {
    source: 'text' as const,
    start: c.sentence.start,
    end: c.sentence.end,
    text: c.sentence.text,
    trigger: c.trigger,
    ruleId: c.rule,
  };
}

const SENTENCE_END = /[。；;！!？?\n]/;
const STAGE_RE =
  /(?:第?\s*([1-4１-４一二三四]|Ⅰ|Ⅱ|Ⅲ|Ⅳ|IV|III|II|I)\s*(?:期|度|°))|(不可分期)|(深部组织损伤)/g;
const STAGE_MAP: Record<string, PressureStage> = {
  '1': '1期',
  '１': '1期',
  一: '1期',
  Ⅰ: '1期',
  I: '1期',
  '2': '2期',
  '２': '2期',
  二: '2期',
  Ⅱ: '2期',
  II: '2期',
  '3': '3期',
  '３': '3期',
  三: '3期',
  Ⅲ: '3期',
  III: '3期',
  '4': '4期',
  '４': '4期',
  四: '4期',
  Ⅳ: '4期',
  IV: '4期',
};
const ERROR_TYPE_ZH: Record<MedicationErrorType, string> = {
  'wrong-drug': '给错药物',
  'wrong-dose': '剂量错误',
  'wrong-patient': '给错患者',
  'wrong-route': '给药途径错误',
  'wrong-time': '给药时间错误',
  omission: '漏给药',
  other: '给药错误',
};
const GRADE_ZH: Record<Grade, string> = { I: 'Ⅰ级', II: 'Ⅱ级', III: 'Ⅲ级', IV: 'Ⅳ级' };
/** Near misses exist for errors, not for falls or infections. */
const NEAR_MISS_CATEGORIES = new Set<EventCategory>(['medication-error', 'transfusion-reaction']);
/** Events that are harm by definition (reoperation, ICU return, arrest, infection). */
const HARM_CATEGORIES = new Set<EventCategory>([
  'unplanned-reoperation',
  'unplanned-icu-return',
  'cardiac-arrest',
  'hospital-acquired-infection',
]);
/** Possible (考虑/疑似…) is accepted only from these cues, never from 需警惕/待排. */
const SUSPECT_CUES = new Set(['poss.suspect']);

function sentences(text: string): { start: number; end: number }[] {
  const out: { start: number; end: number }[] = [];
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    if (SENTENCE_END.test(text[i]!)) {
      out.push({ start, end: i + 1 });
      start = i + 1;
    }
  }
  if (start < text.length) out.push({ start, end: text.length });
  return out;
}

function hash(s: string): string {
  return createHash('sha256').update(s).digest('hex').slice(0, 16);
}

function fill(template: string, values: Record<string, string | undefined>): string {
  return template
    .replace(/\{(\w+)\}/g, (_, k: string) => values[k] ?? '')
    .replace(/[：:]\s*$/, '')
    .replace(/\s+/g, '')
    .slice(0, 140);
}

export function createDetector(options: DetectorOptions = {}): Detector {
  const resources = options.resources ?? loadDefaultResources();
  const { rules: R, vocabulary: V } = resources;
  const roles = new Map<string, Role[]>();
  const add = (t: string, role: Role) => {
    const list = roles.get(t);
    if (list) list.push(role);
    else roles.set(t, [role]);
  };
  for (const rule of R.rules) {
    for (const t of rule.triggers) add(t, { kind: 'trigger', rule, weak: false });
    for (const t of rule.weakTriggers ?? []) add(t, { kind: 'trigger', rule, weak: true });
  }
  for (const t of R.blockers) add(t, { kind: 'blocker' });
  for (const t of R.outOfHospital) add(t, { kind: 'outside' });
  for (const t of R.inHospital) add(t, { kind: 'inside' });
  for (const g of ['I', 'II', 'III', 'IV'] as const)
    for (const t of R.grading[g]) add(t, { kind: 'grade', grade: g });
  for (const t of V.drugs) add(t, { kind: 'drug' });
  for (const t of V.tubes) add(t, { kind: 'tube' });
  for (const t of R.transfusion.anchors) add(t, { kind: 'transfusion-anchor' });
  for (const t of R.transfusion.reactions) add(t, { kind: 'transfusion-reaction' });
  for (const t of R.drugReaction.reactions) add(t, { kind: 'drug-reaction' });
  for (const t of R.drugReaction.administration) add(t, { kind: 'administration' });

  const termIds = new Map<string, string>();
  const roleById = new Map<string, Role[]>();
  const entries: LexiconEntry[] = [];
  for (const [t, rs] of roles) {
    const id = `ae:${termIds.size}`;
    termIds.set(t, id);
    roleById.set(id, rs);
    entries.push({ term: t, type: rs.every((r) => r.kind === 'drug') ? 'drug' : 'symptom', conceptId: id });
  }
  const baseTagger = createLexiconTagger(entries, { name: 'adverse-events' });
  const patterns = R.patternTriggers.map((p) => {
    const rule = R.rules.find((r) => r.id === p.rule);
    if (!rule)
      throw new CdssError(
        'CDSS_ERR_INVALID_DATA',
        `adverse-events.json: patternTriggers ${p.id} names unknown rule ${p.rule}`,
      );
    const id = `ae:${p.id}`;
    roleById.set(id, [
      { kind: 'trigger', rule, weak: false, ...(p.errorType ? { errorType: p.errorType } : {}) },
    ]);
    return { id, re: new RegExp(p.pattern, 'g') };
  });
  const annotator: Annotator = createAnnotator({
    taggers: [baseTagger],
    resources: { extraContextRules: R.contextRules },
  });
  const infectionOf = new Map<string, string>();
  for (const [label, ts] of Object.entries(V.infections)) for (const t of ts) infectionOf.set(t, label);
  const errorTypeOf = new Map<string, MedicationErrorType>();
  for (const [type, ts] of Object.entries(V.medicationErrorTypes))
    for (const t of ts ?? []) errorTypeOf.set(t, type as MedicationErrorType);
  const excluded = new Set(R.excludedSections);
  const extraDrugTaggers = new Map<string, Tagger>();

  function tag(text: string, extraDrugs: readonly string[]): RawMention[] {
    const raw = baseTagger.tag(text) as RawMention[];
    for (const p of patterns) {
      p.re.lastIndex = 0;
      for (const m of text.matchAll(p.re)) {
        raw.push({
          start: m.index,
          end: m.index + m[0].length,
          type: 'symptom',
          text: m[0],
          score: 1,
          source: 'pattern',
          conceptId: p.id,
        });
      }
    }
    const extra = extraDrugs.filter((d) => d.length >= 2 && !roles.has(d));
    if (!extra.length) return raw;
    const key = [...new Set(extra)].sort().join('|');
    let t = extraDrugTaggers.get(key);
    if (!t) {
      t = createLexiconTagger(
        [...new Set(extra)].map((d) => ({ term: d, type: 'drug' as const, conceptId: 'ae:drug' })),
        { name: 'record-drugs' },
      );
      if (extraDrugTaggers.size > 256) extraDrugTaggers.clear();
      extraDrugTaggers.set(key, t);
    }
    return [...raw, ...(t.tag(text) as RawMention[])];
  }

  function rolesOf(m: Mention): Role[] {
    if (m.conceptId === 'ae:drug' || (m.type === 'drug' && !m.conceptId?.startsWith('ae:')))
      return [{ kind: 'drug' }];
    return roleById.get(m.conceptId ?? '') ?? [];
  }
  const has = (m: Mention, kind: Role['kind']) => rolesOf(m).some((r) => r.kind === kind);
  const isPresent = (m: Mention) => m.assertion.status === 'present';

  function detectText(text: string, opts: TextOptions = {}): Candidate[] {
    const ann = annotator.annotateMentions(text, tag(text, opts.extraDrugs ?? []));
    const mentions = [...ann.mentions];
    for (const d of opts.drugMentions ?? []) {
      if (!mentions.some((m) => m.start < d.end && d.start < m.end)) mentions.push(d);
    }
    mentions.sort((a, b) => a.start - b.start);
    const sents = sentences(text);
    const bySentence: Mention[][] = sents.map(() => []);
    let si = 0;
    for (const m of mentions) {
      while (si < sents.length - 1 && sents[si]!.end <= m.start) si++;
      bySentence[si]!.push(m);
    }
    const out: Candidate[] = [];
    const excludeSections = opts.excludeSections ?? true;

    for (let s = 0; s < sents.length; s++) {
      const ms = bySentence[s]!;
      if (!ms.length) continue;
      const span = sents[s]!;
      const sentenceText = text.slice(span.start, span.end);
      const outside = ms.some((m) => has(m, 'outside') && m.assertion.status !== 'negated');
      if (outside) continue;
      const window = [...ms, ...(bySentence[s + 1] ?? [])];
      const drugs = ms.filter((m) => has(m, 'drug') && m.assertion.status !== 'family');
      const tubes = ms.filter((m) => has(m, 'tube'));
      const found: Candidate[] = [];

      const accept = (m: Mention, rule: { acceptPossible: boolean }) => {
        if (excludeSections && m.section && excluded.has(m.section)) return undefined;
        if (isPresent(m)) return 'present' as const;
        if (
          rule.acceptPossible &&
          m.assertion.status === 'possible' &&
          SUSPECT_CUES.has(m.assertion.trigger?.rule ?? '')
        )
          return 'possible' as const;
        return undefined;
      };
      /** The administered drug before `pos` linked to it by 后/过程中/时 (the suspect), else the nearest before. */
      const suspectDrug = (pos: number): Mention | undefined => {
        const before = drugs.filter((d) => d.end <= pos);
        const linked = before.filter((d) => {
          const between = text.slice(d.end, pos);
          return between.length <= 40 && R.drugReaction.linkers.some((l) => between.includes(l));
        });
        return linked.at(-1) ?? before.at(-1);
      };

      for (const m of ms) {
        for (const role of rolesOf(m)) {
          if (role.kind !== 'trigger') continue;
          const status = accept(m, role.rule);
          if (!status) continue;
          let category = role.rule.category;
          let ruleId = `${role.rule.id}@${role.rule.version}`;
          const details: EventDetails = {};
          if (category === 'adverse-drug-reaction') {
            const anchor = ms.find((a) => has(a, 'transfusion-anchor') && a.end <= m.start && isPresent(a));
            if (anchor) {
              category = 'transfusion-reaction';
              ruleId = `${R.transfusion.id}@${R.transfusion.version}`;
            } else {
              const drug = suspectDrug(m.start);
              if (role.weak) {
                const between = drug ? text.slice(drug.end, m.start) : '';
                if (!drug || between.length > 40 || !R.drugReaction.linkers.some((l) => between.includes(l)))
                  continue;
              }
              if (drug) details.drug = drug.text;
              details.reaction = m.text;
            }
          }
          if (category === 'unplanned-extubation') {
            const tube = tubes.length
              ? tubes.reduce((best, t) =>
                  Math.abs(t.start - m.start) < Math.abs(best.start - m.start) ? t : best,
                )
              : undefined;
            if (role.weak && !tube) continue;
            if (tube) details.tube = tube.text;
          }
          if (category === 'fall') details.fallType = /床/.test(m.text) ? '坠床' : '跌倒';
          if (category === 'pressure-injury') {
            let best: { stage: PressureStage; dist: number } | undefined;
            for (const x of sentenceText.matchAll(STAGE_RE)) {
              const stage = x[2] ? '不可分期' : x[3] ? '深部组织损伤' : STAGE_MAP[x[1]!];
              if (!stage) continue;
              const dist = Math.abs(span.start + x.index - m.start);
              if (!best || dist < best.dist) best = { stage, dist };
            }
            if (m.text.includes('深部组织损伤')) best = { stage: '深部组织损伤', dist: 0 };
            if (best) details.stage = best.stage;
          }
          if (category === 'medication-error') {
            let type = role.errorType ?? errorTypeOf.get(m.text) ?? 'other';
            if (!role.errorType && (type === 'other' || type === 'wrong-drug')) {
              for (const [t, hints] of Object.entries(resources.vocabulary.medicationErrorHints)) {
                if (hints?.some((h) => sentenceText.includes(h))) {
                  type = t as MedicationErrorType;
                  break;
                }
              }
            }
            details.errorType = type;
            const drug = drugs.find((d) => d.start >= m.start - 30) ?? drugs[0];
            if (drug) details.drug = drug.text;
          }
          if (category === 'hospital-acquired-infection')
            details.infection = infectionOf.get(m.text) ?? '医院感染';
          found.push(
            makeCandidate(
              category,
              ruleId,
              role.rule.defaultGrade,
              details,
              m,
              status,
              span,
              sentenceText,
              window,
            ),
          );
        }
      }

      // Transfusion: blood product, then 后/过程中/时, then a reaction that is present.
      for (const a of ms) {
        if (!has(a, 'transfusion-anchor') || !isPresent(a)) continue;
        if (excludeSections && a.section && excluded.has(a.section)) continue;
        const reaction = ms.find((r) => {
          if (r.start < a.end || !has(r, 'transfusion-reaction') || !isPresent(r)) return false;
          const between = text.slice(a.end, r.start);
          return between.length <= 30 && R.transfusion.linkers.some((l) => between.includes(l));
        });
        if (!reaction) continue;
        const d: EventDetails = { reaction: reaction.text };
        found.push(
          makeCandidate(
            'transfusion-reaction',
            `${R.transfusion.id}@${R.transfusion.version}`,
            'III',
            d,
            reaction,
            'present',
            span,
            sentenceText,
            window,
          ),
        );
        break;
      }

      // Drug reaction: administered drug, then 后/过程中/时, then a reaction that is present.
      if (
        !found.some((c) => c.category === 'transfusion-reaction' || c.category === 'adverse-drug-reaction')
      ) {
        for (const r of ms) {
          if (!has(r, 'drug-reaction') || !isPresent(r)) continue;
          if (excludeSections && r.section && excluded.has(r.section)) continue;
          const drug = suspectDrug(r.start);
          if (!drug || drug.assertion.status === 'hypothetical') continue;
          const between = text.slice(drug.end, r.start);
          if (between.length > 40 || !R.drugReaction.linkers.some((l) => between.includes(l))) continue;
          const before = text.slice(Math.max(span.start, drug.start - 12), drug.start);
          const administered =
            ms.some((x) => has(x, 'administration') && x.end <= drug.start && x.start >= drug.start - 12) ||
            R.drugReaction.administration.some((w) => before.includes(w)) ||
            /(使用|应用|输注|静滴|注射|服用|口服)/.test(between);
          if (!administered) continue;
          const d: EventDetails = { drug: drug.text, reaction: r.text };
          found.push(
            makeCandidate(
              'adverse-drug-reaction',
              `${R.drugReaction.id}@${R.drugReaction.version}`,
              'III',
              d,
              r,
              'present',
              span,
              sentenceText,
              window,
            ),
          );
          break;
        }
      }
      // One candidate per category per sentence (the first trigger).
      const seen = new Set<EventCategory>();
      for (const c of found) {
        if (seen.has(c.category)) continue;
        seen.add(c.category);
        out.push(c);
      }
    }
    return out;
  }

  function makeCandidate(
    category: EventCategory,
    ruleId: string,
    defaultGrade: Grade,
    details: EventDetails,
    m: Mention,
    status: 'present' | 'possible',
    span: { start: number; end: number },
    sentenceText: string,
    window: Mention[],
  ): Candidate {
    const cues = new Map<Grade, Mention>();
    for (const w of window) {
      if (!isPresent(w) || w === m) continue;
      const rs = rolesOf(w);
      // The tube that came out is not the intubation that treats harm (气管插管脱出 vs 再次插管).
      if (category === 'unplanned-extubation' && rs.some((r) => r.kind === 'tube')) continue;
      for (const r of rs) if (r.kind === 'grade' && !cues.has(r.grade)) cues.set(r.grade, w);
    }
    if (!NEAR_MISS_CATEGORIES.has(category)) cues.delete('IV');
    // These events are harm by definition: 红肿 or 无不适 nearby does not make them Ⅲ.
    if (HARM_CATEGORIES.has(category)) cues.delete('III');
    let grade = defaultGrade;
    let reason = `未见伤害程度描述，按${CATEGORY_LABELS[category]}默认定级`;
    let fromCue = false;
    for (const g of ['I', 'II', 'IV', 'III'] as const) {
      const cue = cues.get(g);
      if (cue) {
        grade = g;
        fromCue = true;
        reason = `${GRADE_ZH[g]}：文中“${cue.text}”`;
        break;
      }
    }
    if (category === 'pressure-injury' && !cues.has('I')) {
      const stageGrade: Grade | undefined =
        details.stage === '1期' ? undefined : details.stage ? 'II' : undefined;
      if (stageGrade && GRADE_RANK[stageGrade] < GRADE_RANK[grade]) {
        grade = stageGrade;
        fromCue = true;
        reason = `${GRADE_ZH[stageGrade]}：${details.stage}压力性损伤为皮肤组织损害`;
      }
    }
    if (category === 'cardiac-arrest' && GRADE_RANK[grade] > GRADE_RANK.II) {
      grade = 'II';
      reason = 'Ⅱ级：心跳呼吸骤停需抢救';
    }
    if (category === 'fall') {
      const harmCue = cues.get(grade)?.text ?? '';
      details.harm =
        grade === 'I'
          ? /死亡|抢救无效/.test(harmCue)
            ? '死亡'
            : '重度'
          : grade === 'II'
            ? /骨折|颅内|硬膜|蛛网膜|手术/.test(harmCue)
              ? '重度'
              : '中度'
            : /伤|淤|青|肿/.test(harmCue)
              ? '轻度'
              : '无伤害';
    }
    if (category === 'medication-error') {
      details.nccMerp =
        grade === 'I'
          ? cues.get('I')?.text.includes('死亡')
            ? 'I'
            : 'G'
          : grade === 'II'
            ? 'E'
            : grade === 'IV'
              ? 'B'
              : 'C';
    }
    const rule = R.rules.find((r) => r.category === category);
    const summary = fill(rule?.summary ?? CATEGORY_LABELS[category], {
      subtype: details.fallType,
      stage: details.stage,
      drug: details.drug ?? (category === 'adverse-drug-reaction' ? '可疑药物' : undefined),
      tube: details.tube ?? '管路',
      errorType: details.errorType ? ERROR_TYPE_ZH[details.errorType] : undefined,
      infection: details.infection,
    });
    const trimmedStart = span.start + (sentenceText.length - sentenceText.trimStart().length);
    const trimmedText = sentenceText.trim();
    return {
      category,
      rule: ruleId,
      grade,
      gradeFromCue: fromCue,
      gradeReason: reason,
      details,
      summary: status === 'possible' ? `疑似${summary}` : summary,
      sentence: { start: trimmedStart, end: trimmedStart + trimmedText.length, text: trimmedText },
      trigger: { text: m.text, start: m.start, end: m.end },
      status,
    };
  }

  function detect(input: DetectInput): AdverseEvent[] {
    if (!input || typeof input !== 'object')
      throw new CdssError('CDSS_ERR_INVALID_REQUEST', 'detectEvents: pass { text } or { record }');
    if ('text' in input) {
      if (typeof input.text !== 'string')
        throw new CdssError('CDSS_ERR_INVALID_REQUEST', 'detectEvents: text must be a string');
      const found = detectText(input.text).map((c) => ({ c, evidence: textEvidence(c) }));
      return merge(found, { patientKey: 'text' });
    }
    if (!('record' in input))
      throw new CdssError('CDSS_ERR_INVALID_REQUEST', 'detectEvents: pass { text } or { record }');
    const parsed = recordSchema.safeParse(input.record);
    if (!parsed.success) {
      throw new CdssError(
        'CDSS_ERR_INVALID_RECORD',
        `detectEvents: invalid record: ${parsed.error.issues[0]?.message ?? ''}`,
      );
    }
    return detectRecord(parsed.data, input.annotations);
  }

  function detectRecord(record: PatientRecord, annotations?: Record<string, Annotation>): AdverseEvent[] {
    const found: { c: Candidate; evidence: EvidenceSpan; occurredAt?: string }[] = [];
    const orderDrugs = record.medications.map((m) =>
      m.drugName.replace(/(注射液|注射用|片|胶囊|缓释|控释|肠溶|颗粒|口服液|钠|钾)$/g, ''),
    );
    const extraDrugs = [...record.medications.map((m) => m.drugName), ...orderDrugs];
    for (const doc of record.documents) {
      const drugMentions = annotations?.[doc.id]?.mentions.filter((m) => m.type === 'drug') ?? [];
      for (const c of detectText(doc.text, { extraDrugs, drugMentions })) {
        found.push({
          c,
          evidence: {
            source: 'document',
            refId: doc.id,
            start: c.sentence.start,
            end: c.sentence.end,
            text: c.sentence.text,
            trigger: c.trigger,
            ruleId: c.rule,
          },
          occurredAt: doc.eventTime ?? doc.createdTime,
        });
      }
    }
    const admission = toEpochMs(record.encounter.admissionTime);
    // Structured data: a drug allergy recorded during the stay (not at admission).
    for (const a of record.allergies) {
      if (a.category !== 'drug' || !a.recordedTime) continue;
      if (toEpochMs(a.recordedTime) - admission < 24 * 3_600_000) continue;
      const c: Candidate = {
        category: 'adverse-drug-reaction',
        rule: 'ae.record.allergy-during-stay@1',
        grade: a.severity === 'severe' ? 'II' : 'III',
        gradeFromCue: a.severity !== undefined,
        gradeReason: a.severity === 'severe' ? 'Ⅱ级：记录为严重过敏反应' : 'Ⅲ级：住院期间新记录的药物过敏',
        details: { drug: a.substance, ...(a.reaction ? { reaction: a.reaction } : {}) },
        summary: `住院期间新发${a.substance}过敏${a.reaction ? `（${a.reaction}）` : ''}`.slice(0, 140),
        sentence: { start: 0, end: 0, text: `${a.substance}${a.reaction ? `：${a.reaction}` : ''}` },
        trigger: { text: a.substance, start: 0, end: 0 },
        status: 'present',
      };
      found.push({
        c,
        evidence: { source: 'allergy', text: c.sentence.text, ruleId: c.rule },
        occurredAt: a.recordedTime,
      });
    }
    // A positive culture taken more than 48 h after admission: a hospital-acquired infection signal.
    for (const lab of record.labs) {
      if (!/培养/.test(lab.item)) continue;
      const v = String(lab.value);
      if (/阴性|无细菌生长|未检出|无菌生长|未生长|未见/.test(v) || !/阳性|检出|生长|菌/.test(v)) continue;
      if (toEpochMs(lab.time) - admission <= 48 * 3_600_000) continue;
      const site = /血/.test(lab.item)
        ? '血流感染'
        : /尿/.test(lab.item)
          ? '尿路感染'
          : /痰|肺泡/.test(lab.item)
            ? '下呼吸道感染'
            : '医院感染';
      const c: Candidate = {
        category: 'hospital-acquired-infection',
        rule: 'ae.record.late-positive-culture@1',
        grade: 'II',
        gradeFromCue: false,
        gradeReason: 'Ⅱ级：入院48小时后培养阳性，医院感染需治疗',
        details: { infection: site },
        summary: `入院48小时后${lab.item}阳性（${v}），提示${site}`.slice(0, 140),
        sentence: { start: 0, end: 0, text: `${lab.item}：${v}` },
        trigger: { text: lab.item, start: 0, end: 0 },
        status: 'possible',
      };
      found.push({
        c,
        evidence: { source: 'lab', refId: lab.id, text: c.sentence.text, ruleId: c.rule },
        occurredAt: lab.time,
      });
    }
    // A later operation in the same stay that re-explores, stops bleeding or repairs: unplanned reoperation signal.
    const ops = record.procedures
      .filter((p) => p.time)
      .sort((a, b) => toEpochMs(a.time!) - toEpochMs(b.time!));
    for (let i = 1; i < ops.length; i++) {
      const p = ops[i]!;
      if (!/再次|二次|探查|止血|清创|修补|再手术|重新/.test(p.name)) continue;
      const c: Candidate = {
        category: 'unplanned-reoperation',
        rule: 'ae.record.reoperation@1',
        grade: 'II',
        gradeFromCue: false,
        gradeReason: 'Ⅱ级：同一住院期间再次手术',
        details: { operations: [ops[0]!.name, p.name] },
        summary: `同次住院再次手术：${p.name}`.slice(0, 140),
        sentence: { start: 0, end: 0, text: `${ops[0]!.name} → ${p.name}` },
        trigger: { text: p.name, start: 0, end: 0 },
        status: 'present',
      };
      found.push({
        c,
        evidence: { source: 'procedure', text: c.sentence.text, ruleId: c.rule },
        ...(p.time ? { occurredAt: p.time } : {}),
      });
    }
    return merge(found, {
      patientKey: record.patient.id,
      patientId: record.patient.id,
      recordId: record.id,
      department: record.encounter.department,
      ...(record.encounter.ward ? { ward: record.encounter.ward } : {}),
    });
  }

  function discriminator(c: Candidate): string {
    switch (c.category) {
      case 'adverse-drug-reaction':
        return c.details.drug ?? '';
      case 'unplanned-extubation':
        return c.details.tube ?? '';
      case 'medication-error':
        return c.details.errorType ?? '';
      case 'hospital-acquired-infection':
        return c.details.infection ?? '';
      default:
        return '';
    }
  }

  function merge(
    found: { c: Candidate; evidence: EvidenceSpan; occurredAt?: string }[],
    who: { patientKey: string; patientId?: string; recordId?: string; department?: string; ward?: string },
  ): AdverseEvent[] {
    const byKey = new Map<string, AdverseEvent & { _status: 'present' | 'possible'; _fromCue: boolean }>();
    const order: string[] = [];
    for (const { c, evidence, occurredAt } of found) {
      let disc = discriminator(c);
      // A drug reaction without a named drug joins the one with a drug, when there is one.
      if (c.category === 'adverse-drug-reaction' && !disc) {
        const named = [...byKey.values()].find(
          (e) => e.category === 'adverse-drug-reaction' && e.details.drug,
        );
        if (named) disc = named.details.drug!;
      }
      const key = `${who.patientKey}:${c.category}:${disc}`;
      const existing = byKey.get(key);
      if (!existing) {
        order.push(key);
        byKey.set(key, {
          id: `ae-${hash(`${who.recordId ?? ''}|${key}`)}`,
          key,
          category: c.category,
          label: CATEGORY_LABELS[c.category],
          grade: c.grade,
          gradeReason: c.gradeReason,
          summary: c.summary,
          details: { ...c.details },
          evidence: [evidence],
          rules: [c.rule],
          ...(who.patientId ? { patientId: who.patientId } : {}),
          ...(who.recordId ? { recordId: who.recordId } : {}),
          ...(who.department ? { department: who.department } : {}),
          ...(who.ward ? { ward: who.ward } : {}),
          ...(occurredAt ? { occurredAt } : {}),
          origin: 'detected',
          _status: c.status,
          _fromCue: c.gradeFromCue,
        });
        continue;
      }
      if (existing.evidence.length < 8) existing.evidence.push(evidence);
      if (!existing.rules.includes(c.rule)) existing.rules.push(c.rule);
      for (const [k, v] of Object.entries(c.details)) {
        const cur = (existing.details as Record<string, unknown>)[k];
        if (cur === undefined) (existing.details as Record<string, unknown>)[k] = v;
      }
      if (
        c.details.stage &&
        existing.details.stage &&
        PRESSURE_STAGES.indexOf(c.details.stage) > PRESSURE_STAGES.indexOf(existing.details.stage)
      ) {
        existing.details.stage = c.details.stage;
        existing.summary = c.summary;
      }
      // A grade read from the text beats a category default; between equals the most severe wins.
      const moreSevere = GRADE_RANK[c.grade] < GRADE_RANK[existing.grade];
      if ((c.gradeFromCue && !existing._fromCue) || (c.gradeFromCue === existing._fromCue && moreSevere)) {
        existing.grade = c.grade;
        existing.gradeReason = c.gradeReason;
        existing._fromCue = c.gradeFromCue;
      }
      if (existing._status === 'possible' && c.status === 'present') {
        existing._status = 'present';
        existing.summary = c.summary;
      }
      if (occurredAt && (!existing.occurredAt || toEpochMs(occurredAt) < toEpochMs(existing.occurredAt)))
        existing.occurredAt = occurredAt;
    }
    return order.map((k) => {
      const { _status, _fromCue, ...event } = byKey.get(k)!;
      return event;
    });
  }

  return { detect, detectText, resources };
}

let defaultDetector: Detector | undefined;

/** The detector on the shipped rules (built once). */
export function getDefaultDetector(): Detector {
  defaultDetector ??= createDetector();
  return defaultDetector;
}

/**
 * Adverse events in a text or a whole record: categories, I–IV grade with the reason, details,
 * evidence spans, one event per patient and event (de-duplicated). Synchronous and deterministic.
 */
export function detectEvents(input: DetectInput): AdverseEvent[] {
  return getDefaultDetector().detect(input);
}
