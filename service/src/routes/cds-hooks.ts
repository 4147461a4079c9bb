import { CdssError } from '@yijian/emr';
import { z } from 'zod';
import { alertToCard, type CdsCard, cdsResponseSchema } from '../cds-hooks/cards.js';
import {
  medicationCheckPlan,
  orderRefs,
  patientViewBundle,
  requirePrefetch,
} from '../cds-hooks/fhir-context.js';
import {
  CDS_SERVICES,
  discoveryDocument,
  feedbackRequestSchema,
  hookRequestSchema,
} from '../cds-hooks/services.js';
import { cardUuids } from '../cds-hooks/uuid.js';
import type { Alert, ServiceContext, ZodApp } from '../context.js';
import { errorBodySchema, libraryResult } from '../errors.js';
import { recordFrom } from '../input.js';
import { jsonBytes } from '../json-bytes.js';
import { applyTenantRules } from '../tenant-rules.js';

/**
 * CDS Hooks 2.0: discovery, the three hooks, feedback. Every card shown is written to the audit log
 * under its uuid, so feedback (accepted / overridden with a reason) can be tied to the rule.
 */

const serviceParams = z.strictObject({ id: z.string().min(1).max(100) });
const errors = {
  400: errorBodySchema,
  401: errorBodySchema,
  404: errorBodySchema,
  412: errorBodySchema,
  413: errorBodySchema,
  415: errorBodySchema,
  429: errorBodySchema,
  // Load shedding (CDSS_ERR_OVERLOADED) and startup or shutdown (CDSS_ERR_NOT_READY).
  503: errorBodySchema,
};

function serviceById(id: string) {
  const service = CDS_SERVICES.find((s) => s.id === id);
  if (!service) throw new CdssError('CDSS_ERR_NOT_FOUND', `Unknown CDS Service: ${id}`);
  return service;
}

export function cdsHooksRoutes(app: ZodApp, ctx: ServiceContext): void {
  app.get(
    '/cds-services',
    {
      schema: {
        tags: ['cds-hooks'],
        summary: 'CDS Hooks discovery',
        security: [{ cdsHooksJwt: [] }],
        response: {
          200: libraryResult('CDS Hooks discovery document: { services: [...] }'),
          401: errorBodySchema,
        },
      },
    },
    async () => discoveryDocument(),
  );

  app.post(
    '/cds-services/:id',
    {
      schema: {
        tags: ['cds-hooks'],
        summary: 'Call a CDS Service (patient-view, order-select, order-sign); answers cards',
        security: [{ cdsHooksJwt: [] }],
        params: serviceParams,
        body: hookRequestSchema,
        response: { 200: cdsResponseSchema, ...errors },
      },
      // Cards are built by alertToCard() to the schema above (tests check every card against it);
      // the hot path skips re-validating them on the way out, and answers UTF-8 bytes encoded once.
      serializerCompiler: () => (data) => jsonBytes(data) as unknown as string,
    },
    async (request) => {
      const service = serviceById(request.params.id);
      const body = request.body;
      if (body.hook !== service.hook) {
        throw new CdssError(
          'CDSS_ERR_INVALID_REQUEST',
          `Service ${service.id} answers hook ${service.hook}, not ${body.hook}`,
          {
            issues: [{ path: ['body', 'hook'], message: `expected ${service.hook}` }],
          },
        );
      }
      if (service.hook !== 'patient-view' && !body.context.draftOrders) {
        throw new CdssError('CDSS_ERR_INVALID_REQUEST', `${service.hook} needs context.draftOrders`, {
          issues: [{ path: ['body', 'context', 'draftOrders'], message: 'required' }],
        });
      }
      requirePrefetch(service, body);
      const engine = await ctx.engine();
      const settings = ctx.store.tenantRules(request.tenant.id);

      let alerts: Alert[];
      let refs = new Map<string, string>();
      let drafts = new Map<string, { resourceId: string; name: string }>();
      if (service.hook === 'patient-view') {
        const bundle = patientViewBundle(body);
        refs = orderRefs(bundle);
        const record = recordFrom(bundle);
        const result = await engine.analyze(record, {
          at: new Date().toISOString().slice(0, 19),
        });
        alerts = applyTenantRules(result.alerts, settings);
        ctx.afterAnalysis(record, { ...result, alerts }, request.tenant.id);
      } else {
        const plan = medicationCheckPlan(body);
        refs = plan.refs;
        drafts = plan.drafts;
        if (plan.draftIndices.size === 0) alerts = [];
        else {
          // A card at order time must concern one of the orders being placed (the engine skips the rest).
          alerts = await engine.checkMedications(plan.input, { concerning: plan.draftIndices });
        }
      }
      alerts = applyTenantRules(alerts, settings);
      const cards: CdsCard[] = [];
      const shown = [];
      // One base uuid per answer: the audit log keeps the answer's cards in one row (store.ts).
      const uuids = cardUuids(alerts.length);
      for (const [i, alert] of alerts.entries()) {
        const card = alertToCard(alert, { resourceRefs: refs, draftOrders: drafts, uuid: uuids[i]! });
        cards.push(card);
        shown.push({
          cardId: card.uuid!,
          alertId: alert.id,
          ruleId: alert.ruleId,
          ruleVersion: alert.ruleVersion,
          severity: card.indicator,
        });
      }
      ctx.recordShown(
        {
          tenant: request.tenant.id,
          channel: 'cds-hooks',
          endpoint: service.id,
          requestId: request.id,
          patientId: body.context.patientId,
          encounterId: body.context.encounterId,
          hookInstance: body.hookInstance,
        },
        shown,
      );
      return { cards };
    },
  );

  app.post(
    '/cds-services/:id/feedback',
    {
      schema: {
        tags: ['cds-hooks'],
        summary: 'Feedback on cards: accepted suggestions or override with reason',
        security: [{ cdsHooksJwt: [] }],
        params: serviceParams,
        body: feedbackRequestSchema,
        response: { 200: z.object({ received: z.number().int() }), ...errors },
      },
    },
    async (request) => {
      const service = serviceById(request.params.id);
      const tenant = request.tenant.id;
      const unknown = request.body.feedback
        .map((f, i) => ({ f, i }))
        .filter(({ f }) => !ctx.store.findCard(tenant, f.card));
      if (unknown.length) {
        throw new CdssError('CDSS_ERR_NOT_FOUND', 'Unknown card id in feedback', {
          issues: unknown.map(({ i }) => ({
            path: ['body', 'feedback', i, 'card'],
            message: 'no card with this uuid was returned',
          })),
        });
      }
      ctx.store.recordFeedback(
        request.body.feedback.map((f) => ({
          tenant,
          serviceId: service.id,
          cardId: f.card,
          outcome: f.outcome,
          overrideReasonCode: f.overrideReason?.reason?.code,
          overrideReasonSystem: f.overrideReason?.reason?.system,
          comment: f.overrideReason?.userComment,
          acceptedSuggestions: (f.acceptedSuggestions ?? []).map((s) => s.id),
          outcomeTimestamp: f.outcomeTimestamp,
        })),
      );
      for (const f of request.body.feedback) ctx.metrics.feedback.inc({ outcome: f.outcome });
      return { received: request.body.feedback.length };
    },
  );
}
