import { CdssError } from '@yijian/emr';
import type { CdsServiceDefinition, HookRequest } from './services.js';

/**
 * Turn a hook call's context and prefetch into engine input. This is format plumbing only (FHIR
 * JSON -> the engine's record / medication-check input); every clinical decision stays in the library.
 */

type Resource = { resourceType: string; id?: string; [k: string]: unknown };
type Concept = { text?: string; coding?: { system?: string; code?: string; display?: string }[] };

/** Resources of a prefetch value: a single resource or a searchset Bundle. */
export function resourcesOf(value: unknown): Resource[] {
  if (!value || typeof value !== 'object') return [];
  const r = value as Resource;
  if (r.resourceType === 'Bundle') {
    const entries = Array.isArray(r.entry) ? (r.entry as { resource?: unknown }[]) : [];
    return entries
      .map((e) => e?.resource)
      .filter(
        (x): x is Resource =>
          !!x && typeof x === 'object' && typeof (x as Resource).resourceType === 'string',
      );
  }
  return typeof r.resourceType === 'string' ? [r] : [];
}

/** 412 when a required prefetch key is absent or null. */
export function requirePrefetch(service: CdsServiceDefinition, request: HookRequest): void {
  const prefetch = request.prefetch ?? {};
  const missing = service.required.filter((k) => prefetch[k] === undefined || prefetch[k] === null);
  if (missing.length) {
    throw new CdssError('CDSS_ERR_PREFETCH_MISSING', `Required prefetch missing: ${missing.join(', ')}`, {
      issues: missing.map((k) => ({
        path: ['prefetch', k],
        message: `required (template ${service.prefetch[k]})`,
      })),
    });
  }
}

function conceptText(c: unknown): string | undefined {
  const x = c as Concept | undefined;
  if (!x || typeof x !== 'object') return undefined;
  if (typeof x.text === 'string' && x.text) return x.text;
  const coding = Array.isArray(x.coding) ? x.coding : [];
  return (
    coding.find((k) => typeof k?.display === 'string' && k.display)?.display ??
    coding.find((k) => k?.code)?.code
  );
}

function conceptCodes(c: unknown): string[] {
  const x = c as Concept | undefined;
  return Array.isArray(x?.coding)
    ? x.coding.map((k) => k?.code).filter((k): k is string => typeof k === 'string')
    : [];
}

const INACTIVE_STATUS = new Set(['inactive', 'resolved', 'remission', 'refuted', 'entered-in-error']);

/** Names of the Conditions or AllergyIntolerances that are neither inactive nor refuted. */
function activeNames(resources: Resource[], resourceType: 'Condition' | 'AllergyIntolerance'): string[] {
  const out: string[] = [];
  for (const r of resources) {
    if (r.resourceType !== resourceType) continue;
    const clinical = conceptCodes(r.clinicalStatus)[0];
    const verification = conceptCodes(r.verificationStatus)[0];
    if ((clinical && INACTIVE_STATUS.has(clinical)) || (verification && INACTIVE_STATUS.has(verification)))
      continue;
    const name = conceptText(r.code);
    if (name) out.push(name);
  }
  return out;
}

/** `华法林钠片 2.5mg po qd` from a MedicationRequest, or undefined when it names no drug. */
export function medicationEntry(r: Resource): string | undefined {
  const name =
    conceptText(r.medicationCodeableConcept) ??
    (typeof (r.medicationReference as { display?: unknown })?.display === 'string'
      ? String((r.medicationReference as { display: string }).display)
      : undefined);
  if (!name) return undefined;
  const dosage = Array.isArray(r.dosageInstruction)
    ? (r.dosageInstruction[0] as Record<string, unknown>)
    : undefined;
  const parts = [name.replace(/\s+/g, '')];
  const dr = Array.isArray(dosage?.doseAndRate)
    ? (dosage.doseAndRate[0] as { doseQuantity?: { value?: unknown; unit?: unknown } })
    : undefined;
  const q = dr?.doseQuantity;
  if (typeof q?.value === 'number' && Number.isFinite(q.value) && typeof q.unit === 'string')
    parts.push(`${q.value}${q.unit.replace(/\s+/g, '')}`);
  const route = conceptText(dosage?.route);
  if (route) parts.push(route.replace(/\s+/g, ''));
  const freq = conceptText((dosage?.timing as { code?: unknown } | undefined)?.code);
  if (freq) parts.push(freq.replace(/\s+/g, ''));
  return parts.join(' ');
}

function ageOn(birthDate: unknown, now: Date): number | undefined {
  if (typeof birthDate !== 'string' || !/^\d{4}(-\d{2}(-\d{2})?)?$/.test(birthDate)) return undefined;
  const [y, m = 1, d = 1] = birthDate.split('-').map(Number) as [number, number?, number?];
  let age = now.getUTCFullYear() - y;
  if (now.getUTCMonth() + 1 < m || (now.getUTCMonth() + 1 === m && now.getUTCDate() < d)) age -= 1;
  return age >= 0 && age < 150 ? age : undefined;
}

const EGFR_LOINC = new Set([
  '62238-1',
  '33914-3',
  '98979-8',
  '48642-3',
  '48643-1',
  '88293-6',
  '88294-4',
  '50044-7',
  '77147-7',
  '69405-9',
]);
const WEIGHT_LOINC = new Set(['29463-7', '3141-9']);

/** Latest numeric value of the observations with one of these codes. */
function latestValue(resources: Resource[], codes: Set<string>): number | undefined {
  let best: { t: string; v: number } | undefined;
  for (const r of resources) {
    if (r.resourceType !== 'Observation') continue;
    if (!conceptCodes(r.code).some((c) => codes.has(c))) continue;
    const v = (r.valueQuantity as { value?: unknown } | undefined)?.value;
    if (typeof v !== 'number' || !Number.isFinite(v)) continue;
    const t = String(r.effectiveDateTime ?? r.issued ?? '');
    if (!best || t > best.t) best = { t, v };
  }
  return best?.v;
}

export interface MedicationCheckPlan {
  input: {
    drugs: string[];
    conditions: string[];
    allergies: string[];
    age?: number;
    sex?: 'male' | 'female';
    egfr?: number;
    weightKg?: number;
  };
  /** Indices of `drugs` that are the draft orders of this call. */
  draftIndices: Set<number>;
  /** `input.drugs[i]` -> `MedicationRequest/<id>` for suggestion actions. */
  refs: Map<string, string>;
  /** `input.drugs[i]` of the draft orders -> their reference and written name. */
  drafts: Map<string, { resourceId: string; name: string }>;
}

/** order-select / order-sign: the draft orders plus the active ones, as a medication-check input. */
export function medicationCheckPlan(request: HookRequest, now = new Date()): MedicationCheckPlan {
  const prefetch = request.prefetch ?? {};
  const patient = resourcesOf(prefetch.patient).find((r) => r.resourceType === 'Patient');
  const drafts = resourcesOf(request.context.draftOrders).filter(
    (r) => r.resourceType === 'MedicationRequest',
  );
  const selections = request.context.selections;
  const selected =
    request.hook === 'order-select' && selections?.length
      ? drafts.filter(
          (d) => selections.includes(`MedicationRequest/${d.id}`) || selections.includes(String(d.id)),
        )
      : drafts;
  const draftIds = new Set(drafts.map((d) => d.id).filter(Boolean));
  const active = resourcesOf(prefetch.medications).filter(
    (r) =>
      r.resourceType === 'MedicationRequest' &&
      !draftIds.has(r.id) &&
      (r.status === undefined || r.status === 'active'),
  );
  const drugs: string[] = [];
  const draftIndices = new Set<number>();
  const refs = new Map<string, string>();
  const draftRefs = new Map<string, { resourceId: string; name: string }>();
  for (const [list, isDraft] of [
    [active, false],
    [selected, true],
  ] as const) {
    for (const r of list) {
      const entry = medicationEntry(r);
      if (!entry) continue;
      const i = drugs.push(entry) - 1;
      if (isDraft) draftIndices.add(i);
      if (r.id) {
        refs.set(`input.drugs[${i}]`, `MedicationRequest/${r.id}`);
        if (isDraft)
          draftRefs.set(`input.drugs[${i}]`, {
            resourceId: `MedicationRequest/${r.id}`,
            name: entry.split(' ')[0]!,
          });
      }
    }
  }
  const observations = resourcesOf(prefetch.observations);
  const sex = patient?.gender === 'male' || patient?.gender === 'female' ? patient.gender : undefined;
  const age = ageOn(patient?.birthDate, now);
  const egfr = latestValue(observations, EGFR_LOINC);
  const weightKg = latestValue(observations, WEIGHT_LOINC);
  return {
    input: {
      drugs,
      conditions: activeNames(resourcesOf(prefetch.conditions), 'Condition'),
      allergies: activeNames(resourcesOf(prefetch.allergies), 'AllergyIntolerance'),
      ...(age !== undefined ? { age } : {}),
      ...(sex ? { sex } : {}),
      ...(egfr !== undefined ? { egfr } : {}),
      ...(weightKg !== undefined ? { weightKg } : {}),
    },
    draftIndices,
    refs,
    drafts: draftRefs,
  };
}

/** patient-view: the prefetched resources as one FHIR Bundle, which the engine maps to a record. */
export function patientViewBundle(request: HookRequest): {
  resourceType: 'Bundle';
  type: 'collection';
  entry: { resource: Resource }[];
} {
  const prefetch = request.prefetch ?? {};
  const seen = new Set<string>();
  const entry: { resource: Resource }[] = [];
  for (const key of [
    'patient',
    'encounter',
    'conditions',
    'medications',
    'allergies',
    'observations',
    'notes',
  ]) {
    for (const r of resourcesOf(prefetch[key])) {
      const k = `${r.resourceType}/${r.id ?? entry.length}`;
      if (seen.has(k)) continue;
      seen.add(k);
      entry.push({ resource: r });
    }
  }
  return { resourceType: 'Bundle', type: 'collection', entry };
}

/** Record order id -> FHIR reference, for the MedicationRequests of a patient-view bundle. */
export function orderRefs(bundle: { entry: { resource: Resource }[] }): Map<string, string> {
  const refs = new Map<string, string>();
  for (const { resource } of bundle.entry) {
    if (resource.resourceType === 'MedicationRequest' && resource.id)
      refs.set(resource.id, `MedicationRequest/${resource.id}`);
  }
  return refs;
}
