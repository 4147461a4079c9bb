import { describe, expect, it } from 'vitest';
import { testRecord } from './records.test-helpers.js';
import { createReviewStore } from './store.js';
import type { AlertLike } from './types.js';

const record = (id: string, department: string, discharge: string, doctor?: string) =>
  testRecord(id, department, {
    admission: `${discharge} 08:00`,
    discharge: `${discharge} 10:00`,
    ...(doctor ? { doctor } : {}),
  });

function finding(
  id: string,
  ruleId: string,
  severity: AlertLike['severity'],
  category = 'timeliness',
): AlertLike {
  return {
    id,
    ruleId,
    ruleVersion: '1.0.0',
    category,
    severity,
    summary: `问题 ${id}`,
    detail: '说明',
    evidence: [{ kind: 'text', text: '高血压', documentId: 'doc-1', span: { start: 4, end: 7 } }],
    suggestions: [],
    source: { label: '测试' },
    suppressionKey: id,
  };
}

const reviewer = { id: 'li', name: '李审核', role: 'reviewer' as const };
const admin = { id: 'wang', name: '王主任', role: 'admin' as const };

describe('review store', () => {
  it('ingests, filters, sorts and pages with a keyset cursor', () => {
    let t = Date.parse('2025-06-01T00:00:00Z');
    const store = createReviewStore({
      file: ':memory:',
      now: () => {
        t += 1000;
        return new Date(t);
      },
    });
    for (let i = 0; i < 30; i++) {
      const dept = i % 2 ? '心血管内科' : '普外科';
      store.ingestAnalysis(record(`r${i}`, dept, `2025-0${1 + (i % 5)}-1${i % 10}`), {
        alerts: [],
        qc: {
          findings: [
            finding(`a${i}`, 'tl.first-course', i % 3 === 0 ? 'critical' : 'warning'),
            finding(`b${i}`, 'fp.name', 'info', 'front-page'),
          ],
        },
      });
    }
    expect(store.queue({ limit: 200 }).total).toBe(60);
    const cardio = store.queue({ department: '心血管内科', ruleId: 'tl.first-course', limit: 200 });
    expect(cardio.total).toBe(15);
    expect(cardio.items.every((i) => i.department === '心血管内科' && i.ruleId === 'tl.first-course')).toBe(
      true,
    );
    const ranged = store.queue({ from: '2025-02-01', to: '2025-03-31', limit: 200 });
    expect(
      ranged.items.every((i) => i.dischargeDate >= '2025-02-01' && i.dischargeDate <= '2025-03-31'),
    ).toBe(true);
    expect(ranged.total).toBe(ranged.items.length);

    // Walk every page; the concatenation equals the unpaged order, without repeats.
    for (const sort of ['dischargeDate', 'severity', 'department', 'ruleId'] as const)
      for (const order of ['asc', 'desc'] as const) {
        const all = store.queue({ sort, order, limit: 200 }).items.map((i) => i.key);
        const walked: string[] = [];
        let cursor: string | undefined;
        do {
          const page = store.queue({ sort, order, limit: 7, ...(cursor ? { cursor } : {}) });
          walked.push(...page.items.map((i) => i.key));
          cursor = page.nextCursor ?? undefined;
        } while (cursor);
        expect(walked).toEqual(all);
      }
    const bySeverity = store.queue({ sort: 'severity', order: 'desc', limit: 200 }).items;
    expect(bySeverity[0]!.severity).toBe('critical');
    expect(bySeverity.at(-1)!.severity).toBe('info');
    expect(() => store.queue({ cursor: 'garbage' })).toThrow(/cursor/);
    store.close();
  });

  it('requires a reason to dismiss and a comment to return; audits every action; refuses bad transitions', () => {
    const store = createReviewStore({ file: ':memory:' });
    store.ingestAnalysis(record('r1', '普外科', '2025-03-01'), {
      alerts: [],
      qc: { findings: [finding('a', 'x', 'warning'), finding('b', 'y', 'critical')] },
    });
    expect(() => store.act('r1:a', { action: 'dismiss', user: reviewer })).toThrow(/原因/);
    expect(() => store.act('r1:a', { action: 'return', user: reviewer, note: '  ' })).toThrow(/意见/);
    const dismissed = store.act('r1:a', { action: 'dismiss', user: reviewer, note: '文书已按时完成' });
    expect(dismissed.status).toBe('dismissed');
    expect(dismissed.statusNote).toBe('文书已按时完成');
    expect(() => store.act('r1:a', { action: 'confirm', user: reviewer })).toThrow(
      expect.objectContaining({ code: 'CDSS_ERR_CONFLICT' }),
    );
    expect(() => store.act('r1:a', { action: 'reopen', user: reviewer })).toThrow(
      expect.objectContaining({ code: 'CDSS_ERR_FORBIDDEN' }),
    );
    expect(store.act('r1:a', { action: 'reopen', user: admin }).status).toBe('open');
    expect(store.act('r1:b', { action: 'return', user: reviewer, note: '请补充首次病程记录' }).status).toBe(
      'returned',
    );
    expect(() => store.act('r1:b', { action: 'resolve', user: reviewer, expectedStatus: 'open' })).toThrow(
      /已被他人处理/,
    );
    expect(() => store.act('r1:zzz', { action: 'confirm', user: reviewer })).toThrow(
      expect.objectContaining({ code: 'CDSS_ERR_NOT_FOUND' }),
    );

    const trail = store.audit({ recordId: 'r1' });
    expect(trail.map((a) => a.action)).toEqual(['return', 'reopen', 'dismiss', 'ingest']);
    expect(trail[2]).toMatchObject({
      userId: 'li',
      userName: '李审核',
      fromStatus: 'open',
      toStatus: 'dismissed',
      note: '文书已按时完成',
    });
    // Append-only: the database itself refuses to change history.
    expect(() => store.db.prepare('UPDATE audit SET note = ?').run('x')).toThrow(/append-only/);
    expect(() => store.db.prepare('DELETE FROM audit').run()).toThrow(/append-only/);
    store.close();
  });

  it('keeps review status on re-ingest and resolves findings the new analysis no longer produces', () => {
    const store = createReviewStore({ file: ':memory:' });
    const rec = record('r1', '普外科', '2025-03-01');
    store.ingestAnalysis(rec, {
      alerts: [],
      qc: { findings: [finding('a', 'x', 'warning'), finding('b', 'y', 'critical')] },
    });
    store.act('r1:a', { action: 'confirm', user: reviewer });
    const again = store.ingestAnalysis(rec, { alerts: [], qc: { findings: [finding('a', 'x', 'warning')] } });
    expect(again).toEqual({ tenant: 'default', recordId: 'r1', added: 0, updated: 1, resolved: 1 });
    expect(store.finding('r1:a')!.status).toBe('confirmed');
    expect(store.finding('r1:b')!.status).toBe('resolved');
    expect(store.audit({ findingKey: 'r1:b' })[0]).toMatchObject({ action: 'reanalysed', userId: 'system' });
    store.close();
  });

  it('imports qc batch findings NDJSON and rejects lines that are not findings', () => {
    const store = createReviewStore({ file: ':memory:' });
    const lines = [
      JSON.stringify({
        recordId: 'b1',
        department: '儿科',
        doctor: '赵某',
        dischargeDate: '2025-04-02',
        ...finding('f1', 'fp.sex', 'critical', 'front-page'),
      }),
      JSON.stringify({
        recordId: 'b2',
        department: '儿科',
        doctor: '赵某',
        dischargeDate: '2025-04-03',
        ...finding('f2', 'fp.sex', 'warning', 'front-page'),
      }),
      '{not json',
      JSON.stringify({ recordId: 'b3', summary: 'no fields' }),
      '',
    ];
    expect(store.importFindingsNdjson(lines)).toEqual({ imported: 2, rejected: 2 });
    expect(store.queue({ department: '儿科' }).total).toBe(2);
    expect(store.record('b1')).toMatchObject({ meta: { department: '儿科', doctor: '赵某' }, record: null });
    expect(store.audit({ recordId: 'b1' })[0]).toMatchObject({ action: 'ingest', note: '导入批量质控结果' });
    // A caller can say what it imported (e.g. a manual adverse-event report).
    const manual = JSON.stringify({
      recordId: 'm1',
      department: '骨科',
      dischargeDate: '2025-04-04',
      ...finding('f3', 'ae.fall', 'warning', 'adverse-event'),
    });
    expect(store.importFindingsNdjson([manual], { note: '手工上报不良事件' })).toEqual({
      imported: 1,
      rejected: 0,
    });
    expect(store.audit({ recordId: 'm1' })[0]).toMatchObject({ action: 'ingest', note: '手工上报不良事件' });
    store.close();
  });

  it('aggregates the dashboard: defect rate by department and month, top rules, adverse events by grade', () => {
    const store = createReviewStore({ file: ':memory:' });
    store.ingestAnalysis(record('r1', '普外科', '2025-03-01'), {
      alerts: [],
      qc: { findings: [finding('a', 'x', 'warning')] },
    });
    store.ingestAnalysis(record('r2', '普外科', '2025-03-02'), { alerts: [], qc: { findings: [] } });
    store.ingestAnalysis(record('r3', '儿科', '2025-04-01'), {
      alerts: [],
      qc: { findings: [finding('a', 'x', 'warning'), finding('b', 'z', 'info')] },
    });
    store.ingestAnalysis(record('r4', '儿科', '2025-04-02'), {
      alerts: [],
      adverseEvents: [
        {
          id: 'ae1',
          key: 'k',
          category: 'fall',
          label: '跌倒/坠床',
          grade: 'III',
          gradeReason: '未造成伤害',
          summary: '住院期间发生跌倒',
          details: { fallType: '跌倒' },
          evidence: [
            { source: 'document', refId: 'doc-1', start: 0, end: 2, text: '患者', ruleId: 'fall.1' },
          ],
          rules: ['fall.1@1.0.0'],
          origin: 'detected',
        },
      ],
    });
    store.act('r3:b', { action: 'dismiss', user: reviewer, note: '误报' });
    const d = store.dashboard();
    expect(d.months).toEqual(['2025-03', '2025-04']);
    expect(d.records).toBe(4);
    expect(d.recordsWithDefects).toBe(2);
    expect(d.departmentRates.find((r) => r.department === '普外科')!.byMonth).toEqual([
      { month: '2025-03', records: 2, defective: 1 },
    ]);
    expect(d.topRules[0]).toMatchObject({ ruleId: 'x', count: 2, dismissed: 0 });
    expect(d.topRules.find((r) => r.ruleId === 'z')).toMatchObject({ count: 0, dismissed: 1 });
    expect(d.adverseEventsByGrade).toEqual([
      { grade: 'I', count: 0 },
      { grade: 'II', count: 0 },
      { grade: 'III', count: 1 },
      { grade: 'IV', count: 0 },
    ]);
    const ae = store.queue({ source: 'ae' }).items[0]!;
    expect(ae).toMatchObject({
      ruleId: 'ae.fall',
      category: 'adverse-event',
      severity: 'warning',
      grade: 'III',
    });
    expect(store.finding(ae.key)!.finding.evidence[0]).toMatchObject({
      kind: 'text',
      documentId: 'doc-1',
      span: { start: 0, end: 2 },
    });
    expect(store.dashboard({ department: '儿科' }).records).toBe(2);
    store.close();
  });
});
