import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { YijianApp } from './app.js';
import type { Alert } from './context.js';
import { sample, sampleText, testApp } from './fixtures.test-helpers.js';

let app: YijianApp;

beforeAll(async () => {
  app = await testApp({ docs: true });
});
afterAll(async () => {
  await app?.close();
});

function post(url: string, payload: string | object, contentType = 'application/json') {
  return app.inject({
    method: 'POST',
    url,
    headers: { 'content-type': contentType },
    payload: typeof payload === 'string' ? payload : JSON.stringify(payload),
  });
}

describe('GET /health and /ready', () => {
  it('answers ok with the version', async () => {
    const res = await app.inject({ method: 'GET', url: '/health' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ status: 'ok', version: expect.any(String) });
    expect(res.headers['x-request-id']).toEqual(expect.any(String));
  });

  it('is ready once the engine is loaded', async () => {
    const res = await app.inject({ method: 'GET', url: '/ready' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ready' });
  });

  it('echoes a well-formed x-request-id and replaces a hostile one', async () => {
    const ok = await app.inject({ method: 'GET', url: '/health', headers: { 'x-request-id': 'emr-42.a' } });
    expect(ok.headers['x-request-id']).toBe('emr-42.a');
    const bad = await app.inject({
      method: 'GET',
      url: '/health',
      headers: { 'x-request-id': 'a b\u0000<script>' },
    });
    expect(bad.headers['x-request-id']).not.toContain('<');
  });
});

describe('POST /v1/analyze', () => {
  it('reports the warfarin + aspirin interaction with order evidence and the graph path', async () => {
    const res = await post('/v1/analyze', sampleText('cardiology-01'));
    expect(res.statusCode).toBe(200);
    const body = res.json() as { alerts: Alert[] };
    const ddi = body.alerts.filter((a) => a.summary.includes('华法林') && a.summary.includes('阿司匹林'));
    expect(ddi).toHaveLength(1);
    const alert = ddi[0]!;
    expect(alert.severity).toBe('critical');
    const refs = alert.evidence.map((e) => e.ref);
    expect(refs).toEqual(expect.arrayContaining(['med-1', 'med-3']));
    const graph = alert.evidence.find((e) => e.kind === 'graph');
    expect(graph?.path?.length).toBeGreaterThan(0);
    expect(alert.ruleId).toEqual(expect.any(String));
    expect(alert.ruleVersion).toEqual(expect.any(String));
  });

  it('raises no alert on the clean sample', async () => {
    const res = await post('/v1/analyze', sampleText('obstetrics-01'));
    expect(res.statusCode).toBe(200);
    expect((res.json() as { alerts: Alert[] }).alerts).toEqual([]);
  });

  it('gives the same alerts as the engine called directly (the CLI path)', async () => {
    const engine = await app.yijian.engine();
    const direct = await engine.analyze(sample('cardiology-01'));
    const res = await post('/v1/analyze', sampleText('cardiology-01'));
    expect((res.json() as { alerts: Alert[] }).alerts.map((a) => a.id)).toEqual(
      direct.alerts.map((a) => a.id),
    );
  });

  it('accepts application/fhir+json', async () => {
    const res = await post('/v1/analyze', '{"resourceType":"Bundle","entry":[]}', 'application/fhir+json');
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toMatch(/^CDSS_ERR_INVALID_(FHIR|RECORD)$/);
  });
});

describe('bad input gets a coded 4xx, never a 500', () => {
  it('malformed JSON -> 400 CDSS_ERR_INVALID_JSON without echoing the body', async () => {
    const res = await post('/v1/analyze', '{"patient": {"name": "张三丰", ');
    expect(res.statusCode).toBe(400);
    const body = res.json();
    expect(body.error.code).toBe('CDSS_ERR_INVALID_JSON');
    expect(body.error.issues).toEqual([]);
    expect(res.body).not.toContain('张三丰');
  });

  it('empty JSON body -> 400 CDSS_ERR_INVALID_JSON', async () => {
    const res = await post('/v1/analyze', '');
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('CDSS_ERR_INVALID_JSON');
  });

  it('wrong types -> 400 CDSS_ERR_INVALID_RECORD naming every bad field', async () => {
    const record = sample('cardiology-01') as {
      patient: Record<string, unknown>;
      medications: Record<string, unknown>[];
    };
    record.patient.birthDate = 19560814;
    record.medications[0]!.dose = 'two';
    const res = await post('/v1/analyze', record);
    expect(res.statusCode).toBe(400);
    const body = res.json();
    expect(body.error.code).toBe('CDSS_ERR_INVALID_RECORD');
    const paths = body.error.issues.map((i: { path: unknown[] }) => i.path.join('.'));
    expect(paths).toEqual(expect.arrayContaining(['patient.birthDate', 'medications.0.dose']));
  });

  it('a body that is not an object -> 400 CDSS_ERR_INVALID_REQUEST', async () => {
    for (const payload of ['[1,2,3]', '"text"', '42', 'null']) {
      const res = await post('/v1/analyze', payload);
      expect(res.statusCode).toBe(400);
      expect(res.json().error.code).toMatch(/^CDSS_ERR_INVALID_(REQUEST|JSON)$/);
    }
  });

  it('unknown document type -> 400 with the path of the type', async () => {
    const record = sample('cardiology-01') as { documents: Record<string, unknown>[] };
    record.documents[1]!.type = '随便什么记录';
    const res = await post('/v1/analyze', record);
    expect(res.statusCode).toBe(400);
    const body = res.json();
    expect(body.error.code).toBe('CDSS_ERR_INVALID_RECORD');
    expect(body.error.issues.some((i: { path: unknown[] }) => i.path.join('.') === 'documents.1.type')).toBe(
      true,
    );
  });

  it('a 50 MB body -> 413 CDSS_ERR_BODY_TOO_LARGE, and the service still answers', async () => {
    const big = `{"text":"${'x'.repeat(50 * 1024 * 1024)}"}`;
    const res = await post('/v1/analyze', big);
    expect(res.statusCode).toBe(413);
    expect(res.json().error.code).toBe('CDSS_ERR_BODY_TOO_LARGE');
    const again = await app.inject({ method: 'GET', url: '/health' });
    expect(again.statusCode).toBe(200);
  });

  it('a wrong content type -> 415 CDSS_ERR_UNSUPPORTED_MEDIA_TYPE', async () => {
    const res = await post('/v1/analyze', sampleText('cardiology-01'), 'text/plain');
    expect(res.statusCode).toBe(415);
    expect(res.json().error.code).toBe('CDSS_ERR_UNSUPPORTED_MEDIA_TYPE');
    const xml = await post('/v1/analyze', '<record/>', 'application/xml');
    expect(xml.statusCode).toBe(415);
  });

  it('prototype pollution keys are refused', async () => {
    const res = await post('/v1/analyze', '{"__proto__": {"polluted": true}, "id": "x"}');
    expect(res.statusCode).toBe(400);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('an unknown route -> 404 CDSS_ERR_NOT_FOUND', async () => {
    const res = await app.inject({ method: 'GET', url: '/v1/nothing?name=张三' });
    expect(res.statusCode).toBe(404);
    expect(res.json().error.code).toBe('CDSS_ERR_NOT_FOUND');
  });

  it('an unknown query parameter -> 400', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/v1/analyze?foo=1',
      headers: { 'content-type': 'application/json' },
      payload: sampleText('obstetrics-01'),
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('CDSS_ERR_INVALID_REQUEST');
  });
});

describe('OpenAPI at /docs', () => {
  it('serves the OpenAPI document generated from the zod schemas', async () => {
    const res = await app.inject({ method: 'GET', url: '/docs/json' });
    expect(res.statusCode).toBe(200);
    const doc = res.json();
    expect(doc.openapi).toMatch(/^3\./);
    for (const path of [
      '/health',
      '/v1/analyze',
      '/v1/ner',
      '/v1/medications/check',
      '/cds-services/{id}',
      '/v1/adverse-events',
      '/v1/adverse-events/outbox',
    ]) {
      expect(Object.keys(doc.paths)).toContain(path);
    }
    expect(doc.components.schemas.PatientRecord).toBeDefined();
    expect(
      doc.paths['/v1/medications/check'].post.requestBody.content['application/json'].schema.properties.drugs,
    ).toBeDefined();
  });

  it('serves swagger-ui from the package (no CDN)', async () => {
    const page = await app.inject({ method: 'GET', url: '/docs/' });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('swagger-ui');
    expect(page.body).not.toMatch(/https?:\/\/(cdn|unpkg|cdnjs)/);
    const js = await app.inject({ method: 'GET', url: '/docs/static/swagger-ui-bundle.js' });
    expect(js.statusCode).toBe(200);
  });
});
