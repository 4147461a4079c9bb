/** FHIR R4 resources a CDS Hooks client would prefetch, written for the service's tests and benches. */

export function patient(id = 'pat-1', gender = 'male', birthDate = '1956-08-14') {
  return { resourceType: 'Patient', id, gender, birthDate, name: [{ text: '王某某' }] };
}

export function encounter(id = 'enc-1', start = '2025-03-10T09:20:00+08:00') {
  return {
    resourceType: 'Encounter',
    id,
    status: 'in-progress',
    class: { code: 'IMP' },
    period: { start },
    serviceType: { text: '心血管内科' },
  };
}

export function medicationRequest(
  id: string,
  name: string,
  dose?: { value: number; unit: string },
  route = '口服',
  frequency = 'qd',
  status = 'active',
  authoredOn = '2025-03-10T10:30:00+08:00',
) {
  return {
    resourceType: 'MedicationRequest',
    id,
    status,
    intent: 'order',
    subject: { reference: 'Patient/pat-1' },
    authoredOn,
    medicationCodeableConcept: { text: name },
    dosageInstruction: [
      {
        route: { text: route },
        timing: { code: { text: frequency } },
        ...(dose ? { doseAndRate: [{ doseQuantity: dose }] } : {}),
      },
    ],
  };
}

export function condition(id: string, name: string, code?: string) {
  return {
    resourceType: 'Condition',
    id,
    clinicalStatus: {
      coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }],
    },
    code: { text: name, ...(code ? { coding: [{ system: 'http://hl7.org/fhir/sid/icd-10', code }] } : {}) },
    subject: { reference: 'Patient/pat-1' },
    recordedDate: '2025-03-10T09:20:00+08:00',
  };
}

export function allergy(id: string, substance: string) {
  return {
    resourceType: 'AllergyIntolerance',
    id,
    category: ['medication'],
    code: { text: substance },
    patient: { reference: 'Patient/pat-1' },
  };
}

export function note(id: string, text: string, type = '日常病程记录', date = '2025-03-11T09:00:00+08:00') {
  return {
    resourceType: 'DocumentReference',
    id,
    status: 'current',
    type: { text: type },
    date,
    content: [
      {
        attachment: {
          contentType: 'text/plain; charset=utf-8',
          data: Buffer.from(text, 'utf8').toString('base64'),
        },
      },
    ],
  };
}

export function searchset(resources: object[]) {
  return {
    resourceType: 'Bundle',
    type: 'searchset',
    total: resources.length,
    entry: resources.map((resource) => ({ resource })),
  };
}

export function draftOrders(resources: object[]) {
  return { resourceType: 'Bundle', type: 'collection', entry: resources.map((resource) => ({ resource })) };
}

/** An order-sign call: aspirin drafted beside active warfarin (one interaction card), with full prefetch. */
export function orderSignCall(hookInstance: string) {
  return {
    hook: 'order-sign',
    hookInstance,
    context: {
      userId: 'Practitioner/1',
      patientId: 'pat-1',
      draftOrders: draftOrders([
        medicationRequest('d-1', '阿司匹林肠溶片', { value: 100, unit: 'mg' }, '口服', 'qd', 'draft'),
      ]),
    },
    prefetch: {
      patient: patient(),
      medications: searchset([medicationRequest('m-1', '华法林钠片', { value: 2.5, unit: 'mg' })]),
      conditions: searchset([condition('c-1', '高血压')]),
      allergies: searchset([allergy('a-1', '青霉素')]),
    },
  };
}
