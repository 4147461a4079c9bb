import type { AlertLike } from './types.js';

/** A small discharged record for the store and plugin tests: one 出院记录 an hour after discharge. */
export function testRecord(
  id: string,
  department: string,
  options: {
    admission?: string;
    discharge?: string;
    doctor?: string;
    sex?: 'male' | 'female';
    birthDate?: string;
    text?: string;
  } = {},
) {
  const discharge = options.discharge ?? '2025-03-05 10:00';
  const day = discharge.slice(0, 10);
  return {
    schemaVersion: '1',
    id,
    patient: {
      id: `P-${id}`,
      name: '测试',
      sex: options.sex ?? 'female',
      birthDate: options.birthDate ?? '1970-01-01',
    },
    encounter: {
      id: `E-${id}`,
      admissionTime: options.admission ?? '2025-03-01 08:00',
      dischargeTime: discharge,
      department,
      attendingDoctors: [{ role: '主治医师', name: options.doctor ?? '高某某' }],
    },
    documents: [
      {
        id: 'doc-1',
        type: '出院记录',
        createdTime: `${day} 11:00`,
        text: options.text ?? '患者否认高血压病史。',
      },
    ],
  };
}

/** A timeliness warning as the engine would report it, for the store and plugin tests. */
export function testFinding(id: string, ruleId = `tl.${id}`, summary = `问题 ${id}`): AlertLike {
  return {
    id,
    ruleId,
    ruleVersion: '1.0.0',
    category: 'timeliness',
    severity: 'warning',
    summary,
    detail: '说明',
    evidence: [],
    suggestions: [],
    source: { label: '测试' },
    suppressionKey: id,
  };
}
