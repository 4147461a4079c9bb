import type { ClinicalDocument, DocumentType, PatientRecord } from '@yijian/emr';
import { localDate, toEpochMs } from '@yijian/emr';
import type { QcConfig } from './config.js';
import { dayDiff } from './dates.js';
import type { Emit } from './findings.js';
import type { Evidence } from './types.js';

/**
 * Timeliness (病历书写基本规范, qc-standards.md §2): each document against its deadline, measured from the
 * record's own times: the encounter's admission, discharge and death times, and each document's
 * `eventTime` (the operation's or rescue's end, the consultation request) and `createdTime`.
 */

const HOUR = 3_600_000;

export interface EncounterTimes {
  admission: number;
  discharge: number;
  death: number;
  deathText?: string;
}

/** Admission, discharge and death times in epoch ms (NaN where unknown). */
export function encounterTimes(record: PatientRecord): EncounterTimes {
  const e = record.encounter;
  const diedByFrontPage = record.frontPage?.dischargeMethod?.trim() === '5';
  const deathText = e.deathTime ?? (diedByFrontPage ? e.dischargeTime : undefined);
  return {
    admission: toEpochMs(e.admissionTime),
    discharge: e.dischargeTime ? toEpochMs(e.dischargeTime) : Number.NaN,
    death: deathText ? toEpochMs(deathText) : Number.NaN,
    ...(deathText ? { deathText } : {}),
  };
}

export function docsOfType(record: PatientRecord, ...types: DocumentType[]): ClinicalDocument[] {
  return record.documents
    .filter((d) => (types as string[]).includes(d.type))
    .sort((a, b) => toEpochMs(a.createdTime) - toEpochMs(b.createdTime) || a.id.localeCompare(b.id));
}

export function docEvidence(doc: ClinicalDocument, what = '创建时间'): Evidence {
  const time = what === '创建时间' ? doc.createdTime : (doc.eventTime ?? doc.createdTime);
  return {
    kind: 'text',
    ref: `documents/${doc.id}`,
    documentId: doc.id,
    text: `${doc.type}（${doc.id}）${what}：${time}`,
  };
}

function timeEvidence(ref: string, label: string, time: string): Evidence {
  return { kind: 'patient', ref, text: `${label}：${time}` };
}

function hoursText(h: number): string {
  return h >= 48 ? `${Math.round(h / 2.4) / 10}天` : `${Math.round(h * 10) / 10}小时`;
}

/** Operation end times: 手术记录 eventTime, else the record's procedures with a surgeon (operations). */
export function operationEnds(record: PatientRecord): { ms: number; text: string; ref: string }[] {
  const out: { ms: number; text: string; ref: string }[] = [];
  for (const d of docsOfType(record, '手术记录')) {
    if (d.eventTime) out.push({ ms: toEpochMs(d.eventTime), text: d.eventTime, ref: `documents/${d.id}` });
  }
  if (out.length === 0) {
    record.procedures.forEach((p, i) => {
      if (p.time && p.surgeon) out.push({ ms: toEpochMs(p.time), text: p.time, ref: `procedures[${i}]` });
    });
  }
  return out.filter((o) => !Number.isNaN(o.ms)).sort((a, b) => a.ms - b.ms);
}

export function runTimelinessChecks(record: PatientRecord, config: QcConfig, emit: Emit): void {
  const t = config.timeliness;
  const times = encounterTimes(record);
  const enc = record.encounter;

  const late = (
    ruleId: string,
    doc: ClinicalDocument,
    fromMs: number,
    fromEvidence: Evidence,
    limitHours: number,
    whenMs?: number,
  ) => {
    const written = whenMs ?? toEpochMs(doc.createdTime);
    if (Number.isNaN(fromMs) || Number.isNaN(written)) return;
    const hours = (written - fromMs) / HOUR;
    if (hours > limitHours) {
      emit(ruleId, {
        evidence: [docEvidence(doc), fromEvidence],
        params: { doc: doc.type, delay: hoursText(hours), limit: hoursText(limitHours) },
        target: doc.id,
      });
    }
  };

  const admEv = timeEvidence('encounter.admissionTime', '入院时间', enc.admissionTime);
  const first = (types: DocumentType[]) => docsOfType(record, ...types)[0];

  const admissionRecord = first(['入院记录', '再次入院记录']);
  if (admissionRecord)
    late('tl.admission-record', admissionRecord, times.admission, admEv, t.admissionRecordHours);
  const firstCourse = first(['首次病程记录']);
  if (firstCourse) late('tl.first-course', firstCourse, times.admission, admEv, t.firstCourseHours);
  const seniorRound = first(['上级医师查房记录']);
  if (seniorRound)
    late(
      'tl.senior-round',
      seniorRound,
      times.admission,
      admEv,
      t.seniorRoundHours,
      toEpochMs(seniorRound.eventTime ?? seniorRound.createdTime),
    );

  // Operations: 手术记录 within 24 h of its operation's end; 术后首次病程记录 right after.
  const ops = operationEnds(record);
  for (const doc of docsOfType(record, '手术记录')) {
    const end = doc.eventTime ? toEpochMs(doc.eventTime) : Number.NaN;
    if (!Number.isNaN(end))
      late(
        'tl.operation-record',
        doc,
        end,
        timeEvidence(`documents/${doc.id}#eventTime`, '手术结束时间', doc.eventTime!),
        t.operationRecordHours,
      );
  }
  for (const doc of docsOfType(record, '术后首次病程记录')) {
    const created = toEpochMs(doc.createdTime);
    let end = doc.eventTime
      ? { ms: toEpochMs(doc.eventTime), text: doc.eventTime, ref: `documents/${doc.id}#eventTime` }
      : undefined;
    if (!end) {
      const before = ops.filter((o) => o.ms <= created);
      end = before[before.length - 1];
    }
    if (end)
      late(
        'tl.post-op-note',
        doc,
        end.ms,
        timeEvidence(end.ref, '手术结束时间', end.text),
        t.postOpNoteHours,
      );
  }
  for (const doc of docsOfType(record, '抢救记录')) {
    if (doc.eventTime)
      late(
        'tl.rescue-record',
        doc,
        toEpochMs(doc.eventTime),
        timeEvidence(`documents/${doc.id}#eventTime`, '抢救结束时间', doc.eventTime),
        t.rescueRecordHours,
      );
  }
  for (const doc of docsOfType(record, '会诊记录')) {
    if (doc.eventTime)
      late(
        'tl.consultation',
        doc,
        toEpochMs(doc.eventTime),
        timeEvidence(`documents/${doc.id}#eventTime`, '会诊申请时间', doc.eventTime),
        t.consultationHours,
      );
  }
  if (enc.dischargeTime) {
    const disEv = timeEvidence('encounter.dischargeTime', '出院时间', enc.dischargeTime);
    for (const doc of docsOfType(record, '出院记录'))
      late('tl.discharge-record', doc, times.discharge, disEv, t.dischargeRecordHours);
    for (const doc of docsOfType(record, '24小时内入出院记录'))
      late('tl.in-out-24h', doc, times.discharge, disEv, t.dischargeRecordHours);
  }
  if (!Number.isNaN(times.death)) {
    const deathEv = timeEvidence(
      enc.deathTime ? 'encounter.deathTime' : 'encounter.dischargeTime',
      '死亡时间',
      times.deathText!,
    );
    for (const doc of docsOfType(record, '死亡记录'))
      late('tl.death-record', doc, times.death, deathEv, t.deathRecordHours);
    for (const doc of docsOfType(record, '24小时内入院死亡记录'))
      late('tl.in-death-24h', doc, times.death, deathEv, t.deathRecordHours);
    for (const doc of docsOfType(record, '死亡病例讨论记录')) {
      late(
        'tl.death-discussion',
        doc,
        times.death,
        deathEv,
        t.deathDiscussionDays * 24,
        toEpochMs(doc.eventTime ?? doc.createdTime),
      );
    }
  }
  checkProgressInterval(record, config, emit);
}

const PROGRESS_TYPES: DocumentType[] = [
  '首次病程记录',
  '日常病程记录',
  '上级医师查房记录',
  '术后首次病程记录',
  '抢救记录',
  '阶段小结',
  '转科记录',
  '交接班记录',
  '疑难病例讨论记录',
];

/**
 * 日常病程记录: 病危 at least once a calendar day, 病重 at least every 2 days, otherwise every 3 days. Days
 * are counted on the local (CST) calendar, so notes on consecutive days satisfy "daily" whatever the hour.
 */
function checkProgressInterval(record: PatientRecord, config: QcConfig, emit: Emit): void {
  const notes = docsOfType(record, ...PROGRESS_TYPES);
  if (notes.length === 0) return;
  const level = record.encounter.condition ?? '一般';
  const limitDays = config.timeliness.progressNoteDays[level];
  const stamps = notes.map((d) => ({ doc: d, day: localDate(d.createdTime) })).filter((x) => x.day !== '');
  for (let i = 1; i < stamps.length; i++) {
    const a = stamps[i - 1]!;
    const b = stamps[i]!;
    const gap = dayDiff(a.day, b.day);
    if (gap > limitDays) {
      emit('tl.progress-interval', {
        evidence: [docEvidence(a.doc), docEvidence(b.doc)],
        params: { level, gap: `${gap}天`, limit: `${limitDays}天` },
      });
    }
  }
}
