import { draftReplyMessage, parseOutgoingMessage, verifyOutgoingRobotRequest } from '@yijian/dingtalk';
import { CdssError } from '@yijian/emr';
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { FileReportInput, FileReportResult } from '../adverse-events.js';
import type { ServiceContext, ZodApp } from '../context.js';
import { errorBodySchema } from '../errors.js';
import { ingestManualReport } from '../review.js';

/**
 * Adverse events over HTTP: manual reports (`POST /v1/adverse-events`), the stored reports, the
 * outbox's jobs and dead letters (list, requeue), and the DingTalk outgoing-robot callback through
 * which physicians report an event from a DingTalk group.
 */

const errors = {
  400: errorBodySchema,
  401: errorBodySchema,
  403: errorBodySchema,
  404: errorBodySchema,
  413: errorBodySchema,
  415: errorBodySchema,
  429: errorBodySchema,
};

const reportBody = z.strictObject({
  text: z.string().min(1).max(20_000).describe('The report in free text (zh): what happened, when, where'),
  recordId: z.string().min(1).max(200).optional().describe('The record the event concerns, when known'),
  department: z.string().min(1).max(100).optional(),
  reporter: z.string().min(1).max(100).optional().describe('Staff id or name of the reporter'),
});

const loose = z.looseObject({});

function requireAdmin(request: FastifyRequest): void {
  if (!request.tenant.admin)
    throw new CdssError('CDSS_ERR_FORBIDDEN', 'This API key may not manage the adverse-event outbox');
}

function reportAnswer(r: FileReportResult) {
  return {
    report: r.report,
    created: r.created,
    filed: r.event !== null,
    event: r.event,
    jobs: r.jobs,
  };
}

export function adverseEventRoutes(app: ZodApp, ctx: ServiceContext): void {
  const ae = ctx.adverseEvents;

  /** File a report; a new, complete one is counted and put into the review queue. */
  const fileReport = (request: FastifyRequest, input: FileReportInput): FileReportResult => {
    const result = ae.fileReport(input);
    if (!result.created) return result;
    ctx.metrics.adverseEvents.inc({ origin: 'manual', category: result.event?.category ?? 'unknown' });
    if (result.event && ctx.config.reviewIngest) {
      try {
        ingestManualReport(ctx.reviewStore, result.report, result.event);
      } catch (error) {
        // The report is stored and enqueued; only its review-queue entry is missing.
        request.log.error(
          { err: { type: (error as Error).name }, report: result.report.id },
          'review ingest failed',
        );
      }
    }
    return result;
  };

  app.post(
    '/v1/adverse-events',
    {
      schema: {
        tags: ['adverse-events'],
        summary:
          'Manual adverse-event report: free text -> structured draft (category, grade, details, missing fields); a complete draft is filed and sent to the DingTalk robots',
        security: [{ apiKey: [] }],
        body: reportBody,
        response: {
          201: loose.describe(
            '{ report: { id, draft, eventId, … }, filed, event, jobs: [{ robot, key }] }; filed is false when the category or grade could not be read (see draft.missing)',
          ),
          ...errors,
        },
      },
    },
    async (request, reply) => {
      const { text, recordId, department, reporter } = request.body;
      const result = fileReport(request, {
        text,
        channel: 'rest',
        tenant: request.tenant.id,
        reporter,
        recordId,
        department,
      });
      return reply.code(201).send(reportAnswer(result));
    },
  );

  app.get(
    '/v1/adverse-events/reports',
    {
      schema: {
        tags: ['adverse-events'],
        summary: "This tenant's manual reports, newest first",
        security: [{ apiKey: [] }],
        querystring: z.strictObject({ limit: z.coerce.number().int().min(1).max(500).default(50) }),
        response: { 200: loose, ...errors },
      },
    },
    async (request) => ({
      reports: ae.reports({ tenant: request.tenant.id, limit: request.query.limit }),
    }),
  );

  app.get(
    '/v1/adverse-events/reports/:id',
    {
      schema: {
        tags: ['adverse-events'],
        summary: 'One manual report with its draft',
        security: [{ apiKey: [] }],
        params: z.strictObject({ id: z.string().min(1).max(100) }),
        response: { 200: loose, ...errors },
      },
    },
    async (request) => {
      const report = ae.report(request.params.id);
      if (!report || report.tenant !== request.tenant.id)
        throw new CdssError('CDSS_ERR_NOT_FOUND', `No adverse-event report ${request.params.id}`);
      return { report, event: report.eventId ? (ae.outbox.event(report.eventId) ?? null) : null };
    },
  );

  app.get(
    '/v1/adverse-events/outbox',
    {
      schema: {
        tags: ['adverse-events'],
        summary: 'Outbox counts and delivery jobs (status=dead lists the dead letters); needs an admin key',
        security: [{ apiKey: [] }],
        querystring: z.strictObject({
          status: z.enum(['pending', 'sending', 'delivered', 'dead']).optional(),
          robot: z.string().min(1).max(64).optional(),
          limit: z.coerce.number().int().min(1).max(1000).default(100),
        }),
        response: { 200: loose, ...errors },
      },
    },
    async (request) => {
      requireAdmin(request);
      const { status, robot, limit } = request.query;
      return {
        robots: ae.robots,
        counts: ae.outbox.counts(),
        jobs: ae.jobs({ ...(status ? { status } : {}), ...(robot ? { robot } : {}), limit }),
      };
    },
  );

  app.post(
    '/v1/adverse-events/outbox/requeue',
    {
      schema: {
        tags: ['adverse-events'],
        summary:
          'Put dead-lettered jobs back in the queue (all, or the one with this key), e.g. after fixing the robot token; needs an admin key',
        security: [{ apiKey: [] }],
        body: z.strictObject({ key: z.string().min(1).max(300).optional() }).default({}),
        response: { 200: z.object({ requeued: z.number().int() }), ...errors },
      },
    },
    async (request) => {
      requireAdmin(request);
      const key = request.body?.key;
      if (key && ae.outbox.job(key)?.status !== 'dead')
        throw new CdssError('CDSS_ERR_NOT_FOUND', `No dead-lettered job ${key}`);
      const requeued = ae.requeueDead(key);
      request.log.info({ requeued, key }, 'outbox requeue');
      return { requeued };
    },
  );

  // DingTalk outgoing robot: signed by DingTalk (timestamp + sign headers), not by an API key.
  const appSecret = ctx.config.dingtalkAppSecret;
  if (!appSecret) return;
  app.post(
    '/dingtalk/callback',
    {
      schema: {
        tags: ['adverse-events'],
        summary:
          'DingTalk outgoing-robot callback: a message that @-mentions the robot is parsed as an adverse-event report; the answer is the draft as a markdown message',
        headers: z.looseObject({
          timestamp: z.string().max(20).optional(),
          sign: z.string().max(200).optional(),
        }),
        body: loose,
        response: { 200: loose, ...errors },
      },
    },
    async (request) => {
      verifyOutgoingRobotRequest({ headers: request.headers, appSecret });
      const message = parseOutgoingMessage(request.body);
      if (!message.text)
        throw new CdssError('CDSS_ERR_INVALID_REQUEST', 'The DingTalk message has no report text', {
          issues: [{ path: ['body', 'text', 'content'], message: 'empty after the @mention' }],
        });
      const result = fileReport(request, {
        text: message.text,
        channel: 'dingtalk',
        tenant: request.tenant.id,
        reporter: message.senderStaffId ?? message.senderNick,
        dedupeKey: message.msgId,
      });
      return draftReplyMessage(result.report.draft);
    },
  );
}
