import { dateTimeSchema } from '@yijian/emr';
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Alert, ServiceContext, ZodApp } from '../context.js';
import { errorBodySchema, libraryResult } from '../errors.js';
import { recordFrom } from '../input.js';
import { applyTenantRules } from '../tenant-rules.js';
import { checkConceptKind, conceptKindParam } from './knowledge.js';

/**
 * The library's capabilities as JSON endpoints: analyze a record, NER, entity linking, the quick
 * medication check for order entry, front-page QC and full-record QC. Each handler validates the
 * envelope, calls the engine, applies the tenant's rule settings, and audits the alerts it returns.
 */

const errors = {
  400: errorBodySchema,
  401: errorBodySchema,
  413: errorBodySchema,
  415: errorBodySchema,
  429: errorBodySchema,
};

const recordBody = z
  .looseObject({})
  .describe(
    'A patient record (components.schemas.PatientRecord) or a FHIR R4 Bundle (resourceType "Bundle")',
  );

const textBody = z.strictObject({
  text: z.string().min(1).max(200_000).describe('Clinical text (Chinese)'),
});

export const medicationCheckBody = z.strictObject({
  drugs: z
    .array(z.string().min(1).max(200))
    .min(1)
    .max(200)
    .describe('Drug entries, each a name optionally with dose, route, frequency: "华法林钠片 2.5mg po qd"'),
  conditions: z.array(z.string().min(1).max(200)).max(200).optional(),
  allergies: z.array(z.string().min(1).max(200)).max(200).optional(),
  age: z.number().min(0).max(150).optional(),
  sex: z.enum(['male', 'female']).optional(),
  egfr: z.number().min(0).max(300).optional().describe('mL/min/1.73m²'),
  weightKg: z.number().positive().max(500).optional(),
  concerning: z
    .array(z.number().int().min(0).max(199))
    .max(200)
    .optional()
    .describe(
      'Indices into drugs (0-based) of the orders being placed: only alerts that concern one of them are returned',
    ),
});

function auditAlerts(
  ctx: ServiceContext,
  request: FastifyRequest,
  endpoint: string,
  alerts: Alert[],
  ids: { patientId?: string; encounterId?: string } = {},
) {
  ctx.recordShown(
    { tenant: request.tenant.id, channel: 'rest', endpoint, requestId: request.id, ...ids },
    alerts.map((a) => ({
      cardId: a.id,
      alertId: a.id,
      ruleId: a.ruleId,
      ruleVersion: a.ruleVersion,
      severity: a.severity,
    })),
  );
}

/** Patient and encounter ids of an analyze result or input, for the audit log (never names). */
function idsOf(value: unknown): { patientId?: string; encounterId?: string } {
  const v = value as
    | { patient?: { id?: unknown }; encounter?: { id?: unknown }; record?: unknown }
    | undefined;
  if (v && typeof v === 'object' && 'record' in v && v.record) return idsOf(v.record);
  const patientId = typeof v?.patient?.id === 'string' ? v.patient.id : undefined;
  const encounterId = typeof v?.encounter?.id === 'string' ? v.encounter.id : undefined;
  return { ...(patientId ? { patientId } : {}), ...(encounterId ? { encounterId } : {}) };
}

export function analysisRoutes(app: ZodApp, ctx: ServiceContext): void {
  app.post(
    '/v1/analyze',
    {
      schema: {
        tags: ['analysis'],
        summary:
          'Analyze a record: mentions, linked concepts, alerts with evidence, QC (same result as `yijian analyze`)',
        security: [{ apiKey: [] }],
        querystring: z.strictObject({
          at: dateTimeSchema
            .optional()
            .describe('Evaluate medications at this time (default: the record decides)'),
        }),
        body: recordBody,
        response: {
          200: libraryResult(
            'AnalyzeResult: the record summary, mentions with spans and assertion, linked concepts, alerts with evidence and graph paths, QC findings',
          ),
          ...errors,
        },
      },
    },
    async (request) => {
      const engine = await ctx.engine();
      const record = recordFrom(request.body);
      const result = await engine.analyze(record, request.query.at ? { at: request.query.at } : undefined);
      const alerts = applyTenantRules(result.alerts, ctx.store.tenantRules(request.tenant.id));
      auditAlerts(ctx, request, '/v1/analyze', alerts, idsOf(result));
      // Adverse events go to the DingTalk outbox; record, alerts, QC and events to the review queue.
      const adverseEvents = ctx.afterAnalysis(record, { ...result, alerts }, request.tenant.id);
      return { ...result, alerts, adverseEvents };
    },
  );

  app.post(
    '/v1/ner',
    {
      schema: {
        tags: ['analysis'],
        summary:
          'Named entities with sections, assertion (negated, possible, historical, family…) and attributes',
        security: [{ apiKey: [] }],
        body: textBody,
        response: {
          200: libraryResult(
            'Annotation: sections and mentions (span, type, assertion with trigger, attributes)',
          ),
          ...errors,
        },
      },
    },
    async (request) => {
      const engine = await ctx.engine();
      return engine.annotate(request.body.text);
    },
  );

  app.post(
    '/v1/link',
    {
      schema: {
        tags: ['analysis'],
        summary: 'Link a term to knowledge-graph concepts',
        security: [{ apiKey: [] }],
        body: z.strictObject({
          text: z.string().min(1).max(500),
          kind: conceptKindParam,
        }),
        response: {
          200: libraryResult('LinkResult: candidate concepts with match kind and score'),
          ...errors,
        },
      },
    },
    async (request) => {
      const engine = await ctx.engine();
      const { text, kind } = request.body;
      return engine.link(text, kind ? await checkConceptKind(engine, kind, ['body', 'kind']) : undefined);
    },
  );

  app.post(
    '/v1/medications/check',
    {
      schema: {
        tags: ['analysis'],
        summary: 'Quick medication check for order entry: interactions, allergies, contraindications, doses',
        security: [{ apiKey: [] }],
        body: medicationCheckBody,
        response: {
          200: libraryResult('{ alerts: Alert[] } — each alert shaped like a CDS Hooks card with evidence'),
          ...errors,
        },
      },
    },
    async (request) => {
      const engine = await ctx.engine();
      const { concerning, ...input } = request.body;
      const raw = await engine.checkMedications(input, concerning ? { concerning } : {});
      const alerts = applyTenantRules(raw, ctx.store.tenantRules(request.tenant.id));
      auditAlerts(ctx, request, '/v1/medications/check', alerts);
      return { alerts };
    },
  );

  app.post(
    '/v1/qc/front-page',
    {
      schema: {
        tags: ['analysis'],
        summary: 'Quality control of the 病案首页 (front page): findings and score',
        security: [{ apiKey: [] }],
        body: recordBody,
        response: {
          200: libraryResult('QcResult: findings (field codes, severity, evidence) and score'),
          ...errors,
        },
      },
    },
    async (request) => {
      const engine = await ctx.engine();
      return engine.qcFrontPage(recordFrom(request.body));
    },
  );

  app.post(
    '/v1/qc/record',
    {
      schema: {
        tags: ['analysis'],
        summary: 'Quality control of the whole record: front page, timeliness, completeness, consistency',
        security: [{ apiKey: [] }],
        body: recordBody,
        response: { 200: libraryResult('QcResult: findings and score (grade 甲/乙/丙)'), ...errors },
      },
    },
    async (request) => {
      const engine = await ctx.engine();
      return engine.qcRecord(recordFrom(request.body));
    },
  );
}
