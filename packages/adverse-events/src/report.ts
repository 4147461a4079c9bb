import { CdssError } from '@yijian/emr';
import { type Candidate, type Detector, getDefaultDetector, textEvidence } from './detect.js';
import { CATEGORY_LABELS, type DraftEvent, type EventCategory, GRADE_RANK } from './types.js';

const DATE_TIME_RE =
  /(\d{4})\s*[-年/.]\s*(\d{1,2})\s*[-月/.]\s*(\d{1,2})\s*日?(?:\s*(\d{1,2})\s*[:：时点]\s*(\d{1,2})?\s*分?)?/;
const DEPARTMENT_RE =
  /([\u4e00-\u9fa5]{1,10}?(?:科|病区|病房|监护室|ICU|手术室))(?=[\s，,。；;：:]|\d|患者|病人|$)/;
const BED_RE = /(\d{1,3})\s*(?:床|号床)/;

function pad(n: string | undefined): string {
  return (n ?? '0').padStart(2, '0');
}

/**
 * Turn a free-text manual report (from the review page or a DingTalk message) into a structured
 * draft: category, grade with the reason, details, time, department and bed as written, and the
 * fields still missing. The reporter confirms or completes it; nothing is filed from a draft alone.
 */
export function parseReport(text: string, detector: Detector = getDefaultDetector()): DraftEvent {
  if (typeof text !== 'string' || !text.trim()) {
    throw new CdssError('CDSS_ERR_INVALID_REQUEST', 'parseReport: the report text is empty', {
      issues: [{ path: ['text'], message: 'a report needs a description of the event' }],
    });
  }
  if (text.length > 20_000) {
    throw new CdssError(
      'CDSS_ERR_INVALID_REQUEST',
      'parseReport: the report is longer than 20000 characters',
      {
        issues: [{ path: ['text'], message: 'too long' }],
      },
    );
  }
  // A report describes an event that happened: sections do not apply.
  const candidates = detector.detectText(text, { excludeSections: false });
  const byCategory = new Map<EventCategory, Candidate>();
  for (const c of candidates) {
    const cur = byCategory.get(c.category);
    if (!cur || GRADE_RANK[c.grade] < GRADE_RANK[cur.grade])
      byCategory.set(c.category, { ...c, details: { ...(cur?.details ?? {}), ...c.details } });
    else Object.assign(cur.details, { ...c.details, ...cur.details });
  }
  // The event the report is about: the first mentioned; others are alternatives.
  const ranked = [...byCategory.values()].sort((a, b) => a.trigger.start - b.trigger.start);
  const primary = ranked[0];

  const dt = DATE_TIME_RE.exec(text);
  const occurredAt = dt
    ? `${dt[1]}-${pad(dt[2])}-${pad(dt[3])}${dt[4] !== undefined ? ` ${pad(dt[4])}:${pad(dt[5])}` : ''}`
    : undefined;
  const department = DEPARTMENT_RE.exec(text)?.[1];
  const bed = BED_RE.exec(text)?.[1];

  const missing: string[] = [];
  if (!primary) missing.push('事件类别');
  if (!occurredAt) missing.push('发生时间');
  if (!department) missing.push('科室/病区');
  if (!bed) missing.push('床号');
  if (primary && !primary.gradeFromCue) missing.push('伤害程度');
  if (primary?.category === 'pressure-injury' && !primary.details.stage) missing.push('压力性损伤分期');
  if (primary?.category === 'adverse-drug-reaction' && !primary.details.drug) missing.push('可疑药品');
  if (primary?.category === 'medication-error' && !primary.details.drug) missing.push('涉及药品');
  if (primary?.category === 'unplanned-extubation' && !primary.details.tube) missing.push('管路类型');

  const description = text.trim();
  return {
    ...(primary
      ? {
          category: primary.category,
          label: CATEGORY_LABELS[primary.category],
          grade: primary.grade,
          gradeReason: primary.gradeReason,
        }
      : {}),
    summary: primary ? primary.summary : description.replace(/\s+/g, ' ').slice(0, 60),
    details: primary ? { ...primary.details } : {},
    ...(occurredAt ? { occurredAt } : {}),
    ...(department ? { department } : {}),
    ...(bed ? { bed } : {}),
    description,
    evidence: ranked.map(textEvidence),
    missing,
    alternatives: ranked.slice(1).map((c) => c.category),
  };
}
