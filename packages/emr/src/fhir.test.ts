import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CdssError } from './errors.js';
import { fromFhirBundle, isFhirBundle } from './fhir.js';

function bundle(): Record<string, unknown> {
  const entry = (resource: Record<string, unknown>) => ({ resource });
  return {
    resourceType: 'Bundle',
    type: 'collection',
    entry: [
      entry({
        resourceType: 'Patient',
        id: 'pat-9',
        name: [{ text: '李某' }],
        gender: 'male',
        birthDate: '1950-06-01',
        identifier: [
          { system: 'urn:oid:2.16.156.10011.1.1', type: { text: '居民身份证' }, value: '11010519491231002X' },
        ],
      }),
      entry({
        resourceType: 'Encounter',
        id: 'enc-9',
        period: { start: '2024-05-02T10:00:00+08:00', end: '2024-05-09T09:00:00+08:00' },
        serviceType: { text: '心内科' },
        diagnosis: [{ condition: { reference: 'Condition/c1' }, use: { coding: [{ code: 'DD' }] }, rank: 1 }],
      }),
      entry({
        resourceType: 'Condition',
        id: 'c1',
        code: {
          coding: [{ system: 'http://hl7.org/fhir/sid/icd-10', code: 'I48.x01', display: '心房颤动' }],
        },
      }),
      entry({
        resourceType: 'MedicationRequest',
        id: 'm1',
        status: 'active',
        medicationCodeableConcept: { text: '华法林钠片' },
        authoredOn: '2024-05-02T12:00:00+08:00',
        courseOfTherapyType: { coding: [{ code: 'continuous' }] },
        dosageInstruction: [
          {
            route: { text: '口服' },
            timing: { code: { text: 'qd' } },
            doseAndRate: [{ doseQuantity: { value: 3, unit: 'mg' } }],
          },
        ],
      }),
      entry({
        resourceType: 'AllergyIntolerance',
        code: { text: '青霉素' },
        category: ['medication'],
        reaction: [{ manifestation: [{ text: '皮疹' }] }],
      }),
      entry({
        resourceType: 'Observation',
        id: 'o1',
        code: { text: '血钾' },
        valueQuantity: { value: 6.2, unit: 'mmol/L' },
        effectiveDateTime: '2024-05-03T06:00:00+08:00',
        interpretation: [{ coding: [{ code: 'HH' }] }],
        referenceRange: [{ low: { value: 3.5 }, high: { value: 5.3 } }],
      }),
      entry({
        resourceType: 'Observation',
        category: [{ coding: [{ code: 'vital-signs' }] }],
        code: { coding: [{ system: 'http://loinc.org', code: '85354-9' }] },
        effectiveDateTime: '2024-05-02T10:30:00+08:00',
        component: [
          {
            code: { coding: [{ system: 'http://loinc.org', code: '8480-6' }] },
            valueQuantity: { value: 150, unit: 'mmHg' },
          },
          {
            code: { coding: [{ system: 'http://loinc.org', code: '8462-4' }] },
            valueQuantity: { value: 95, unit: 'mmHg' },
          },
        ],
      }),
      entry({
        resourceType: 'Procedure',
        code: { text: '冠状动脉造影' },
        performedDateTime: '2024-05-04T09:00:00+08:00',
      }),
      entry({
        resourceType: 'DocumentReference',
        id: 'd1',
        type: { text: '入院记录' },
        date: '2024-05-02T16:00:00+08:00',
        content: [
          {
            attachment: {
              contentType: 'text/plain',
              data: Buffer.from('主诉：心悸1周。').toString('base64'),
            },
          },
        ],
      }),
      entry({
        resourceType: 'Composition',
        id: 'd2',
        type: { text: '出院记录' },
        date: '2024-05-09T10:00:00+08:00',
        title: '出院记录',
        section: [{ title: '出院诊断', text: { div: '<div>心房颤动</div>' } }],
      }),
    ],
  };
}

describe('fromFhirBundle', () => {
  it('maps the resources we read', () => {
    const b = bundle();
    expect(isFhirBundle(b)).toBe(true);
    const r = fromFhirBundle(b);
    expect(r.patient).toMatchObject({
      id: 'pat-9',
      name: '李某',
      sex: 'male',
      idDocument: { type: '居民身份证' },
    });
    expect(r.encounter).toMatchObject({ id: 'enc-9', department: '心内科' });
    expect(r.diagnoses[0]).toMatchObject({ name: '心房颤动', code: 'I48.x01', type: 'principal' });
    expect(r.medications[0]).toMatchObject({
      drugName: '华法林钠片',
      dose: 3,
      doseUnit: 'mg',
      route: '口服',
      frequency: 'qd',
      kind: 'long-term',
    });
    expect(r.allergies[0]).toMatchObject({ substance: '青霉素', category: 'drug', reaction: '皮疹' });
    expect(r.labs[0]).toMatchObject({
      item: '血钾',
      value: 6.2,
      flag: 'HH',
      referenceLow: 3.5,
      referenceHigh: 5.3,
    });
    expect(r.vitals.map((v) => v.kind)).toEqual(['systolicBP', 'diastolicBP']);
    expect(r.procedures[0]!.name).toBe('冠状动脉造影');
    expect(r.documents.map((d) => [d.type, d.text])).toEqual([
      ['入院记录', '主诉：心悸1周。'],
      ['出院记录', '出院诊断：心房颤动'],
    ]);
  });

  it('refuses a bundle without a patient, naming the problem', () => {
    const b = bundle();
    b.entry = (b.entry as { resource: { resourceType: string } }[]).filter(
      (e) => e.resource.resourceType !== 'Patient',
    );
    expect(() => fromFhirBundle(b)).toThrow(expect.objectContaining({ code: 'CDSS_ERR_INVALID_FHIR' }));
  });

  it('reports unknown document types with their path', () => {
    const b = bundle();
    const entries = b.entry as { resource: Record<string, unknown> }[];
    entries[8]!.resource.type = { text: '奇怪的记录' };
    try {
      fromFhirBundle(b);
      expect.unreachable();
    } catch (error) {
      expect((error as CdssError).issues[0]!.path).toEqual(['entry', 8, 'resource', 'type']);
    }
  });

  it('reports elements of the wrong JSON type with their path, not a TypeError', () => {
    const cases: [number, Record<string, unknown>, (string | number)[]][] = [
      [8, { type: { text: {} } }, ['entry', 8, 'resource', 'type', 'text']],
      [3, { dosageInstruction: 'qd' }, ['entry', 3, 'resource', 'dosageInstruction']],
      [0, { name: [{ given: '某' }] }, ['entry', 0, 'resource', 'name', 0, 'given']],
      [5, { valueQuantity: { value: '6.2' } }, ['entry', 5, 'resource', 'valueQuantity', 'value']],
    ];
    for (const [index, patch, path] of cases) {
      const b = bundle();
      const entries = b.entry as { resource: Record<string, unknown> }[];
      Object.assign(entries[index]!.resource, patch);
      const error = (() => {
        try {
          fromFhirBundle(b);
        } catch (e) {
          return e;
        }
      })();
      expect(error).toBeInstanceOf(CdssError);
      expect((error as CdssError).code).toBe('CDSS_ERR_INVALID_FHIR');
      expect((error as CdssError).issues.map((i) => i.path)).toContainEqual(path);
    }
  });

  it('refuses non-bundles', () => {
    expect(() => fromFhirBundle({ resourceType: 'Patient' })).toThrow(CdssError);
    expect(isFhirBundle({})).toBe(false);
  });
});

describe('fromFhirBundle on hostile input (property)', () => {
  it('answers every mutated bundle with a record or a CdssError, never another exception', () => {
    const junk = fc.oneof(
      fc.string(),
      fc.integer(),
      fc.double(),
      fc.boolean(),
      fc.constant(null),
      fc.object(),
      fc.array(fc.anything()),
    );
    fc.assert(
      fc.property(fc.nat(9), fc.string({ minLength: 1, maxLength: 20 }), junk, (index, key, value) => {
        const b = bundle();
        const entries = b.entry as { resource: Record<string, unknown> }[];
        const resource = entries[index]!.resource;
        const keys = Object.keys(resource);
        const target = fc.sample(fc.constantFrom(...keys, key), { numRuns: 1, seed: index })[0]!;
        resource[target] = value;
        try {
          fromFhirBundle(b);
        } catch (error) {
          if (!(error instanceof CdssError)) throw error;
        }
      }),
      { numRuns: 500, seed: 42 },
    );
  });
});
