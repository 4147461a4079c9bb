import type { PatientRecordInput } from './record.js';

/** A small valid record for unit tests (not exported from the package). */
export function minimalRecord(): PatientRecordInput {
  return {
    id: 'r-1',
    patient: { id: 'p-1', name: '测试某', sex: 'female', birthDate: '1956-04-12' },
    encounter: {
      id: 'e-1',
      admissionTime: '2024-03-01 09:10',
      dischargeTime: '2024-03-08 10:00',
      department: '心内科',
    },
    documents: [
      { id: 'doc-1', type: '入院记录', createdTime: '2024-03-01 15:00', text: '主诉：反复心悸3年。' },
    ],
    medications: [
      {
        id: 'med-1',
        drugName: '华法林钠片',
        dose: 3,
        doseUnit: 'mg',
        route: '口服',
        frequency: 'qd',
        startTime: '2024-03-01 18:00',
        kind: 'long-term',
      },
    ],
  };
}
