import { VERSION } from 'yijian';
import { z } from 'zod';
import type { ServiceContext, ZodApp } from '../context.js';
import { errorBody, errorBodySchema } from '../errors.js';

const startedAt = Date.now();

/** GET /health (process is up), GET /ready (engine loaded, not draining), GET /metrics (Prometheus). */
export function operationsRoutes(zapp: ZodApp, ctx: ServiceContext): void {
  zapp.get(
    '/health',
    {
      schema: {
        tags: ['operations'],
        summary: 'Liveness: the process answers',
        response: {
          200: z.object({ status: z.literal('ok'), version: z.string(), uptimeSeconds: z.number() }),
        },
      },
    },
    async () => ({
      status: 'ok' as const,
      version: VERSION,
      uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
    }),
  );

  zapp.get(
    '/ready',
    {
      schema: {
        tags: ['operations'],
        summary: 'Readiness: the engine is loaded and the service is not shutting down',
        response: { 200: z.object({ status: z.literal('ready') }), 503: errorBodySchema },
      },
    },
    async (request, reply) => {
      if (ctx.isReady()) return { status: 'ready' as const };
      return reply
        .code(503)
        .header('retry-after', '1')
        .send(errorBody('CDSS_ERR_NOT_READY', '服务正在启动或关闭，请稍后重试', [], request.id));
    },
  );

  zapp.get(
    '/metrics',
    { schema: { tags: ['operations'], summary: 'Prometheus metrics (latency per route, alert counts)' } },
    async (_request, reply) => {
      const text = await ctx.metrics.text();
      return reply.type(ctx.metrics.registry.contentType).send(text);
    },
  );
}
