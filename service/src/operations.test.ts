import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { YijianApp } from './app.js';
import { configFromEnv, parseConfig } from './config.js';
import { sampleText, testApp } from './fixtures.test-helpers.js';

let app: YijianApp;
beforeAll(async () => {
  app = await testApp();
});
afterAll(async () => {
  await app?.close();
});

describe('config', () => {
  it('has defaults and reads the environment', () => {
    const defaults = configFromEnv({});
    expect(defaults).toMatchObject({
      port: 8080,
      host: '127.0.0.1',
      bodyLimit: 10 * 1024 * 1024,
      corsOrigins: [],
    });
    const c = configFromEnv({
      PORT: '9090',
      HOST: '0.0.0.0',
      CORS_ORIGINS: 'https://a.test, https://b.test',
      ALLOW_ANONYMOUS: 'true',
    });
    expect(c).toMatchObject({
      port: 9090,
      host: '0.0.0.0',
      corsOrigins: ['https://a.test', 'https://b.test'],
      allowAnonymous: true,
    });
  });

  it('fails at start on a bad value, naming the variable', () => {
    expect(() => configFromEnv({ PORT: 'eighty' })).toThrow(/PORT/);
    expect(() => configFromEnv({ LOG_LEVEL: 'loud' })).toThrow(/LOG_LEVEL/);
    expect(() => parseConfig({ bodyLimit: 1 } as never)).toThrow(/bodyLimit/);
  });

  it('refuses to serve off loopback without API keys unless told to', async () => {
    await expect(testApp({ host: '0.0.0.0' })).rejects.toThrow(/API_KEYS_FILE/);
  });
});

describe('metrics and audit', () => {
  it('exposes per-route latency histograms and alert counts', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/v1/analyze',
      headers: { 'content-type': 'application/json' },
      payload: sampleText('cardiology-01'),
    });
    expect(res.statusCode).toBe(200);
    await app.inject({
      method: 'POST',
      url: '/v1/analyze',
      headers: { 'content-type': 'application/json' },
      payload: '{',
    });
    const metrics = await app.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.statusCode).toBe(200);
    expect(metrics.headers['content-type']).toMatch(/text\/plain/);
    expect(metrics.body).toMatch(
      /yijian_http_request_duration_seconds_bucket\{[^}]*route="\/v1\/analyze"[^}]*status_code="200"/,
    );
    expect(metrics.body).toMatch(
      /yijian_alerts_total\{[^}]*severity="critical"[^}]*channel="rest"[^}]*\} [1-9]/,
    );
    expect(metrics.body).toMatch(/yijian_requests_refused_total\{[^}]*code="CDSS_ERR_INVALID_JSON"/);
  });

  it('writes every alert returned to the audit log', async () => {
    const entries = app.yijian.store.audit('default', 100);
    expect(
      entries.some((e) => e.channel === 'rest' && e.endpoint === '/v1/analyze' && e.severity === 'critical'),
    ).toBe(true);
    const res = await app.inject({ method: 'GET', url: '/v1/audit/alerts?limit=5' });
    expect(res.statusCode).toBe(200);
    expect(res.json().entries.length).toBeGreaterThan(0);
    expect(JSON.stringify(res.json())).not.toContain('王某某');
  });
});

describe('other endpoints', () => {
  const post = (url: string, payload: object | string) =>
    app.inject({
      method: 'POST',
      url,
      headers: { 'content-type': 'application/json' },
      payload: typeof payload === 'string' ? payload : JSON.stringify(payload),
    });

  it('NER marks negated findings', async () => {
    const res = await post('/v1/ner', { text: '患者否认高血压病史，有糖尿病史10年。' });
    expect(res.statusCode).toBe(200);
    const body = res.json() as { mentions: { text: string; assertion: { status: string } }[] };
    expect(body.mentions.length).toBeGreaterThan(0);
    expect(body.mentions.find((m) => m.text.includes('高血压'))?.assertion.status).toBe('negated');
  });

  it('links a drug name', async () => {
    const res = await post('/v1/link', { text: '华法林钠片' });
    expect(res.statusCode).toBe(200);
    expect(JSON.stringify(res.json())).toContain('华法林');
  });

  it('quick medication check finds the interaction', async () => {
    const res = await post('/v1/medications/check', {
      drugs: ['华法林钠片 2.5mg 口服 qd', '阿司匹林肠溶片 100mg 口服 qd'],
    });
    expect(res.statusCode).toBe(200);
    expect(res.json().alerts.some((a: { severity: string }) => a.severity === 'critical')).toBe(true);
    const empty = await post('/v1/medications/check', { drugs: [] });
    expect(empty.statusCode).toBe(400);
  });

  it('quick medication check: concerning keeps the alerts about the orders being placed', async () => {
    const drugs = [
      '华法林钠片 2.5mg 口服 qd',
      '阿司匹林肠溶片 100mg 口服 qd',
      '辛伐他汀片 20mg 口服 qn',
      '克拉霉素片 500mg 口服 bid',
    ];
    type Alerts = { alerts: { evidence: { ref?: string }[] }[] };
    const all = (await post('/v1/medications/check', { drugs })).json() as Alerts;
    const focused = await post('/v1/medications/check', { drugs, concerning: [3] });
    expect(focused.statusCode).toBe(200);
    const cites3 = (a: Alerts['alerts'][number]) => a.evidence.some((e) => e.ref === 'input.drugs[3]');
    expect((focused.json() as Alerts).alerts).toEqual(all.alerts.filter(cites3));
    expect((focused.json() as Alerts).alerts.length).toBeGreaterThan(0);
    expect(all.alerts.some((a) => !cites3(a))).toBe(true);
    for (const concerning of [[4], [-1], [0.5], 'x']) {
      const bad = await post('/v1/medications/check', { drugs, concerning });
      expect(bad.statusCode, JSON.stringify(concerning)).toBe(400);
      expect(bad.json().error.code).toMatch(/^CDSS_ERR_/);
    }
  });

  it('QC of the front page and of the whole record', async () => {
    const front = await post('/v1/qc/front-page', sampleText('gastroenterology-01'));
    expect(front.statusCode).toBe(200);
    expect(front.json().findings.length).toBeGreaterThan(0);
    const full = await post('/v1/qc/record', sampleText('gastroenterology-01'));
    expect(full.statusCode).toBe(200);
    expect(full.json().findings.length).toBeGreaterThanOrEqual(front.json().findings.length);
  });

  it('concept search and rule listing', async () => {
    const res = await app.inject({
      method: 'GET',
      url: `/v1/concepts?q=${encodeURIComponent('华法林')}&limit=5`,
    });
    expect(res.statusCode).toBe(200);
    expect(res.json().concepts.length).toBeGreaterThan(0);
    const rules = await app.inject({ method: 'GET', url: '/v1/rules' });
    expect(rules.statusCode).toBe(200);
    const list = rules.json().rules as { id: string; version: string; enabled: boolean }[];
    expect(list.length).toBeGreaterThan(5);
    expect(list.every((r) => r.id && r.version)).toBe(true);
    const one = await app.inject({ method: 'GET', url: `/v1/rules/${encodeURIComponent(list[0]!.id)}` });
    expect(one.json().id).toBe(list[0]!.id);
    expect((await app.inject({ method: 'GET', url: '/v1/concepts?limit=5' })).statusCode).toBe(400);
  });
});

describe('graceful shutdown', () => {
  it('drains the request in flight, then refuses new connections', async () => {
    const own = await testApp();
    await own.listen({ port: 0, host: '127.0.0.1' });
    const { port } = own.server.address() as { port: number };
    const payload = sampleText('cardiology-01');
    // Resolves once the server has taken the request's headers (fastify routes it in the same tick).
    const arrived = new Promise<void>((resolve) => own.server.once('request', () => resolve()));
    const inFlight = new Promise<number>((resolve, reject) => {
      const req = httpRequest(
        {
          host: '127.0.0.1',
          port,
          method: 'POST',
          path: '/v1/analyze',
          headers: { 'content-type': 'application/json' },
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        },
      );
      req.on('error', reject);
      // Headers and part of the body now; the rest only after close() has begun.
      req.flushHeaders();
      req.write(payload.slice(0, 100));
      void arrived.then(() => setTimeout(() => req.end(payload.slice(100)), 100));
    });
    await arrived;
    const closing = own.close();
    expect(await inFlight).toBe(200);
    await closing;
    await expect(fetch(`http://127.0.0.1:${port}/health`)).rejects.toThrow();
  });
});
