import { z } from 'zod';

/**
 * The CDS Services this server offers (GET /cds-services) and the request shape of a hook call.
 * Prefetch templates follow the CDS Hooks 2.0 syntax; keys listed in `required` must be present
 * (non-null) in the call's prefetch, otherwise the call is answered 412.
 */

export type HookName = 'patient-view' | 'order-select' | 'order-sign';

export interface CdsServiceDefinition {
  id: string;
  hook: HookName;
  title: string;
  description: string;
  prefetch: Record<string, string>;
  required: string[];
}

const PATIENT = 'Patient/{{context.patientId}}';
const CONDITIONS = 'Condition?patient={{context.patientId}}&clinical-status=active';
const MEDICATIONS = 'MedicationRequest?patient={{context.patientId}}&status=active';
const ALLERGIES = 'AllergyIntolerance?patient={{context.patientId}}';
const OBSERVATIONS =
  'Observation?patient={{context.patientId}}&category=laboratory,vital-signs&_sort=-date&_count=100';

export const CDS_SERVICES: CdsServiceDefinition[] = [
  {
    id: 'yijian-patient-view',
    hook: 'patient-view',
    title: '医鉴 病历智能审查',
    description:
      'Reads the encounter (diagnoses, orders, allergies, labs, notes) and returns drug-conflict, allergy, dose and risk alerts with evidence.',
    prefetch: {
      patient: PATIENT,
      encounter: 'Encounter/{{context.encounterId}}',
      conditions: CONDITIONS,
      medications: MEDICATIONS,
      allergies: ALLERGIES,
      observations: OBSERVATIONS,
      notes: 'DocumentReference?patient={{context.patientId}}&encounter={{context.encounterId}}',
    },
    required: ['patient', 'encounter'],
  },
  {
    id: 'yijian-order-select',
    hook: 'order-select',
    title: '医鉴 医嘱选择时用药审查',
    description:
      'Checks the selected draft medication orders against active orders, diagnoses, allergies, age, renal function and weight.',
    prefetch: {
      patient: PATIENT,
      conditions: CONDITIONS,
      medications: MEDICATIONS,
      allergies: ALLERGIES,
      observations: OBSERVATIONS,
    },
    required: ['patient'],
  },
  {
    id: 'yijian-order-sign',
    hook: 'order-sign',
    title: '医鉴 医嘱签署前用药审查',
    description:
      'Before orders are signed: interactions, allergy and contraindication conflicts, duplicate therapy and dose limits for the draft medication orders.',
    prefetch: {
      patient: PATIENT,
      conditions: CONDITIONS,
      medications: MEDICATIONS,
      allergies: ALLERGIES,
      observations: OBSERVATIONS,
    },
    required: ['patient'],
  },
];

export function discoveryDocument() {
  return {
    services: CDS_SERVICES.map((s) => ({
      hook: s.hook,
      id: s.id,
      title: s.title,
      description: s.description,
      prefetch: s.prefetch,
      usageRequirements: `Required prefetch: ${s.required.join(', ')}. Calls must carry a JWT signed with an asymmetric key.`,
    })),
  };
}

const fhirResource = z.looseObject({ resourceType: z.string().min(1) });

export const hookRequestSchema = z
  .object({
    hook: z.string().min(1),
    hookInstance: z.string().min(1).max(200),
    fhirServer: z.string().url().optional(),
    fhirAuthorization: z
      .looseObject({
        access_token: z.string(),
        token_type: z.string(),
        expires_in: z.number(),
        scope: z.string(),
        subject: z.string(),
      })
      .optional(),
    context: z.looseObject({
      userId: z.string().optional(),
      patientId: z.string().min(1),
      encounterId: z.string().optional(),
      selections: z.array(z.string()).optional(),
      draftOrders: z
        .looseObject({ resourceType: z.literal('Bundle'), entry: z.array(z.unknown()).optional() })
        .optional(),
    }),
    prefetch: z.record(z.string(), fhirResource.nullable()).optional(),
  })
  .describe('CDS Hooks 2.0 request');

export type HookRequest = z.infer<typeof hookRequestSchema>;

export const feedbackRequestSchema = z
  .object({
    feedback: z
      .array(
        z.object({
          card: z.string().min(1).max(200),
          outcome: z.enum(['accepted', 'overridden']),
          acceptedSuggestions: z.array(z.object({ id: z.string().min(1) })).optional(),
          overrideReason: z
            .object({
              reason: z
                .object({
                  code: z.string().min(1),
                  system: z.string().optional(),
                  display: z.string().optional(),
                })
                .optional(),
              userComment: z.string().max(2000).optional(),
            })
            .optional(),
          outcomeTimestamp: z.string().min(1),
        }),
      )
      .min(1)
      .max(100),
  })
  .describe('CDS Hooks 2.0 feedback');
