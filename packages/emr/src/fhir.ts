import { z } from 'zod';
import { CdssError, type FieldIssue, fromZodIssues } from './errors.js';
import { parseRecord } from './parse.js';
import {
  DOCUMENT_TYPES,
  type DocumentType,
  ID_DOCUMENT_TYPES,
  type PatientRecord,
  type PatientRecordInput,
  type VitalSign,
} from './record.js';

/**
 * FHIR R4 Bundle -> record. Reads Patient, Encounter, Condition, MedicationRequest,
 * AllergyIntolerance, Observation, Procedure, DocumentReference and Composition; other resource types
 * are ignored. Only the elements we map are checked; FHIR's own profile validation is the sender's job.
 */

const coding = z.looseObject({
  system: z.string().optional(),
  code: z.string().optional(),
  display: z.string().optional(),
});
const concept = z.looseObject({ coding: z.array(coding).optional(), text: z.string().optional() });
const reference = z.looseObject({ reference: z.string().optional(), display: z.string().optional() });
const quantity = z.looseObject({
  value: z.number().optional(),
  unit: z.string().optional(),
  code: z.string().optional(),
});
const period = z.looseObject({ start: z.string().optional(), end: z.string().optional() });

const bundleSchema = z.looseObject({
  resourceType: z.literal('Bundle'),
  entry: z
    .array(
      z.looseObject({
        fullUrl: z.string().optional(),
        resource: z.looseObject({ resourceType: z.string(), id: z.string().optional() }),
      }),
    )
    .default([]),
});

const str = z.string().optional();
const concepts = z.array(concept).optional();
const references = z.array(reference).optional();

/**
 * The elements we read, per resource type. Elements we do not read are not checked; an element we
 * read with the wrong JSON type (e.g. `code.text: {}`) is reported with its path, never a TypeError.
 */
const RESOURCE_SCHEMAS: Record<string, z.ZodType> = {
  Patient: z.looseObject({
    id: str,
    name: z
      .array(z.looseObject({ text: str, family: str, given: z.array(z.string()).optional() }))
      .optional(),
    gender: str,
    birthDate: str,
    identifier: z.array(z.looseObject({ system: str, value: str, type: concept.optional() })).optional(),
    telecom: z.array(z.looseObject({ system: str, value: str })).optional(),
  }),
  Encounter: z.looseObject({
    id: str,
    period: period.optional(),
    serviceType: concept.optional(),
    location: z.array(z.looseObject({ location: reference.optional() })).optional(),
    participant: z.array(z.looseObject({ type: concepts, individual: reference.optional() })).optional(),
    diagnosis: z
      .array(
        z.looseObject({
          condition: reference.optional(),
          use: concept.optional(),
          rank: z.number().optional(),
        }),
      )
      .optional(),
  }),
  Condition: z.looseObject({ id: str, code: concept.optional(), recordedDate: str, onsetDateTime: str }),
  MedicationRequest: z.looseObject({
    id: str,
    status: str,
    medicationCodeableConcept: concept.optional(),
    medicationReference: reference.optional(),
    authoredOn: str,
    courseOfTherapyType: concept.optional(),
    dosageInstruction: z
      .array(
        z.looseObject({
          route: concept.optional(),
          timing: z.looseObject({ code: concept.optional() }).optional(),
          doseAndRate: z.array(z.looseObject({ doseQuantity: quantity.optional() })).optional(),
          text: str,
        }),
      )
      .optional(),
    dispenseRequest: z.looseObject({ validityPeriod: period.optional() }).optional(),
    requester: reference.optional(),
  }),
  AllergyIntolerance: z.looseObject({
    code: concept.optional(),
    category: z.array(z.string()).optional(),
    reaction: z.array(z.looseObject({ manifestation: concepts, severity: str })).optional(),
    recordedDate: str,
  }),
  Observation: z.looseObject({
    id: str,
    category: concepts,
    code: concept.optional(),
    valueQuantity: quantity.optional(),
    valueString: str,
    effectiveDateTime: str,
    issued: str,
    interpretation: concepts,
    referenceRange: z
      .array(z.looseObject({ low: quantity.optional(), high: quantity.optional(), text: str }))
      .optional(),
    component: z
      .array(z.looseObject({ code: concept.optional(), valueQuantity: quantity.optional() }))
      .optional(),
  }),
  Procedure: z.looseObject({
    code: concept.optional(),
    performedDateTime: str,
    performedPeriod: period.optional(),
  }),
  DocumentReference: z.looseObject({
    id: str,
    type: concept.optional(),
    date: str,
    author: references,
    content: z
      .array(z.looseObject({ attachment: z.looseObject({ data: str, contentType: str }).optional() }))
      .optional(),
  }),
  Composition: z.looseObject({
    id: str,
    type: concept.optional(),
    date: str,
    title: str,
    author: references,
    section: z.array(z.looseObject({ title: str, text: z.looseObject({ div: str }).optional() })).optional(),
  }),
};

type Resource = { resourceType: string; id?: string | undefined; [k: string]: unknown };
type Concept = z.infer<typeof concept>;

function conceptText(c: Concept | undefined): string | undefined {
  if (!c) return undefined;
  return c.text ?? c.coding?.find((x) => x.display)?.display ?? c.coding?.[0]?.code;
}
function conceptCode(c: Concept | undefined, systemHint?: RegExp): string | undefined {
  const codings = c?.coding ?? [];
  const hit = systemHint ? codings.find((x) => x.system && systemHint.test(x.system)) : undefined;
  return (hit ?? codings[0])?.code;
}

/** Is the Bundle shaped like FHIR (resourceType Bundle)? */
export function isFhirBundle(value: unknown): boolean {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as { resourceType?: unknown }).resourceType === 'Bundle'
  );
}

const SEX: Record<string, PatientRecord['patient']['sex']> = {
  male: 'male',
  female: 'female',
  other: 'unspecified',
  unknown: 'unknown',
};

const LOINC_VITALS: Record<string, VitalSign['kind']> = {
  '8310-5': 'temperature',
  '8867-4': 'heartRate',
  '9279-1': 'respiratoryRate',
  '8480-6': 'systolicBP',
  '8462-4': 'diastolicBP',
  '59408-5': 'spo2',
  '2708-6': 'spo2',
  '29463-7': 'weight',
  '8302-2': 'height',
};

const INTERPRETATION: Record<string, 'H' | 'L' | 'N' | 'HH' | 'LL' | 'A'> = {
  H: 'H',
  L: 'L',
  N: 'N',
  HH: 'HH',
  LL: 'LL',
  A: 'A',
  AA: 'A',
};

function localId(ref: string | undefined): string | undefined {
  return ref?.split('/').pop();
}

function stripHtml(html: string): string {
  return html
    .replace(/<br\s*\/?>/gi, '\n')
    .replace(/<\/(p|div|li|tr|h\d)>/gi, '\n')
    .replace(/<[^>]*>/g, '')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&nbsp;/g, ' ')
    .replace(/&amp;/g, '&')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

function documentType(
  label: string | undefined,
  issues: FieldIssue[],
  path: (string | number)[],
): DocumentType {
  const found = DOCUMENT_TYPES.find((t) => t === label?.trim());
  if (!found) issues.push({ path, message: `unknown document type ${JSON.stringify(label ?? null)}` });
  return found ?? '其他';
}

/** Map a FHIR R4 Bundle to a validated record. */
export function fromFhirBundle(input: unknown): PatientRecord {
  const parsed = bundleSchema.safeParse(input);
  if (!parsed.success)
    throw fromZodIssues('CDSS_ERR_INVALID_FHIR', 'Invalid FHIR Bundle', parsed.error.issues);
  const issues: FieldIssue[] = [];
  const resources = parsed.data.entry.map((e) => e.resource as Resource);
  resources.forEach((resource, i) => {
    const shape = RESOURCE_SCHEMAS[resource.resourceType]?.safeParse(resource);
    if (shape && !shape.success) {
      for (const issue of shape.error.issues) {
        issues.push({
          path: ['entry', i, 'resource', ...issue.path.map((p) => (typeof p === 'number' ? p : String(p)))],
          message: issue.message,
        });
      }
    }
  });
  if (issues.length) throw fromZodIssues('CDSS_ERR_INVALID_FHIR', 'Invalid FHIR Bundle', issues);
  const byType = (t: string) => resources.map((r, i) => ({ r, i })).filter((x) => x.r.resourceType === t);

  const patients = byType('Patient');
  const patientEntry = patients[0];
  if (!patientEntry)
    throw new CdssError('CDSS_ERR_INVALID_FHIR', 'Invalid FHIR Bundle: no Patient resource', {
      issues: [{ path: ['entry'], message: 'a Patient resource is required' }],
    });
  const p = patientEntry.r as Resource & {
    name?: { text?: string; family?: string; given?: string[] }[];
    gender?: string;
    birthDate?: string;
    identifier?: { system?: string; value?: string; type?: Concept }[];
    telecom?: { system?: string; value?: string }[];
  };
  const nameObj = p.name?.[0];
  const name =
    nameObj?.text ?? (nameObj ? `${nameObj.family ?? ''}${(nameObj.given ?? []).join('')}` : undefined);
  const idIdentifier = p.identifier?.find((x) => {
    const label = conceptText(x.type);
    return (
      (label && (ID_DOCUMENT_TYPES as readonly string[]).includes(label)) ||
      x.system === 'urn:oid:2.16.156.10011.1.1'
    );
  });
  const idType = conceptText(idIdentifier?.type);

  const encounters = byType('Encounter');
  const enc = encounters[0]?.r as
    | (Resource & {
        period?: z.infer<typeof period>;
        serviceType?: Concept;
        location?: { location?: z.infer<typeof reference> }[];
        participant?: { type?: Concept[]; individual?: z.infer<typeof reference> }[];
        diagnosis?: { condition?: z.infer<typeof reference>; use?: Concept; rank?: number }[];
      })
    | undefined;
  if (!enc) issues.push({ path: ['entry'], message: 'an Encounter resource is required' });

  const diagnosisRole = new Map<string, { use?: string; rank?: number }>();
  for (const d of enc?.diagnosis ?? []) {
    const id = localId(d.condition?.reference);
    if (id) diagnosisRole.set(id, { use: conceptCode(d.use), rank: d.rank });
  }

  const record: PatientRecordInput = {
    id: enc?.id ?? patientEntry.r.id ?? 'fhir-record',
    patient: {
      id: p.id ?? 'unknown',
      ...(name ? { name } : {}),
      sex: SEX[p.gender ?? 'unknown'] ?? 'unknown',
      birthDate: p.birthDate ?? '',
      ...(idIdentifier?.value
        ? {
            idDocument: {
              type: (idType as (typeof ID_DOCUMENT_TYPES)[number]) ?? '居民身份证',
              number: idIdentifier.value,
            },
          }
        : {}),
      ...(p.telecom?.find((t) => t.system === 'phone')?.value
        ? { phone: p.telecom.find((t) => t.system === 'phone')!.value! }
        : {}),
    },
    encounter: {
      id: enc?.id ?? 'unknown',
      admissionTime: enc?.period?.start ?? '',
      ...(enc?.period?.end ? { dischargeTime: enc.period.end } : {}),
      department: conceptText(enc?.serviceType) ?? enc?.location?.[0]?.location?.display ?? '未知科室',
      attendingDoctors: (enc?.participant ?? [])
        .filter((x) => x.individual?.display)
        .map((x) => ({ role: '主治医师' as const, name: x.individual!.display! })),
    },
    documents: [],
    medications: [],
    labs: [],
    vitals: [],
    allergies: [],
    diagnoses: [],
    procedures: [],
  };

  for (const { r, i } of byType('Condition')) {
    const c = r as Resource & { code?: Concept; recordedDate?: string; onsetDateTime?: string };
    const role = diagnosisRole.get(r.id ?? '');
    const type =
      role?.use === 'AD'
        ? 'admission'
        : role?.use === 'DD' && role.rank === 1
          ? 'principal'
          : role?.use === 'DD'
            ? 'secondary'
            : 'secondary';
    const label = conceptText(c.code);
    if (!label) {
      issues.push({
        path: ['entry', i, 'resource', 'code'],
        message: 'Condition needs code.text or a coding',
      });
      continue;
    }
    const code = conceptCode(c.code, /icd/i);
    record.diagnoses!.push({
      name: label,
      type,
      ...(code ? { code } : {}),
      ...(c.recordedDate ? { time: c.recordedDate } : {}),
    });
  }

  const STATUS: Record<string, 'active' | 'completed' | 'stopped' | 'cancelled' | 'draft'> = {
    active: 'active',
    completed: 'completed',
    stopped: 'stopped',
    cancelled: 'cancelled',
    draft: 'draft',
    'on-hold': 'stopped',
    'entered-in-error': 'cancelled',
  };
  for (const { r, i } of byType('MedicationRequest')) {
    const m = r as Resource & {
      status?: string;
      medicationCodeableConcept?: Concept;
      medicationReference?: z.infer<typeof reference>;
      authoredOn?: string;
      courseOfTherapyType?: Concept;
      dosageInstruction?: {
        route?: Concept;
        timing?: { code?: Concept };
        doseAndRate?: { doseQuantity?: z.infer<typeof quantity> }[];
        text?: string;
      }[];
      dispenseRequest?: { validityPeriod?: z.infer<typeof period> };
      requester?: z.infer<typeof reference>;
    };
    const drugName = conceptText(m.medicationCodeableConcept) ?? m.medicationReference?.display;
    if (!drugName) {
      issues.push({
        path: ['entry', i, 'resource', 'medicationCodeableConcept'],
        message: 'MedicationRequest needs a medication name',
      });
      continue;
    }
    const dosage = m.dosageInstruction?.[0];
    const dose = dosage?.doseAndRate?.[0]?.doseQuantity;
    const start = m.dispenseRequest?.validityPeriod?.start ?? m.authoredOn;
    if (!start)
      issues.push({
        path: ['entry', i, 'resource', 'authoredOn'],
        message: 'MedicationRequest needs authoredOn',
      });
    const drugCode = conceptCode(m.medicationCodeableConcept);
    const route = conceptText(dosage?.route);
    const frequency = conceptText(dosage?.timing?.code);
    record.medications!.push({
      id: r.id ?? `med-${i}`,
      drugName,
      ...(drugCode ? { drugCode } : {}),
      ...(dose?.value !== undefined ? { dose: dose.value } : {}),
      ...(dose?.unit ? { doseUnit: dose.unit } : {}),
      ...(route ? { route } : {}),
      ...(frequency ? { frequency } : {}),
      startTime: start ?? '',
      ...(m.dispenseRequest?.validityPeriod?.end ? { stopTime: m.dispenseRequest.validityPeriod.end } : {}),
      kind: conceptCode(m.courseOfTherapyType) === 'acute' ? 'once' : 'long-term',
      status: STATUS[m.status ?? 'active'] ?? 'active',
      ...(m.requester?.display ? { prescriber: m.requester.display } : {}),
    });
  }

  for (const { r } of byType('AllergyIntolerance')) {
    const a = r as Resource & {
      code?: Concept;
      category?: string[];
      reaction?: { manifestation?: Concept[]; severity?: string }[];
      recordedDate?: string;
    };
    const substance = conceptText(a.code);
    if (!substance) continue;
    const cat = a.category?.[0];
    const reaction = conceptText(a.reaction?.[0]?.manifestation?.[0]);
    const sev = a.reaction?.[0]?.severity;
    record.allergies!.push({
      substance,
      category:
        cat === 'medication'
          ? 'drug'
          : cat === 'food'
            ? 'food'
            : cat === 'environment'
              ? 'environment'
              : cat
                ? 'other'
                : 'drug',
      ...(reaction ? { reaction } : {}),
      ...(sev === 'mild' || sev === 'moderate' || sev === 'severe' ? { severity: sev } : {}),
      ...(a.recordedDate ? { recordedTime: a.recordedDate } : {}),
    });
  }

  for (const { r, i } of byType('Observation')) {
    const o = r as Resource & {
      category?: Concept[];
      code?: Concept;
      valueQuantity?: z.infer<typeof quantity>;
      valueString?: string;
      effectiveDateTime?: string;
      issued?: string;
      interpretation?: Concept[];
      referenceRange?: { low?: z.infer<typeof quantity>; high?: z.infer<typeof quantity>; text?: string }[];
      component?: { code?: Concept; valueQuantity?: z.infer<typeof quantity> }[];
    };
    const time = o.effectiveDateTime ?? o.issued;
    if (!time) {
      issues.push({
        path: ['entry', i, 'resource', 'effectiveDateTime'],
        message: 'Observation needs effectiveDateTime',
      });
      continue;
    }
    const isVital = o.category?.some((c) => c.coding?.some((x) => x.code === 'vital-signs'));
    const loinc = conceptCode(o.code, /loinc/i);
    if (isVital) {
      const parts = o.component?.length ? o.component : [{ code: o.code, valueQuantity: o.valueQuantity }];
      for (const part of parts) {
        const kind = LOINC_VITALS[conceptCode(part.code, /loinc/i) ?? ''];
        if (kind && part.valueQuantity?.value !== undefined) {
          record.vitals!.push({
            kind,
            value: part.valueQuantity.value,
            ...(part.valueQuantity.unit ? { unit: part.valueQuantity.unit } : {}),
            time,
          });
        }
      }
      continue;
    }
    const item = conceptText(o.code);
    const value = o.valueQuantity?.value ?? o.valueString;
    if (!item || value === undefined) continue;
    const range = o.referenceRange?.[0];
    const flag = INTERPRETATION[conceptCode(o.interpretation?.[0]) ?? ''];
    record.labs!.push({
      id: r.id ?? `lab-${i}`,
      item,
      ...(loinc ? { code: loinc } : {}),
      value,
      ...(o.valueQuantity?.unit ? { unit: o.valueQuantity.unit } : {}),
      ...(range?.text ? { referenceRange: range.text } : {}),
      ...(range?.low?.value !== undefined ? { referenceLow: range.low.value } : {}),
      ...(range?.high?.value !== undefined ? { referenceHigh: range.high.value } : {}),
      ...(flag ? { flag } : {}),
      time,
    });
  }

  for (const { r } of byType('Procedure')) {
    const pr = r as Resource & {
      code?: Concept;
      performedDateTime?: string;
      performedPeriod?: z.infer<typeof period>;
    };
    const label = conceptText(pr.code);
    if (!label) continue;
    const code = conceptCode(pr.code, /icd|9-?cm/i);
    const time = pr.performedDateTime ?? pr.performedPeriod?.start;
    record.procedures!.push({
      name: label,
      ...(code ? { code } : {}),
      ...(time ? { time } : {}),
      principal: false,
    });
  }

  for (const { r, i } of byType('DocumentReference')) {
    const d = r as Resource & {
      type?: Concept;
      date?: string;
      author?: z.infer<typeof reference>[];
      content?: { attachment?: { data?: string; contentType?: string } }[];
    };
    const data = d.content?.[0]?.attachment?.data;
    if (!data) {
      issues.push({
        path: ['entry', i, 'resource', 'content', 0, 'attachment', 'data'],
        message: 'DocumentReference needs inline base64 data',
      });
      continue;
    }
    if (!d.date)
      issues.push({ path: ['entry', i, 'resource', 'date'], message: 'DocumentReference needs date' });
    record.documents!.push({
      id: r.id ?? `doc-${i}`,
      type: documentType(conceptText(d.type), issues, ['entry', i, 'resource', 'type']),
      createdTime: d.date ?? '',
      ...(d.author?.[0]?.display ? { author: d.author[0].display } : {}),
      text: Buffer.from(data, 'base64').toString('utf8'),
    });
  }

  for (const { r, i } of byType('Composition')) {
    const c = r as Resource & {
      type?: Concept;
      date?: string;
      title?: string;
      author?: z.infer<typeof reference>[];
      section?: { title?: string; text?: { div?: string } }[];
    };
    const text = (c.section ?? [])
      .map((s) => `${s.title ? `${s.title}：` : ''}${stripHtml(s.text?.div ?? '')}`)
      .join('\n');
    if (!c.date) issues.push({ path: ['entry', i, 'resource', 'date'], message: 'Composition needs date' });
    record.documents!.push({
      id: r.id ?? `doc-${i}`,
      type: documentType(conceptText(c.type) ?? c.title, issues, ['entry', i, 'resource', 'type']),
      ...(c.title ? { title: c.title } : {}),
      createdTime: c.date ?? '',
      ...(c.author?.[0]?.display ? { author: c.author[0].display } : {}),
      text,
    });
  }

  if (issues.length) {
    throw fromZodIssues('CDSS_ERR_INVALID_FHIR', 'FHIR Bundle could not be mapped', issues);
  }
  return parseRecord(record);
}
