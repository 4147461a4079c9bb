import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { YijianApp } from './app.js';
import * as fhir from './cds-hooks/fhir.test-helpers.js';
import { testApp } from './fixtures.test-helpers.js';
import { startLagMonitor } from './load-shedding.js';

/** Keep the event loop busy for `ms`, as a long synchronous request or a queue of calls would. */
function block(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // busy
  }
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const orderSign = () => fhir.orderSignCall(randomUUID());

describe('startLagMonitor', () => {
  it('reads near zero while the loop keeps up, the length of a stall during and after it, then recovers', async () => {
    const lag = startLagMonitor(10);
    try {
      await sleep(60);
      expect(lag.lagMs()).toBeLessThan(150);
      block(250);
      // Before its timer could fire: the time since it was due.
      expect(lag.lagMs()).toBeGreaterThan(200);
      await sleep(0);
      // The timer fired late by about the stall.
      expect(lag.lagMs()).toBeGreaterThan(200);
      await sleep(80);
      expect(lag.lagMs()).toBeLessThan(150);
    } finally {
      lag.stop();
    }
  });
});

describe('load shedding of CDS Hooks calls', () => {
  let app: YijianApp;
  beforeAll(async () => {
    app = await testApp({ cdsHooksMaxLagMs: 300 });
  });
  afterAll(async () => {
    await app.close();
  });
  const call = () =>
    app.inject({ method: 'POST', url: '/cds-services/yijian-order-sign', payload: orderSign() });

  it('answers normally while the loop keeps up', async () => {
    await sleep(60);
    const res = await call();
    expect(res.statusCode).toBe(200);
    expect(res.json().cards.length).toBeGreaterThan(0);
  });

  it('refuses a hook call unprocessed with 503 CDSS_ERR_OVERLOADED and Retry-After while the loop is behind', async () => {
    await sleep(60);
    block(700);
    const res = await call();
    expect(res.statusCode).toBe(503);
    expect(res.headers['retry-after']).toBe('1');
    const body = res.json();
    expect(body.error.code).toBe('CDSS_ERR_OVERLOADED');
    expect(body.error.message).toMatch(/ms behind \(limit 300 ms\)/);
    const metrics = await app.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.body).toMatch(/yijian_requests_shed_total\{route="\/cds-services\/:id"[^}]*\} 1/);
  });

  it('never sheds REST calls or discovery, and answers hook calls again once the loop has caught up', async () => {
    await sleep(60);
    block(700);
    const discovery = await app.inject({ method: 'GET', url: '/cds-services' });
    expect(discovery.statusCode).toBe(200);
    const rest = await app.inject({
      method: 'POST',
      url: '/v1/medications/check',
      payload: { drugs: ['华法林', '阿司匹林'] },
    });
    expect(rest.statusCode).not.toBe(503);
    await sleep(100);
    expect((await call()).statusCode).toBe(200);
  });

  it('is off with cdsHooksMaxLagMs 0', async () => {
    const off = await testApp({ cdsHooksMaxLagMs: 0 });
    try {
      block(400);
      const res = await off.inject({
        method: 'POST',
        url: '/cds-services/yijian-order-sign',
        payload: orderSign(),
      });
      expect(res.statusCode).toBe(200);
    } finally {
      await off.close();
    }
  });
});
