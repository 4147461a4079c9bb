import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { YijianApp } from './app.js';
import type { Alert } from './context.js';
import { LogCapture, sample, sampleText, testApp } from './fixtures.test-helpers.js';
import { scrubLogLine } from './logging.js';
import { generateApiKey } from './tenants.js';

let dir: string;
let app: YijianApp;
const logs = new LogCapture();
const keyA = generateApiKey('hospital-a');
const keyB = generateApiKey('hospital-b');
const keyViewer = generateApiKey('viewer');

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'yijian-sec-'));
  const file = join(dir, 'keys.json');
  writeFileSync(
    file,
    JSON.stringify({
      tenants: [
        { id: 'hospital-a', keys: [keyA.hash] },
        { id: 'hospital-b', keys: [keyB.hash] },
        { id: 'viewer', keys: [keyViewer.hash], admin: false },
      ],
    }),
  );
  app = await testApp(
    { apiKeysFile: file, logLevel: 'info', corsOrigins: ['https://emr.hospital.test'], rateLimitMax: 0 },
    { logStream: logs },
  );
});
afterAll(async () => {
  await app?.close();
  rmSync(dir, { recursive: true, force: true });
});

const analyze = (key: string | undefined, payload = sampleText('cardiology-01')) =>
  app.inject({
    method: 'POST',
    url: '/v1/analyze',
    headers: { 'content-type': 'application/json', ...(key ? { 'x-api-key': key } : {}) },
    payload,
  });

describe('API keys', () => {
  it('refuses calls without a key or with an unknown key', async () => {
    const none = await analyze(undefined);
    expect(none.statusCode).toBe(401);
    expect(none.json().error.code).toBe('CDSS_ERR_UNAUTHORIZED');
    const wrong = await analyze('yj_hospital-a_not-the-right-key-at-all');
    expect(wrong.statusCode).toBe(401);
  });

  it('accepts the key in x-api-key or as a bearer token', async () => {
    expect((await analyze(keyA.key)).statusCode).toBe(200);
    const bearer = await app.inject({
      method: 'POST',
      url: '/v1/medications/check',
      headers: { authorization: `Bearer ${keyB.key}`, 'content-type': 'application/json' },
      payload: { drugs: ['华法林钠片 2.5mg po qd', '阿司匹林肠溶片 100mg po qd'] },
    });
    expect(bearer.statusCode).toBe(200);
    expect((bearer.json() as { alerts: Alert[] }).alerts.length).toBeGreaterThan(0);
  });

  it('no spelling of a path gets around the key check', async () => {
    for (const url of [
      '/%76%31/analyze',
      '/v1/%61nalyze',
      '/v1//analyze',
      '/./v1/analyze',
      '/v1/analyze/',
      '/V1/analyze',
      '/v1/analyze?x-api-key=1',
    ]) {
      const res = await app.inject({
        method: 'POST',
        url,
        headers: { 'content-type': 'application/json' },
        payload: sampleText('cardiology-01'),
      });
      expect([400, 401, 404]).toContain(res.statusCode);
    }
  });

  it('keeps /health open', async () => {
    expect((await app.inject({ method: 'GET', url: '/health' })).statusCode).toBe(200);
  });
});

describe('per-tenant rule settings', () => {
  it('disabling a rule for one tenant hides its alerts for that tenant only', async () => {
    const before = (await analyze(keyA.key)).json() as { alerts: Alert[] };
    const ddi = before.alerts.find((a) => a.summary.includes('华法林') && a.summary.includes('阿司匹林'))!;
    expect(ddi).toBeDefined();

    const patch = await app.inject({
      method: 'PATCH',
      url: `/v1/rules/${encodeURIComponent(ddi.ruleId)}`,
      headers: { 'x-api-key': keyA.key, 'content-type': 'application/json' },
      payload: { enabled: false },
    });
    expect(patch.statusCode).toBe(200);
    expect(patch.json()).toMatchObject({ id: ddi.ruleId, enabled: false });

    const afterA = (await analyze(keyA.key)).json() as { alerts: Alert[] };
    expect(afterA.alerts.some((a) => a.ruleId === ddi.ruleId)).toBe(false);
    const afterB = (await analyze(keyB.key)).json() as { alerts: Alert[] };
    expect(afterB.alerts.some((a) => a.ruleId === ddi.ruleId)).toBe(true);

    const list = await app.inject({
      method: 'GET',
      url: '/v1/rules?enabled=false',
      headers: { 'x-api-key': keyA.key },
    });
    expect(list.json().rules.map((r: { id: string }) => r.id)).toContain(ddi.ruleId);

    const reset = await app.inject({
      method: 'DELETE',
      url: `/v1/rules/${encodeURIComponent(ddi.ruleId)}/setting`,
      headers: { 'x-api-key': keyA.key },
    });
    expect(reset.statusCode).toBe(200);
    const again = (await analyze(keyA.key)).json() as { alerts: Alert[] };
    expect(again.alerts.some((a) => a.ruleId === ddi.ruleId)).toBe(true);
  });

  it('a severity override changes the alert severity', async () => {
    const before = (await analyze(keyB.key)).json() as { alerts: Alert[] };
    const ddi = before.alerts.find((a) => a.summary.includes('华法林') && a.summary.includes('阿司匹林'))!;
    const patch = await app.inject({
      method: 'PATCH',
      url: `/v1/rules/${encodeURIComponent(ddi.ruleId)}`,
      headers: { 'x-api-key': keyB.key, 'content-type': 'application/json' },
      payload: { severity: 'warning' },
    });
    expect(patch.statusCode).toBe(200);
    const after = (await analyze(keyB.key)).json() as { alerts: Alert[] };
    expect(after.alerts.find((a) => a.ruleId === ddi.ruleId)?.severity).toBe('warning');
  });

  it('refuses unknown rules, bad bodies, and keys without admin rights', async () => {
    const unknown = await app.inject({
      method: 'PATCH',
      url: '/v1/rules/no-such-rule',
      headers: { 'x-api-key': keyA.key, 'content-type': 'application/json' },
      payload: { enabled: false },
    });
    expect(unknown.statusCode).toBe(404);
    const bad = await app.inject({
      method: 'PATCH',
      url: '/v1/rules/no-such-rule',
      headers: { 'x-api-key': keyA.key, 'content-type': 'application/json' },
      payload: { severity: 'fatal' },
    });
    expect(bad.statusCode).toBe(400);
    const viewer = await app.inject({
      method: 'PATCH',
      url: '/v1/rules/no-such-rule',
      headers: { 'x-api-key': keyViewer.key, 'content-type': 'application/json' },
      payload: { enabled: false },
    });
    expect(viewer.statusCode).toBe(403);
  });
});

describe('CORS and security headers', () => {
  it('sends security headers', async () => {
    const res = await app.inject({ method: 'GET', url: '/health' });
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['x-frame-options']).toBeDefined();
    expect(res.headers['strict-transport-security']).toBeDefined();
    expect(res.headers['content-security-policy']).toBeDefined();
    // Refusals carry them too.
    for (const url of ['/no-such-route', '/v1/rules']) {
      const refused = await app.inject({ method: 'GET', url });
      expect(refused.statusCode).toBeGreaterThanOrEqual(400);
      expect(refused.headers['x-content-type-options']).toBe('nosniff');
      expect(refused.headers['content-security-policy']).toBeDefined();
    }
  });

  it('allows only the configured origin', async () => {
    const ok = await app.inject({
      method: 'OPTIONS',
      url: '/v1/analyze',
      headers: { origin: 'https://emr.hospital.test', 'access-control-request-method': 'POST' },
    });
    expect(ok.headers['access-control-allow-origin']).toBe('https://emr.hospital.test');
    const other = await app.inject({
      method: 'OPTIONS',
      url: '/v1/analyze',
      headers: { origin: 'https://evil.test', 'access-control-request-method': 'POST' },
    });
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('CORS is closed by default', async () => {
    const closed = await testApp({});
    try {
      const res = await closed.inject({
        method: 'OPTIONS',
        url: '/v1/analyze',
        headers: { origin: 'https://emr.hospital.test', 'access-control-request-method': 'POST' },
      });
      expect(res.headers['access-control-allow-origin']).toBeUndefined();
    } finally {
      await closed.close();
    }
  });
});

describe('rate limits', () => {
  it('answers 429 with a coded error past the limit, per key', async () => {
    const limited = await testApp({ rateLimitMax: 3, rateLimitWindowMs: 60_000 });
    try {
      const codes: number[] = [];
      for (let i = 0; i < 5; i++)
        codes.push((await limited.inject({ method: 'GET', url: '/v1/rules' })).statusCode);
      expect(codes.slice(0, 3)).toEqual([200, 200, 200]);
      expect(codes.slice(3)).toEqual([429, 429]);
      const res = await limited.inject({ method: 'GET', url: '/v1/rules' });
      expect(res.json().error.code).toBe('CDSS_ERR_RATE_LIMITED');
      expect(res.headers['retry-after']).toBeDefined();
      expect((await limited.inject({ method: 'GET', url: '/health' })).statusCode).toBe(200);
    } finally {
      await limited.close();
    }
  });

  it('a fresh JWT on every call does not reset the budget', async () => {
    const limited = await testApp({ rateLimitMax: 2, rateLimitWindowMs: 60_000 });
    try {
      const codes: number[] = [];
      for (let i = 0; i < 4; i++) {
        const token = `eyJhbGciOiJFUzI1NiJ9.eyJqdGkiOiJ${i}In0.c2ln${i}`;
        codes.push(
          (
            await limited.inject({
              method: 'GET',
              url: '/cds-services',
              headers: { authorization: `Bearer ${token}` },
            })
          ).statusCode,
        );
      }
      expect(codes.slice(2)).toEqual([429, 429]);
    } finally {
      await limited.close();
    }
  });
});

describe('logs never carry patient identity', () => {
  it('scrubs ID numbers, phone numbers and Chinese text from every line', () => {
    expect(scrubLogLine('{"msg":"x 33019919560814013X y 13812345678 z 0571-87654321 王某某"}')).toBe(
      '{"msg":"x [id] y [phone] z [phone] [zh]"}',
    );
  });

  it('no name, ID number or phone number from requests reaches the log', async () => {
    const record = sample('cardiology-01') as { patient: Record<string, unknown> };
    record.patient.name = '欧阳明远';
    record.patient.phone = '13912345678';
    record.patient.idDocument = { type: '居民身份证', number: '110101199003071234' };
    const text = JSON.stringify(record);
    // A good request, a malformed one, an invalid one, one with identity in the URL and headers.
    await analyze(keyA.key, text);
    await analyze(keyA.key, text.slice(0, text.length / 2));
    await analyze(
      keyA.key,
      JSON.stringify({ ...record, patient: { ...record.patient, birthDate: '欧阳明远 13912345678' } }),
    );
    await app.inject({
      method: 'GET',
      url: '/v1/concepts?q=欧阳明远13912345678',
      headers: { 'x-api-key': keyA.key },
    });
    await app.inject({
      method: 'GET',
      url: '/v1/欧阳明远/110101199003071234',
      headers: { 'x-api-key': keyA.key },
    });
    await app.inject({
      method: 'POST',
      url: '/v1/ner',
      headers: { 'x-api-key': keyA.key, 'content-type': 'application/json', 'x-patient': '欧阳明远' },
      payload: { text: '患者欧阳明远，身份证110101199003071234，电话13912345678，否认高血压病史。' },
    });
    const log = logs.text();
    expect(logs.lines.length).toBeGreaterThan(5);
    for (const secret of [
      '欧阳明远',
      '13912345678',
      '110101199003071234',
      '王某某',
      '33019919560814013X',
      keyA.key,
    ]) {
      expect(log).not.toContain(secret);
    }
    expect(log).not.toMatch(/(?<!\d)1[3-9]\d{9}(?!\d)/);
    expect(log).not.toMatch(/(?<!\d)\d{17}[\dXx](?!\d)/);
    // The log is still useful: one structured line per request with route, status and latency.
    const requests = logs.records().filter((r) => r.msg === 'request');
    expect(
      requests.some((r) => r.route === '/v1/analyze' && r.statusCode === 200 && typeof r.ms === 'number'),
    ).toBe(true);
  });
});
