import type { DocumentType, PatientRecord } from '@yijian/emr';
import { toEpochMs } from '@yijian/emr';
import type { QcConfig } from './config.js';
import type { Emit } from './findings.js';
import { isLocalAnesthesia, isMajorOperation } from './front-page.js';
import { missingSections, sectionText } from './sections.js';
import { docEvidence, docsOfType, encounterTimes, operationEnds } from './timeliness.js';
import type { Evidence } from './types.js';

/**
 * Completeness: documents the encounter requires (病历书写基本规范) and sections each document requires.
 * `at` is the review time: a document whose deadline is after `at` is not yet missing. Without `at` the
 * record is reviewed as final (after discharge), so everything is due.
 */

const HOUR = 3_600_000;
const TRANSFUSION_ORDER =
  /悬浮红细胞|红细胞悬液|去白细胞|洗涤红细胞|新鲜冰冻血浆|冰冻血浆|机采血小板|血小板悬液|冷沉淀|全血|输血/;

export interface SectionsDetected {
  /** Canonical section names found by @yijian/ner for a document id. */
  get(documentId: string): ReadonlySet<string> | undefined;
}

export function runCompletenessChecks(
  record: PatientRecord,
  config: QcConfig,
  emit: Emit,
  options: { at?: string; sections?: SectionsDetected } = {},
): void {
  const times = encounterTimes(record);
  const at = options.at ? toEpochMs(options.at) : Number.POSITIVE_INFINITY;
  const t = config.timeliness;
  const has = (...types: DocumentType[]) => docsOfType(record, ...types).length > 0;
  const due = (fromMs: number, hours: number) => !Number.isNaN(fromMs) && fromMs + hours * HOUR <= at;
  const enc = record.encounter;
  const short24 = has('24小时内入出院记录', '24小时内入院死亡记录');
  const died = !Number.isNaN(times.death);

  const missing = (ruleId: string, doc: string, why: string, evidence: Evidence[]) => {
    emit(ruleId, { evidence, params: { doc, why } });
  };
  const admEv: Evidence = {
    kind: 'patient',
    ref: 'encounter.admissionTime',
    text: `入院时间：${enc.admissionTime}`,
  };

  if (!short24) {
    if (!has('入院记录', '再次入院记录') && due(times.admission, t.admissionRecordHours))
      missing('cp.doc.admission-record', '入院记录', '住院患者', [admEv]);
    if (!has('首次病程记录') && due(times.admission, t.firstCourseHours))
      missing('cp.doc.first-course', '首次病程记录', '住院患者', [admEv]);
  }
  const end = died ? times.death : times.discharge;
  const stayHours = (Number.isNaN(end) ? at : end) - times.admission;
  if (
    !has('上级医师查房记录') &&
    stayHours > t.seniorRoundHours * HOUR &&
    due(times.admission, t.seniorRoundHours)
  ) {
    missing('cp.doc.senior-round', '上级医师查房记录', `住院超过${t.seniorRoundHours}小时`, [admEv]);
  }
  if (
    enc.dischargeTime &&
    !died &&
    !short24 &&
    !has('出院记录') &&
    due(times.discharge, t.dischargeRecordHours)
  ) {
    missing('cp.doc.discharge-record', '出院记录', '已出院', [
      { kind: 'patient', ref: 'encounter.dischargeTime', text: `出院时间：${enc.dischargeTime}` },
    ]);
  }
  if (died) {
    const deathEv: Evidence = {
      kind: 'patient',
      ref: enc.deathTime ? 'encounter.deathTime' : 'frontPage.dischargeMethod',
      text: `死亡时间：${times.deathText}`,
    };
    if (!has('死亡记录', '24小时内入院死亡记录') && due(times.death, t.deathRecordHours))
      missing('cp.doc.death-record', '死亡记录', '患者死亡', [deathEv]);
    if (!has('死亡病例讨论记录') && due(times.death, t.deathDiscussionDays * 24))
      missing('cp.doc.death-discussion', '死亡病例讨论记录', '患者死亡', [deathEv]);
  }

  // Operations -> 手术记录 and 术后首次病程记录; procedures under local anaesthesia -> 手术记录 or 有创诊疗操作记录.
  const fpProcs = (record.frontPage?.procedures ?? []).map((p, i) => ({ p, i }));
  const major = fpProcs.filter(({ p }) => isMajorOperation(p));
  // Local-anaesthesia operations outside the delivery chapters (checked as if under general anaesthesia).
  const local = fpProcs.filter(
    ({ p }) =>
      isLocalAnesthesia(p.anesthesiaMethod) && isMajorOperation({ ...p, anesthesiaMethod: '全身麻醉' }),
  );
  const procEvidence = (list: typeof fpProcs): Evidence[] =>
    list.map(({ p, i }) => ({
      kind: 'field' as const,
      ref: `frontPage.procedures[${i}]`,
      text: `手术操作：${p.name ?? p.code}（${p.code ?? ''}，${p.date ?? ''}，${p.anesthesiaMethod ?? ''}）`,
    }));
  const ends = operationEnds(record);
  const lastEnd = ends.length ? ends[ends.length - 1]!.ms : Number.NaN;
  const opDue = (hours: number) => Number.isNaN(lastEnd) || due(lastEnd, hours);
  if (major.length) {
    if (!has('手术记录') && opDue(t.operationRecordHours))
      missing('cp.doc.operation-record', '手术记录', '有手术', procEvidence(major));
    if (!has('术后首次病程记录') && opDue(t.postOpNoteHours))
      missing('cp.doc.post-op-note', '术后首次病程记录', '有手术', procEvidence(major));
  } else if (local.length && !has('手术记录', '有创诊疗操作记录') && opDue(t.operationRecordHours)) {
    missing(
      'cp.doc.operation-record',
      '手术记录或有创诊疗操作记录',
      '有局部麻醉下的手术操作',
      procEvidence(local),
    );
  }

  // Transfusion -> 输血记录.
  const fp = record.frontPage;
  const tf = fp?.transfusion;
  const units =
    (tf?.redCellsU ?? 0) +
    (tf?.plateletsDoses ?? 0) +
    (tf?.plasmaMl ?? 0) +
    (tf?.wholeBloodMl ?? 0) +
    (tf?.autologousU ?? 0);
  const bloodOrders = record.medications.filter(
    (m) => m.status !== 'cancelled' && m.status !== 'draft' && TRANSFUSION_ORDER.test(m.drugName),
  );
  const transfusionEv: Evidence[] = [
    ...((fp?.fees?.blood ?? 0) > 0
      ? [
          {
            kind: 'field' as const,
            ref: 'frontPage.fees.blood',
            text: `血费(D26)：${fp!.fees!.blood}`,
            data: { fieldCode: 'D26' },
          },
        ]
      : []),
    ...(units > 0
      ? [{ kind: 'field' as const, ref: 'frontPage.transfusion', text: `输血量合计：${units}` }]
      : []),
    ...bloodOrders.map((m) => ({
      kind: 'order' as const,
      ref: m.id,
      text: `医嘱：${m.drugName}（${m.startTime}）`,
    })),
  ];
  if (transfusionEv.length && !has('输血记录'))
    missing('cp.doc.transfusion-record', '输血记录', '有输血', transfusionEv);

  // 病危/病重 -> 病危（重）通知书.
  if ((enc.condition === '病危' || enc.condition === '病重') && !has('病危（重）通知书')) {
    missing('cp.doc.critical-notice', '病危（重）通知书', `病情为${enc.condition}`, [
      { kind: 'patient', ref: 'encounter.condition', text: `病情：${enc.condition}` },
    ]);
  }

  // Sections per document.
  for (const doc of record.documents) {
    const gaps = missingSections(doc.type, doc.text, options.sections?.get(doc.id));
    for (const section of gaps) {
      emit('cp.section.missing', {
        evidence: [docEvidence(doc)],
        params: { doc: doc.type, section },
        key: section,
        target: doc.id,
      });
    }
    if (doc.type === '入院记录' || doc.type === '再次入院记录') {
      const cc = sectionText(doc.text, '主诉');
      if (cc !== undefined && cc.replace(/[。.\s]+$/, '').length > 20) {
        const start = doc.text.indexOf(cc);
        emit('cp.chief-complaint.length', {
          evidence: [
            {
              kind: 'text',
              ref: `documents/${doc.id}`,
              documentId: doc.id,
              span: { start, end: start + cc.length },
              text: `主诉：${cc}`,
            },
          ],
          params: { length: cc.replace(/[。.\s]+$/, '').length },
          target: doc.id,
        });
      }
    }
  }
}
