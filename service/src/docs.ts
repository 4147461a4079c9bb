import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import { recordSchema } from '@yijian/emr';
import type { FastifyInstance } from 'fastify';
import { jsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod';
import { VERSION } from 'yijian';
import { z } from 'zod';

/**
 * OpenAPI 3 document generated from the routes' zod schemas, served with swagger-ui at /docs.
 * The UI's assets come from the @fastify/swagger-ui package itself (no CDN), so /docs works offline.
 */
export async function registerDocs(app: FastifyInstance, serverUrl: string): Promise<void> {
  let patientRecord: unknown = {};
  try {
    patientRecord = z.toJSONSchema(recordSchema, { io: 'input', unrepresentable: 'any' });
  } catch {
    patientRecord = { type: 'object', description: 'See @yijian/emr recordSchema' };
  }
  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Yijian (医鉴) REST API',
        description:
          'Chinese clinical decision support and EMR quality control: analyze records, NER, entity linking, medication checks, QC, concept search, rules, and CDS Hooks 2.0.',
        version: VERSION,
      },
      servers: [{ url: serverUrl }],
      components: {
        // biome-ignore lint/suspicious/noExplicitAny: JSON Schema object for the docs only
        schemas: { PatientRecord: patientRecord as any },
        securitySchemes: {
          apiKey: { type: 'apiKey', in: 'header', name: 'x-api-key' },
          cdsHooksJwt: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
        },
      },
      tags: [
        { name: 'operations', description: 'Health, readiness, metrics' },
        { name: 'analysis', description: 'Records, text, medications, QC' },
        { name: 'knowledge', description: 'Concepts and rules' },
        { name: 'cds-hooks', description: 'HL7 CDS Hooks 2.0' },
        {
          name: 'adverse-events',
          description: 'Manual reports, the DingTalk outbox and its dead letters, the DingTalk callback',
        },
      ],
    },
    transform: jsonSchemaTransform,
    transformObject: jsonSchemaTransformObject,
  });
  await app.register(fastifySwaggerUi, {
    routePrefix: '/docs',
    staticCSP: true,
    // Plain-HTTP intranets: no forced upgrade to https; no calls to the online validator.
    transformStaticCSP: (header) =>
      header.replace(/\s*upgrade-insecure-requests;?/, '').replace(/\s*validator\.swagger\.io/, ''),
    uiConfig: { docExpansion: 'list', deepLinking: false, validatorUrl: null },
  });
}
