import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Fastify, { type FastifyInstance } from 'fastify';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashToken } from './auth.js';
import { reviewPlugin } from './plugin.js';
import { type AnalysedSample, analyseSamples } from './samples.test-helpers.js';
import { createReviewStore, type ReviewStore } from './store.js';

/**
 * Drives Debian's chromium through the review page: login, queue, filter, record with highlighted
 * evidence, dismiss with a reason, reload, CSV export, dashboard. Screenshots go to artifacts/review/.
 */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium)
  console.warn(`[review] browser tests skipped: ${CHROMIUM} not found (apt-get install -y chromium)`);

const ARTIFACTS = fileURLToPath(new URL('../../../artifacts/review', import.meta.url));
const TOKEN = 'browser-test-reviewer-token';
const TOKEN_B = 'browser-test-campus-b-token';

describe.skipIf(!hasChromium)('review page in chromium', () => {
  let app: FastifyInstance;
  let store: ReviewStore;
  let browser: Browser;
  let page: Page;
  let base: string;
  let dir: string;
  let samples: AnalysedSample[];
  const pageErrors: string[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'yijian-review-'));
    mkdirSync(ARTIFACTS, { recursive: true });
    store = createReviewStore({ file: join(dir, 'review.sqlite') });
    samples = await analyseSamples();
    for (const s of samples) store.ingestAnalysis(s.record, s.analysis);
    app = Fastify();
    await app.register(reviewPlugin, {
      store,
      users: [
        { id: 'zhou', name: '周质控', role: 'reviewer', tokenSha256: hashToken(TOKEN) },
        {
          id: 'wu',
          name: '吴质控',
          role: 'reviewer',
          tokenSha256: hashToken(TOKEN_B),
          tenants: ['campus-b'],
        },
      ],
    });
    base = await app.listen({ host: '127.0.0.1', port: 0 });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--no-first-run',
      ],
    });
    const context = await browser.newContext({
      viewport: { width: 1440, height: 900 },
      locale: 'zh-CN',
      acceptDownloads: true,
    });
    page = await context.newPage();
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error') pageErrors.push(message.text());
    });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await app?.close();
    store?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('logs in and shows the queue of open findings', async () => {
    await page.goto(`${base}/review`);
    await page.fill('#login-token', 'wrong-token');
    await page.click('#login-form button[type=submit]');
    await expect.poll(() => page.textContent('#login-error')).toContain('访问令牌无效');
    await page.fill('#login-token', TOKEN);
    await page.click('#login-form button[type=submit]');
    await page.waitForSelector('#queue-table');
    expect(await page.textContent('#user-name')).toBe('周质控');
    const rows = await page.locator('.queue-row').count();
    expect(rows).toBeGreaterThan(10);
    expect(await page.textContent('#queue-total')).toMatch(/共 \d+ 条/);
    await page.screenshot({ path: join(ARTIFACTS, 'queue.png'), fullPage: false });
    // The dashboard before any review: the planted fall shows under its grade.
    await page.goto(`${base}/review#/dashboard`);
    await page.waitForSelector('#chart-ae svg');
    expect(await page.locator('#chart-ae svg rect').count()).toBe(4);
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard.png'), fullPage: true });
    await page.goto(`${base}/review#/queue`);
    await page.waitForSelector('#queue-table');
  });

  it('filters by department and severity, and sorts', async () => {
    await page.selectOption('#f-department', '神经内科');
    await page.click('#apply-filters');
    await page.waitForFunction(() => location.hash.includes('department='));
    await page.waitForSelector('#queue-table');
    const departments = await page.locator('.queue-row td:nth-child(3)').allTextContents();
    expect(departments.length).toBeGreaterThan(0);
    expect(new Set(departments)).toEqual(new Set(['神经内科']));
    await page.click('button[data-sort="severity"]');
    await page.waitForFunction(() => location.hash.includes('sort=severity'));
    await page.waitForSelector('th.sorted button[data-sort="severity"]');
  });

  it('opens a record with entity spans, negation and the finding evidence highlighted and scrolled to', async () => {
    await page.click('.queue-row:has-text("ae.fall")');
    await page.waitForSelector('#documents');
    const active = page.locator('mark.ev.ev-active').first();
    await active.waitFor();
    expect(await active.isVisible()).toBe(true);
    const box = await active.boundingBox();
    expect(box && box.y >= 0 && box.y < 900).toBe(true);
    expect((await page.locator('mark.ev.ev-active').allTextContents()).join('')).toContain('跌倒');
    expect(await page.locator('.finding.active').textContent()).toContain('跌倒');
    // Entity highlighting by type, and negated mentions struck through.
    expect(await page.locator('.doc-text .ent-disease').count()).toBeGreaterThan(0);
    expect(await page.locator('.doc-text .ent-drug').count()).toBeGreaterThan(0);
    const negated = page.locator('.doc-text .ent.assert-negated').first();
    expect(await negated.evaluate((el) => getComputedStyle(el).textDecorationLine)).toContain('line-through');
    expect(await page.locator('#entity-legend .ent').count()).toBeGreaterThan(6);
    await page.screenshot({ path: join(ARTIFACTS, 'record.png') });

    // A front-page finding marks its field and scrolls to it.
    await page.click('.finding:has-text("拟接收医疗机构")');
    await page.locator('#front-page tr.row-active').first().waitFor();
    const paths = await page
      .locator('#front-page tr.row-active')
      .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-path')));
    expect(paths).toContain('transferInstitution');
    expect(await page.locator('#front-page tr.fp-defect').count()).toBeGreaterThanOrEqual(2);
    await page.screenshot({ path: join(ARTIFACTS, 'record-front-page.png') });
  });

  it('dismisses a finding only with a reason, and the dismissal survives a reload', async () => {
    const card = page.locator('.finding:has-text("ae.fall")');
    await card.locator('button[data-action="dismiss"]').click();
    await page.waitForSelector('#note-dialog[open]');
    await page.click('#note-submit');
    expect(await page.locator('#note-dialog[open]').count()).toBe(1);
    expect(await page.textContent('#note-dialog .form-error')).toContain('必须填写');
    await page.screenshot({ path: join(ARTIFACTS, 'dismiss-dialog.png') });
    await page.fill('#action-note', '护理记录中为“预防跌倒”宣教，未发生跌倒');
    await page.click('#note-submit');
    await page.waitForSelector('.finding:has-text("ae.fall") [data-status="dismissed"]');

    await page.reload();
    await page.waitForSelector('.finding:has-text("ae.fall")');
    const after = page.locator('.finding:has-text("ae.fall")');
    expect(await after.locator('[data-status]').getAttribute('data-status')).toBe('dismissed');
    expect(await after.locator('.status-note').textContent()).toContain('未发生跌倒');
    expect(await page.locator('#record-audit').textContent()).toContain('周质控');
    const stored = store.queue({ ruleId: 'ae.fall' }).items[0]!;
    expect(stored).toMatchObject({ status: 'dismissed', updatedBy: '周质控' });
  });

  it('exports the current filter as CSV', async () => {
    await page.goto(`${base}/review#/queue?department=${encodeURIComponent('神经内科')}&all=1`);
    await page.waitForSelector('#queue-table');
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export-csv')]);
    const file = join(dir, 'export.csv');
    await download.saveAs(file);
    const lines = readFileSync(file, 'utf8').split('\r\n').filter(Boolean);
    expect(lines[0]!.startsWith('\uFEFF病历号,科室,')).toBe(true);
    expect(lines.length - 1).toBe(store.queue({ department: '神经内科' }).total);
    expect(lines.slice(1).every((l) => l.split(',')[1] === '神经内科')).toBe(true);
    expect(lines.join('\n')).toContain('已排除（误报）');
  });

  it('draws the dashboard charts and the audit log', async () => {
    await page.goto(`${base}/review#/dashboard`);
    await page.waitForSelector('#chart-status svg');
    expect(await page.textContent('#chart-ae')).toContain('没有未排除的不良事件');
    for (const id of ['chart-dept', 'chart-dept-total', 'chart-rule-rate', 'chart-top-rules', 'chart-status'])
      expect(await page.locator(`#${id} svg.chart`).count()).toBe(1);
    expect(await page.locator('#chart-top-rules svg rect').count()).toBeGreaterThan(2);
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-after-review.png'), fullPage: true });
    await page.goto(`${base}/review#/audit`);
    await page.waitForSelector('#audit-table');
    expect(await page.locator('#audit-table').textContent()).toContain('排除误报');
    await page.screenshot({ path: join(ARTIFACTS, 'audit.png') });
    // The wrong token at login answers 401 (logged by the browser); nothing else may fail.
    expect(pageErrors.filter((e) => !/401/.test(e))).toEqual([]);
  });

  it('shows tenants to a user who sees several, and only its own tenant to a limited user', async () => {
    // Campus B sends a record with the same id as one already in the queue (tenant default).
    const neurology = samples.find((x) => (x.record as { id: string }).id === 'neurology-01')!;
    store.ingestAnalysis(neurology.record, neurology.analysis, { tenant: 'campus-b' });
    await page.goto(`${base}/review#/queue?recordId=neurology-01&all=1`);
    await page.reload();
    await page.waitForSelector('#queue-table');
    expect(await page.locator('#queue-table thead').textContent()).toContain('租户');
    expect(new Set(await page.locator('.queue-row td.tenant').allTextContents())).toEqual(
      new Set(['default', 'campus-b']),
    );
    expect(await page.locator('#f-tenant option').allTextContents()).toEqual(['全部', 'campus-b', 'default']);
    await page.screenshot({ path: join(ARTIFACTS, 'queue-tenants.png') });

    // Campus B's copy of the fall is open (the default tenant's was dismissed above): confirm it there.
    await page.click('.queue-row:has(td.tenant:text-is("campus-b")):has-text("ae.fall")');
    await page.waitForSelector('#record-tenant');
    expect(await page.textContent('#record-tenant')).toBe('campus-b');
    expect(await page.evaluate(() => location.hash)).toContain('tenant=campus-b');
    const card = page.locator('.finding:has-text("ae.fall")');
    expect(await card.locator('[data-status]').getAttribute('data-status')).toBe('open');
    await card.locator('button[data-action="confirm"]').click();
    await page.waitForSelector('.finding:has-text("ae.fall") [data-status="confirmed"]');
    const key = store.queue({ ruleId: 'ae.fall', tenant: 'campus-b' }).items[0]!.key;
    expect(store.finding(key, 'campus-b')!.status).toBe('confirmed');
    expect(store.finding(key, 'default')!.status).toBe('dismissed');

    // The dashboard narrows to one tenant.
    await page.goto(`${base}/review#/dashboard?tenant=campus-b`);
    await page.waitForSelector('#chart-status svg');
    expect(await page.inputValue('#d-tenant')).toBe('campus-b');

    // A reviewer limited to campus B: no tenant column, only campus B's rows, and the default
    // tenant's record answers as if it did not exist.
    await page.evaluate((t) => sessionStorage.setItem('yijian.review.token', t), TOKEN_B);
    await page.goto(`${base}/review#/queue?all=1`);
    await page.reload();
    await page.waitForSelector('#queue-table');
    expect(await page.textContent('#user-name')).toBe('吴质控');
    expect(await page.locator('#queue-table thead').textContent()).not.toContain('租户');
    expect(await page.locator('#f-tenant').count()).toBe(0);
    const total = store.queue({ tenant: 'campus-b' }).total;
    expect(await page.textContent('#queue-total')).toContain(`共 ${total} 条`);
    await page.goto(`${base}/review#/dashboard`);
    await page.waitForSelector('#chart-status svg');
    expect(await page.locator('#d-tenant').count()).toBe(0);
    await page.goto(`${base}/review#/record/neurology-01?tenant=default`);
    await page.waitForSelector('.error-card');
    expect(await page.textContent('.error-card')).toContain('病历 neurology-01 不存在');
  });
});
