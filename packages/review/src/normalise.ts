import { type AdverseEvent, GRADE_LABELS } from '@yijian/adverse-events';
import type { PatientRecord } from '@yijian/emr';
import type { AlertLike, FindingSource, RecordMeta, Severity } from './types.js';

const QC_CATEGORIES = new Set(['front-page', 'timeliness', 'completeness', 'consistency']);

/** Department, responsible doctor and discharge date of a record, as `yijian qc batch` reports them. */
export function recordMeta(record: PatientRecord): RecordMeta {
  const fp = record.frontPage;
  const doctor =
    fp?.attendingPhysician?.trim() ||
    record.encounter.attendingDoctors.find((d) => d.role === '主治医师')?.name ||
    fp?.residentPhysician?.trim() ||
    '未知';
  return {
    id: record.id,
    department: fp?.dischargeDepartment?.trim() || record.encounter.department,
    doctor,
    dischargeDate: (
      fp?.dischargeTime ??
      record.encounter.dischargeTime ??
      record.encounter.admissionTime
    ).slice(0, 10),
  };
}

/** QC categories come from @yijian/qc; adverse events carry `adverse-event`; anything else is a CDSS alert. */
export function sourceOf(finding: Pick<AlertLike, 'category'>): FindingSource {
  if (QC_CATEGORIES.has(finding.category)) return 'qc';
  if (finding.category === 'adverse-event') return 'ae';
  return 'cdss';
}

const GRADE_SEVERITY: Record<AdverseEvent['grade'], Severity> = {
  I: 'critical',
  II: 'critical',
  III: 'warning',
  IV: 'info',
};

/**
 * An adverse event as an alert-like finding: rule `ae.<category>`, severity from the I–IV grade,
 * document spans as text evidence, the event key as suppression key. The grade and details stay in
 * `data` of the first evidence and in the finding's `adverseEvent` property.
 */
export function adverseEventToFinding(event: AdverseEvent): AlertLike {
  const version = event.rules[0]?.split('@')[1] ?? '1';
  const evidence: AlertLike['evidence'] = event.evidence.map((e) => ({
    kind: e.source === 'document' || e.source === 'text' ? 'text' : e.source,
    text: e.text,
    ...(e.refId ? { ref: e.refId } : {}),
    ...(e.source === 'document' && e.refId ? { documentId: e.refId } : {}),
    ...(e.start !== undefined && e.end !== undefined ? { span: { start: e.start, end: e.end } } : {}),
    data: { ruleId: e.ruleId, ...(e.trigger ? { trigger: e.trigger.text } : {}) },
  }));
  const details = Object.entries(event.details)
    .map(([k, v]) => `${k}: ${Array.isArray(v) ? v.join('、') : String(v)}`)
    .join('；');
  return {
    id: event.id,
    ruleId: `ae.${event.category}`,
    ruleVersion: version,
    category: 'adverse-event',
    severity: GRADE_SEVERITY[event.grade],
    summary: event.summary,
    detail: `**${event.label}** ${GRADE_LABELS[event.grade]}\n\n分级依据：${event.gradeReason}${details ? `\n\n${details}` : ''}`,
    evidence,
    suggestions: [],
    source: { label: '医疗安全（不良）事件检测' },
    suppressionKey: event.key,
    adverseEvent: { grade: event.grade, label: event.label, category: event.category, origin: event.origin },
  };
}

/** Grade I–IV of an adverse-event finding, or null. */
export function gradeOf(finding: AlertLike): string | null {
  const ae = (finding as { adverseEvent?: { grade?: unknown } }).adverseEvent;
  return ae && typeof ae.grade === 'string' ? ae.grade : null;
}
