import { CdssError } from '@yijian/emr';
import type { FastifyRequest } from 'fastify';
import type { Engine } from 'yijian';
import { z } from 'zod';
import type { ServiceContext, ZodApp } from '../context.js';
import { errorBodySchema, libraryResult } from '../errors.js';
import type { TenantRuleSetting } from '../store.js';

/**
 * Concept search, rule listing with the tenant's own settings (enable / disable / severity), and
 * the tenant's audit trail (alerts shown, card feedback).
 */

const errors = {
  400: errorBodySchema,
  401: errorBodySchema,
  403: errorBodySchema,
  404: errorBodySchema,
  429: errorBodySchema,
};
const severity = z.enum(['info', 'warning', 'critical']);
const ruleIdParams = z.strictObject({ ruleId: z.string().min(1).max(200) });

export type ConceptKind = NonNullable<NonNullable<Parameters<Engine['searchConcepts']>[1]>['kind']>;

/** The optional `kind` of a concept search or link request (checked against the graph by {@link checkConceptKind}). */
export const conceptKindParam = z
  .string()
  .min(1)
  .max(50)
  .optional()
  .describe('Concept kind: Drug, Disease, Symptom, Procedure, LabTest, …');

/** A concept kind the graph knows (Drug, Disease, …), or a 400 naming the ones it does. */
export async function checkConceptKind(
  engine: Engine,
  kind: string,
  path: (string | number)[],
): Promise<ConceptKind> {
  const kinds = Object.keys((await engine.graph.stats()).nodes);
  if (!kinds.includes(kind)) {
    throw new CdssError('CDSS_ERR_INVALID_REQUEST', `Unknown concept kind: ${kind}`, {
      issues: [{ path, message: `expected one of ${kinds.join(', ')}` }],
    });
  }
  return kind as ConceptKind;
}

function requireAdmin(request: FastifyRequest): void {
  if (!request.tenant.admin)
    throw new CdssError('CDSS_ERR_FORBIDDEN', 'This API key may not change rule settings');
}

export function knowledgeRoutes(app: ZodApp, ctx: ServiceContext): void {
  app.get(
    '/v1/concepts',
    {
      schema: {
        tags: ['knowledge'],
        summary: 'Search knowledge-graph concepts by name, synonym or code',
        security: [{ apiKey: [] }],
        querystring: z.strictObject({
          q: z.string().min(1).max(200),
          kind: conceptKindParam,
          limit: z.coerce.number().int().min(1).max(100).default(20),
        }),
        response: { 200: libraryResult('See docs/service.md'), ...errors },
      },
    },
    async (request) => {
      const engine = await ctx.engine();
      const { q, kind, limit } = request.query;
      const conceptKind = kind ? await checkConceptKind(engine, kind, ['querystring', 'kind']) : undefined;
      const concepts = await engine.searchConcepts(q, {
        ...(conceptKind ? { kind: conceptKind } : {}),
        limit,
      });
      return { concepts };
    },
  );

  /** Engine rules merged with this tenant's settings. */
  async function tenantRuleList(tenant: string) {
    const engine = await ctx.engine();
    const settings = ctx.store.tenantRules(tenant);
    return engine.rules().map((rule) => {
      const s: TenantRuleSetting | undefined = settings.get(rule.id);
      return {
        ...rule,
        enabled: rule.enabled && (s ? s.enabled : true),
        severity: s?.severity ?? rule.severity,
        defaultSeverity: rule.severity,
        tenantSetting: s ?? null,
      };
    });
  }

  app.get(
    '/v1/rules',
    {
      schema: {
        tags: ['knowledge'],
        summary: "Every rule with its version, category, references and this tenant's setting",
        security: [{ apiKey: [] }],
        querystring: z.strictObject({
          category: z.string().min(1).max(100).optional(),
          enabled: z.enum(['true', 'false']).optional(),
        }),
        response: { 200: libraryResult('See docs/service.md'), ...errors },
      },
    },
    async (request) => {
      let rules = await tenantRuleList(request.tenant.id);
      const { category, enabled } = request.query;
      if (category) rules = rules.filter((r) => r.category === category);
      if (enabled) rules = rules.filter((r) => String(r.enabled) === enabled);
      return { tenant: request.tenant.id, rules };
    },
  );

  app.get(
    '/v1/rules/:ruleId',
    {
      schema: {
        tags: ['knowledge'],
        summary: 'One rule',
        security: [{ apiKey: [] }],
        params: ruleIdParams,
        response: { 200: libraryResult('RuleInfo with the tenant setting'), ...errors },
      },
    },
    async (request) => {
      const rule = (await tenantRuleList(request.tenant.id)).find((r) => r.id === request.params.ruleId);
      if (!rule) throw new CdssError('CDSS_ERR_NOT_FOUND', `Unknown rule: ${request.params.ruleId}`);
      return rule;
    },
  );

  app.patch(
    '/v1/rules/:ruleId',
    {
      schema: {
        tags: ['knowledge'],
        summary:
          "Change this tenant's setting of a rule: enable / disable it, override its severity (null resets)",
        security: [{ apiKey: [] }],
        params: ruleIdParams,
        body: z
          .strictObject({ enabled: z.boolean().optional(), severity: severity.nullable().optional() })
          .refine((b) => b.enabled !== undefined || b.severity !== undefined, 'set enabled and/or severity'),
        response: { 200: libraryResult('See docs/service.md'), ...errors },
      },
    },
    async (request) => {
      requireAdmin(request);
      const engine = await ctx.engine();
      const { ruleId } = request.params;
      if (!engine.rules().some((r) => r.id === ruleId))
        throw new CdssError('CDSS_ERR_NOT_FOUND', `Unknown rule: ${ruleId}`);
      const setting = ctx.store.setTenantRule(request.tenant.id, ruleId, request.body);
      request.log.info(
        { ruleId, enabled: setting.enabled, severity: setting.severity ?? null },
        'tenant rule setting changed',
      );
      return (await tenantRuleList(request.tenant.id)).find((r) => r.id === ruleId);
    },
  );

  app.delete(
    '/v1/rules/:ruleId/setting',
    {
      schema: {
        tags: ['knowledge'],
        summary: "Drop this tenant's setting of a rule (back to the default)",
        security: [{ apiKey: [] }],
        params: ruleIdParams,
        response: { 200: libraryResult('See docs/service.md'), ...errors },
      },
    },
    async (request) => {
      requireAdmin(request);
      const removed = ctx.store.clearTenantRule(request.tenant.id, request.params.ruleId);
      if (!removed) throw new CdssError('CDSS_ERR_NOT_FOUND', `No setting for rule ${request.params.ruleId}`);
      return { removed: true };
    },
  );

  app.get(
    '/v1/audit/alerts',
    {
      schema: {
        tags: ['knowledge'],
        summary: 'Audit log: the latest alerts and cards shown to this tenant',
        security: [{ apiKey: [] }],
        querystring: z.strictObject({ limit: z.coerce.number().int().min(1).max(1000).default(100) }),
        response: { 200: libraryResult('See docs/service.md'), ...errors },
      },
    },
    async (request) => ({ entries: ctx.store.audit(request.tenant.id, request.query.limit) }),
  );

  app.get(
    '/v1/audit/feedback',
    {
      schema: {
        tags: ['knowledge'],
        summary: 'CDS Hooks feedback (accepted / overridden with reason) received for this tenant',
        security: [{ apiKey: [] }],
        querystring: z.strictObject({ ruleId: z.string().min(1).max(200).optional() }),
        response: { 200: libraryResult('See docs/service.md'), ...errors },
      },
    },
    async (request) => {
      const entries = ctx.store.feedback(
        request.tenant.id,
        request.query.ruleId ? { ruleId: request.query.ruleId } : {},
      );
      const overridden = entries.filter((e) => e.outcome === 'overridden').length;
      return { entries, overrideRate: entries.length ? overridden / entries.length : null };
    },
  );
}
