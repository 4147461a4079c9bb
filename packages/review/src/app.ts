import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { type ReviewPluginOptions, reviewPlugin } from './plugin.js';

/**
 * A standalone fastify app serving only the review page and its API (for a quality department that
 * reviews `yijian qc batch` output without running the whole service). The service registers
 * {@link reviewPlugin} into its own app instead.
 */
export async function createReviewApp(
  options: ReviewPluginOptions & { server?: FastifyServerOptions } = {},
): Promise<FastifyInstance> {
  const { server, ...pluginOptions } = options;
  const app = Fastify({ bodyLimit: 64 * 1024 * 1024, ...server });
  await app.register(reviewPlugin, pluginOptions);
  return app;
}
