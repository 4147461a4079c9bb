import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { computeSign, type DingTalkTestServer, openOutbox, startDingTalkTestServer } from '@yijian/dingtalk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { YijianApp } from './app.js';
import { configFromEnv } from './config.js';
import { LogCapture, sampleText, testApp } from './fixtures.test-helpers.js';

/**
 * Adverse events through the service, against the DingTalk-compatible server on loopback (it checks
 * the access token, the signature and the 20/min limit, and fails on command).
 */

const SECRET = 'SEC-robot-secret-for-tests';
const APP_SECRET = 'outgoing-robot-app-secret';
const FALL_REPORT = '2025年9月18日 23:10 神经内科 12床患者夜间如厕时不慎跌倒，右膝皮肤擦伤，予消毒包扎。';

let server: DingTalkTestServer;
let app: YijianApp;
const json = { 'content-type': 'application/json' };

async function until(check: () => boolean, ms = 10_000): Promise<void> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > ms) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
}

beforeAll(async () => {
  server = await startDingTalkTestServer({ accessToken: 'tok-1', secret: SECRET });
  app = await testApp({
    dingtalkRobots: [
      {
        name: 'quality',
        webhook: server.webhook,
        secret: SECRET,
        mentionMobiles: ['13800000000'],
        reviewBaseUrl: 'https://cdss.hospital.test',
      },
    ],
    dingtalkDispatcher: { baseDelayMs: 20, maxDelayMs: 50, pollIntervalMs: 20, maxAttempts: 2 },
    dingtalkAppSecret: APP_SECRET,
  });
});
afterAll(async () => {
  await app?.close();
  await server?.close();
});

describe('config', () => {
  it('builds one robot from DINGTALK_* variables and checks it at start', () => {
    const c = configFromEnv({
      DINGTALK_WEBHOOK: 'https://oapi.dingtalk.com/robot/send?access_token=abc',
      DINGTALK_SECRET: 'SECxyz',
      DINGTALK_AT_MOBILES: '13800000000, 13900000000',
      DINGTALK_MIN_GRADE: 'II',
    });
    expect(c.dingtalkRobots).toEqual([
      expect.objectContaining({
        name: 'default',
        secret: 'SECxyz',
        mentionMobiles: ['13800000000', '13900000000'],
      }),
    ]);
    expect(c.dingtalkMinGrade).toBe('II');
    expect(() => configFromEnv({ DINGTALK_WEBHOOK: 'https://oapi.dingtalk.com/robot/send' })).toThrow(
      /DINGTALK_WEBHOOK/,
    );
    expect(() => configFromEnv({ DINGTALK_MIN_GRADE: 'V' })).toThrow(/DINGTALK_MIN_GRADE/);
  });
});

describe('POST /v1/adverse-events', () => {
  it('parses a free-text report into a draft, files it and delivers it to the robot', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/v1/adverse-events',
      headers: json,
      payload: { text: FALL_REPORT, reporter: 'nurse-07' },
    });
    expect(res.statusCode).toBe(201);
    const body = res.json();
    expect(body.filed).toBe(true);
    expect(body.report.draft).toMatchObject({ category: 'fall', department: '神经内科', bed: '12' });
    expect(body.event).toMatchObject({ category: 'fall', origin: 'manual' });
    expect(body.jobs).toEqual([{ robot: 'quality', key: expect.any(String) }]);
    const key = body.jobs[0].key as string;
    await until(() => server.deliveredKeys().has(key));
    const message = JSON.stringify(server.received.find((m) => m.keys.includes(key))!.body);
    expect(message).toContain('跌倒');
    expect(message).toContain('@13800000000');

    const stored = await app.inject({ method: 'GET', url: `/v1/adverse-events/reports/${body.report.id}` });
    expect(stored.statusCode).toBe(200);
    expect(stored.json().report.reporter).toBe('nurse-07');
    const list = await app.inject({ method: 'GET', url: '/v1/adverse-events/reports' });
    expect(list.json().reports.map((r: { id: string }) => r.id)).toContain(body.report.id);

    // The filed report is in the review queue under its own id, with a truthful audit entry.
    const queued = app.yijian.reviewStore.queue({ recordId: body.report.id });
    expect(queued.items).toEqual([
      expect.objectContaining({
        source: 'ae',
        ruleId: 'ae.fall',
        department: '神经内科',
        doctor: 'nurse-07',
        dischargeDate: '2025-09-18',
      }),
    ]);
    const finding = app.yijian.reviewStore.finding(queued.items[0]!.key)!;
    expect(finding.finding.detail).toContain('上报原文');
    expect(app.yijian.reviewStore.audit({ recordId: body.report.id })[0]).toMatchObject({
      note: '手工上报不良事件',
    });
  });

  it('stores an unrecognised report as a draft with what is missing, and sends nothing', async () => {
    const before = server.received.length;
    const res = await app.inject({
      method: 'POST',
      url: '/v1/adverse-events',
      headers: json,
      payload: { text: '今天病房里有点乱，请关注。' },
    });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({ filed: false, event: null, jobs: [] });
    expect(res.json().report.draft.missing).toContain('事件类别');
    expect(server.received.length).toBe(before);
  });

  it('refuses an empty or unknown-key body with 400', async () => {
    for (const payload of [{ text: '' }, { text: '跌倒', patientName: '张三' }, {}]) {
      const res = await app.inject({ method: 'POST', url: '/v1/adverse-events', headers: json, payload });
      expect(res.statusCode).toBe(400);
    }
  });
});

describe('events detected by analyze', () => {
  it('enqueues the planted fall of neurology-01 once, without the patient name, with a review link', async () => {
    for (let i = 0; i < 2; i++) {
      const res = await app.inject({
        method: 'POST',
        url: '/v1/analyze',
        headers: json,
        payload: sampleText('neurology-01'),
      });
      expect(res.statusCode).toBe(200);
    }
    const outbox = await app.inject({ method: 'GET', url: '/v1/adverse-events/outbox' });
    const jobs = outbox.json().jobs as { key: string; eventId: string; notice: { recordId?: string } }[];
    const fall = jobs.filter((j) => j.notice.recordId === 'neurology-01');
    expect(fall).toHaveLength(1);
    await until(() => server.deliveredKeys().get(fall[0]!.key) === 1);
    const body = JSON.stringify(server.received.find((m) => m.keys.includes(fall[0]!.key))!.body);
    const name = (JSON.parse(sampleText('neurology-01')) as { patient: { name: string } }).patient.name;
    expect(body).not.toContain(name);
    expect(body).toContain('https://cdss.hospital.test/review/records/neurology-01?tenant=default');
  });
});

describe('dead letters and metrics', () => {
  it('dead-letters a job after the configured tries, lists it, counts it, and requeues it', async () => {
    server.failNext('http-500', 2);
    const res = await app.inject({
      method: 'POST',
      url: '/v1/adverse-events',
      headers: json,
      payload: { text: '2025年10月2日 骨科 8床患者坠床，左额部皮肤挫伤。' },
    });
    const key = res.json().jobs[0].key as string;
    await until(() => {
      const job = app.yijian.adverseEvents.outbox.job(key);
      return job?.status === 'dead';
    });
    const dead = await app.inject({ method: 'GET', url: '/v1/adverse-events/outbox?status=dead' });
    expect(dead.statusCode).toBe(200);
    expect(dead.json().jobs.map((j: { key: string }) => j.key)).toEqual([key]);
    expect(dead.json().counts.dead).toBe(1);

    const metrics = (await app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toMatch(/yijian_ae_outbox_jobs\{status="dead",service="yijian"\} 1/);
    expect(metrics).toMatch(/yijian_ae_outbox_jobs\{status="delivered",service="yijian"\} [1-9]/);
    expect(metrics).toMatch(/yijian_ae_outbox_jobs\{status="queued",service="yijian"\} 0/);
    expect(metrics).toMatch(
      /yijian_adverse_events_total\{origin="manual",category="fall",service="yijian"\}/,
    );

    const unknown = await app.inject({
      method: 'POST',
      url: '/v1/adverse-events/outbox/requeue',
      headers: json,
      payload: { key: 'no-such-key' },
    });
    expect(unknown.statusCode).toBe(404);
    const requeue = await app.inject({
      method: 'POST',
      url: '/v1/adverse-events/outbox/requeue',
      headers: json,
      payload: { key },
    });
    expect(requeue.json()).toEqual({ requeued: 1 });
    await until(() => server.deliveredKeys().get(key) === 1);
  });
});

describe('DingTalk outgoing-robot callback', () => {
  const callback = (headers: Record<string, string>, text = `@医鉴 ${FALL_REPORT}`, msgId = 'msg-1') =>
    app.inject({
      method: 'POST',
      url: '/dingtalk/callback',
      headers: { ...json, ...headers },
      payload: {
        msgtype: 'text',
        text: { content: text },
        msgId,
        senderStaffId: 'staff-42',
        conversationId: 'cid-1',
      },
    });
  const signed = (secret = APP_SECRET, ts = Date.now()) => ({
    timestamp: String(ts),
    sign: computeSign(secret, ts),
  });

  it('answers a signed report with its draft as a markdown message, once per message id', async () => {
    const res = await callback(signed());
    expect(res.statusCode).toBe(200);
    const reply = res.json();
    expect(reply.msgtype).toBe('markdown');
    expect(reply.markdown.text).toContain('跌倒/坠床');
    const reports = (await app.inject({ method: 'GET', url: '/v1/adverse-events/reports' })).json().reports;
    const mine = reports.filter((r: { channel: string; reporter: string }) => r.channel === 'dingtalk');
    expect(mine).toHaveLength(1);
    expect(mine[0].reporter).toBe('staff-42');
    // DingTalk retries a callback it did not see answered: the same msgId files nothing new.
    const again = await callback(signed());
    expect(again.statusCode).toBe(200);
    const after = (await app.inject({ method: 'GET', url: '/v1/adverse-events/reports' })).json().reports;
    expect(after.filter((r: { channel: string }) => r.channel === 'dingtalk')).toHaveLength(1);
  });

  it('refuses unsigned, wrongly signed and stale callbacks', async () => {
    expect((await callback({})).statusCode).toBe(401);
    expect((await callback(signed('another-secret'))).statusCode).toBe(401);
    expect((await callback(signed(APP_SECRET, Date.now() - 2 * 3600_000))).statusCode).toBe(401);
  });

  it('is off (404) when no app secret is configured', async () => {
    const plain = await testApp();
    try {
      const res = await plain.inject({
        method: 'POST',
        url: '/dingtalk/callback',
        headers: json,
        payload: {},
      });
      expect(res.statusCode).toBe(404);
    } finally {
      await plain.close();
    }
  });
});

describe('logs', () => {
  it('carry no patient name, phone number or report text, even when delivery fails', async () => {
    const logs = new LogCapture();
    const logged = await testApp(
      {
        logLevel: 'info',
        dingtalkRobots: [{ name: 'quality', webhook: server.webhook, secret: SECRET }],
        dingtalkDispatcher: { baseDelayMs: 20, maxDelayMs: 50, pollIntervalMs: 20, maxAttempts: 1 },
      },
      { logStream: logs },
    );
    try {
      server.failNext('http-503', 1);
      const res = await logged.inject({
        method: 'POST',
        url: '/v1/adverse-events',
        headers: json,
        payload: {
          text: '2025年10月5日 心内科 5床患者欧阳明远（电话13912345678）夜间坠床，头皮血肿。',
          reporter: '护士长',
        },
      });
      const key = res.json().jobs[0].key as string;
      await until(() => logged.yijian.adverseEvents.outbox.job(key)?.status === 'dead');
      const text = logs.text();
      expect(text).toContain(key);
      for (const secret of ['欧阳明远', '13912345678', '坠床', '头皮血肿', '护士长'])
        expect(text).not.toContain(secret);
    } finally {
      await logged.close();
    }
  });
});

describe('lifecycle', () => {
  it('starts the dispatcher with the service and releases the outbox on shutdown', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'yijian-ae-'));
    try {
      const local = await testApp({
        dbFile: 'yijian.sqlite',
        dataDir,
        reviewBootstrap: false,
        dingtalkRobots: [{ name: 'quality', webhook: server.webhook, secret: SECRET }],
        dingtalkDispatcher: { baseDelayMs: 20, pollIntervalMs: 20 },
      });
      const res = await local.inject({
        method: 'POST',
        url: '/v1/adverse-events',
        headers: json,
        payload: { text: '2025年10月3日 呼吸内科 3床患者下床时不慎跌倒，右肘擦伤。' },
      });
      const key = res.json().jobs[0].key as string;
      await until(() => server.deliveredKeys().get(key) === 1);
      await local.close();
      // After a graceful stop the lease is released and the job is acknowledged in the file.
      const outbox = openOutbox({ path: join(dataDir, 'outbox.sqlite') });
      try {
        expect(outbox.job(key)?.status).toBe('delivered');
        expect(outbox.db.prepare('SELECT COUNT(*) AS n FROM ae_lease').get()).toEqual({ n: 0 });
      } finally {
        outbox.close();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
