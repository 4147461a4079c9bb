import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashToken } from './auth.js';
import { reviewPlugin } from './plugin.js';
import { type AnalysedSample, analyseSamples } from './samples.test-helpers.js';

const users = [
  { id: 'li', name: '李审核', role: 'reviewer' as const, tokenSha256: hashToken('reviewer-token-1') },
  { id: 'wang', name: '王主任', role: 'admin' as const, tokenSha256: hashToken('admin-token-1') },
];
const asReviewer = { authorization: 'Bearer reviewer-token-1' };
const asAdmin = { authorization: 'Bearer admin-token-1' };

let app: FastifyInstance;
let samples: AnalysedSample[];

beforeAll(async () => {
  samples = await analyseSamples();
  app = Fastify();
  await app.register(reviewPlugin, { users });
  await app.ready();
  for (const s of samples) {
    const res = await app.inject({ method: 'POST', url: '/review/api/ingest', headers: asAdmin, payload: s });
    expect(res.statusCode, res.body).toBe(200);
  }
});
afterAll(async () => {
  await app?.close();
});

describe('review plugin', () => {
  it('serves the page and its assets with a strict CSP and no external URLs', async () => {
    const page = await app.inject('/review');
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    expect(page.body).toContain('病历质控审核平台');
    expect(page.body).not.toMatch(/https?:\/\//);
    const js = await app.inject('/review/assets/main.js');
    expect(js.statusCode).toBe(200);
    expect(js.headers['content-type']).toContain('text/javascript');
    expect((await app.inject('/review/assets/review.css')).statusCode).toBe(200);
    expect((await app.inject('/review/assets/..%2Fpackage.json')).statusCode).toBe(404);
  });

  it('opens deep links (DingTalk messages) in the page, with the tenant', async () => {
    const res = await app.inject({ url: '/review/records/rec%2F1?tenant=campus-a' });
    expect(res.statusCode).toBe(302);
    expect(res.headers.location).toBe('/review/#/record/rec%2F1?tenant=campus-a');
    const plain = await app.inject({ url: '/review/records/neurology-01' });
    expect(plain.headers.location).toBe('/review/#/record/neurology-01');
    expect((await app.inject({ url: '/review/records/x?tenant=a&evil=1' })).statusCode).toBe(400);
  });

  it('refuses the API without a valid token, and admin routes to reviewers', async () => {
    const none = await app.inject('/review/api/queue');
    expect(none.statusCode).toBe(401);
    expect(none.json().error.code).toBe('CDSS_ERR_UNAUTHORIZED');
    expect(
      (await app.inject({ url: '/review/api/queue', headers: { authorization: 'Bearer nope' } })).statusCode,
    ).toBe(401);
    expect((await app.inject({ url: '/review/api/me', headers: asReviewer })).json()).toEqual({
      id: 'li',
      name: '李审核',
      role: 'reviewer',
    });
    const forbidden = await app.inject({
      method: 'POST',
      url: '/review/api/ingest',
      headers: asReviewer,
      payload: samples[0],
    });
    expect(forbidden.statusCode).toBe(403);
    expect((await app.inject({ url: '/review/api/users', headers: asAdmin })).json().users).toHaveLength(2);
  });

  it('holds the findings of the sample records: QC, CDSS alerts and the planted fall', async () => {
    const all = (await app.inject({ url: '/review/api/queue?limit=200', headers: asReviewer })).json();
    const sources = new Set(all.items.map((i: { source: string }) => i.source));
    expect(sources).toEqual(new Set(['qc', 'cdss', 'ae']));
    const ids = all.items.map((i: { ruleId: string }) => i.ruleId);
    expect(ids).toContain('fp.id-number.checksum');
    expect(ids).toContain('ae.fall');
    expect(ids).toContain('ddi.graph');
    const bad = await app.inject({ url: '/review/api/queue?severity=urgent', headers: asReviewer });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.code).toBe('CDSS_ERR_INVALID_REQUEST');
  });

  it('filters, shows a record with mentions and front page defects, acts, audits, exports CSV', async () => {
    const q = (
      await app.inject({ url: '/review/api/queue?ruleId=fp.id-number.checksum', headers: asReviewer })
    ).json();
    expect(q.total).toBe(1);
    const item = q.items[0];
    const detail = (
      await app.inject({ url: `/review/api/records/${item.recordId}`, headers: asReviewer })
    ).json();
    expect(detail.documents.length).toBeGreaterThan(0);
    expect(detail.mentions.some((m: { assertion: string }) => m.assertion === 'negated')).toBe(true);
    const idRow = detail.frontPage.find((r: { path: string }) => r.path === 'idNumber');
    expect(idRow).toMatchObject({ code: expect.any(String), findingKeys: [item.key] });

    const url = `/review/api/findings/${encodeURIComponent(item.key)}/actions`;
    const missing = await app.inject({
      method: 'POST',
      url,
      headers: asReviewer,
      payload: { action: 'dismiss' },
    });
    expect(missing.statusCode).toBe(400);
    const ok = await app.inject({
      method: 'POST',
      url,
      headers: asReviewer,
      payload: { action: 'dismiss', note: '身份证号已核实无误', expectedStatus: 'open' },
    });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toMatchObject({
      status: 'dismissed',
      statusNote: '身份证号已核实无误',
      updatedBy: '李审核',
    });
    const again = await app.inject({
      method: 'POST',
      url,
      headers: asReviewer,
      payload: { action: 'confirm', expectedStatus: 'open' },
    });
    expect(again.statusCode).toBe(409);
    expect(again.json().error.code).toBe('CDSS_ERR_CONFLICT');

    const trail = (
      await app.inject({
        url: `/review/api/audit?findingKey=${encodeURIComponent(item.key)}`,
        headers: asReviewer,
      })
    ).json();
    expect(trail.entries[0]).toMatchObject({ action: 'dismiss', userId: 'li', note: '身份证号已核实无误' });

    const csv = await app.inject({ url: '/review/api/export.csv?status=dismissed', headers: asReviewer });
    expect(csv.headers['content-type']).toContain('text/csv');
    const lines = csv.body.split('\r\n').filter(Boolean);
    expect(lines[0]!.startsWith('\uFEFF病历号,')).toBe(true);
    expect(lines).toHaveLength(2);
    expect(lines[1]).toContain('身份证号已核实无误');
  });

  it('answers dashboard aggregates with the planted adverse event', async () => {
    const d = (await app.inject({ url: '/review/api/dashboard', headers: asReviewer })).json();
    expect(d.records).toBe(samples.length);
    expect(
      d.adverseEventsByGrade.reduce((n: number, g: { count: number }) => n + g.count, 0),
    ).toBeGreaterThanOrEqual(1);
    expect(d.topRules.length).toBeGreaterThan(0);
    expect(d.departmentRates.length).toBeGreaterThan(1);
  });

  it('imports qc batch NDJSON as an admin', async () => {
    const line = JSON.stringify({
      recordId: 'batch-1',
      department: '眼科',
      doctor: '周某某',
      dischargeDate: '2025-05-02',
      id: 'f-1',
      ruleId: 'fp.required.name',
      ruleVersion: '1.0.0',
      category: 'front-page',
      severity: 'critical',
      summary: '姓名未填写',
      detail: '',
      evidence: [],
      suggestions: [],
      source: { label: '病案首页' },
      suppressionKey: 'x',
      deduction: 5,
    });
    const res = await app.inject({
      method: 'POST',
      url: '/review/api/import',
      headers: { ...asAdmin, 'content-type': 'application/x-ndjson' },
      payload: `${line}\nnot json\n`,
    });
    expect(res.json()).toEqual({ imported: 1, rejected: 1 });
    const q = (
      await app.inject({
        url: '/review/api/queue?department=%E7%9C%BC%E7%A7%91&ruleId=fp.required.name',
        headers: asReviewer,
      })
    ).json();
    expect(q.total).toBe(1);
  });
});
