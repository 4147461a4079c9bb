import type { AdverseEvent } from '@yijian/adverse-events';
import { describe, expect, it } from 'vitest';
import {
  buildDigestMessage,
  buildEventMessage,
  type EventNotice,
  extractKeys,
  noticeFromEvent,
  redact,
  reviewLink,
} from './message.js';

const event: AdverseEvent = {
  id: 'ae-1',
  key: 'pat-1:fall:',
  category: 'fall',
  label: '跌倒/坠床',
  grade: 'III',
  gradeReason: 'Ⅲ级：文中“擦伤”',
  summary: '住院期间发生跌倒',
  details: { fallType: '跌倒' },
  evidence: [
    {
      source: 'document',
      refId: 'doc-6',
      start: 10,
      end: 60,
      text: '患者王小明（身份证号110105194912310021，电话13812345678，住院号：0603041）夜间如厕时在床旁跌倒，右膝擦伤。',
      trigger: { text: '跌倒', start: 70, end: 72 },
      ruleId: 'ae.fall@1',
    },
  ],
  rules: ['ae.fall@1'],
  patientId: 'pat-1',
  recordId: 'rec/1',
  department: '神经内科',
  ward: '三病区',
  occurredAt: '2025-09-18 02:15',
  origin: 'detected',
};
const options = {
  reviewBaseUrl: 'https://yijian.example/',
  mentionMobiles: ['13800000000'],
  mentionUserIds: ['qm01'],
};

describe('messages', () => {
  it('redacts names, ID numbers, phones and record numbers', () => {
    const out = redact(event.evidence[0]!.text, ['王小明']);
    expect(out).not.toMatch(/王小明|110105194912310021|13812345678|0603041/);
    expect(out).toContain('王某');
    expect(redact('姓名：张三 床号：12')).toBe('姓名：[已隐去] 床号[已隐去]');
  });

  it('builds a markdown message with grade, department, summary, a minimal excerpt, the review link and @mentions', () => {
    const notice = noticeFromEvent(event, { patientNames: ['王小明'] });
    expect(notice.excerpt!.length).toBeLessThanOrEqual(62);
    const msg = buildEventMessage(notice, options);
    expect(msg.msgtype).toBe('markdown');
    if (msg.msgtype !== 'markdown') return;
    const text = msg.markdown.text;
    expect(text).toContain('Ⅲ级 未造成后果事件');
    expect(text).toContain('神经内科 / 三病区');
    expect(text).toContain('住院期间发生跌倒');
    expect(text).toContain('(https://yijian.example/review/records/rec%2F1)');
    expect(text).toContain('@13800000000 @qm01');
    expect(msg.at).toEqual({ atMobiles: ['13800000000'], atUserIds: ['qm01'], isAtAll: false });
    expect(text).not.toMatch(/王小明|110105194912310021|13812345678/);
    expect(extractKeys(msg)).toEqual(['ae-1']);
  });

  it('builds an actionCard with the record link as its button', () => {
    const msg = buildEventMessage(noticeFromEvent(event), {
      ...options,
      format: 'actionCard',
      keyword: '不良事件',
    });
    expect(msg).toMatchObject({
      msgtype: 'actionCard',
      actionCard: { singleTitle: '查看病历', singleURL: 'https://yijian.example/review/records/rec%2F1' },
    });
    expect(reviewLink('https://h/', undefined)).toBe('https://h/review');
    // The tenant whose review queue holds the record (one record id may exist in two tenants).
    expect(reviewLink('https://h', 'r 1', 'campus-a')).toBe('https://h/review/records/r%201?tenant=campus-a');
  });

  it('merges events into one digest, most severe first, each with its own link and 编号', () => {
    const notices: EventNotice[] = (['III', 'I', 'IV', 'II'] as const).map((grade, i) => ({
      ...noticeFromEvent(event, { key: `k-${i}` }),
      grade,
      recordId: `r${i}`,
    }));
    const msg = buildDigestMessage(notices, options);
    if (msg.msgtype !== 'markdown') throw new Error('markdown expected');
    expect(msg.markdown.title).toBe('不良事件汇总 4 件');
    expect(extractKeys(msg)).toEqual(['k-1', 'k-3', 'k-0', 'k-2']);
    expect(msg.markdown.text).toContain('Ⅰ级 1 件，Ⅱ级 1 件，Ⅲ级 1 件，Ⅳ级 1 件');
    for (let i = 0; i < 4; i++) expect(msg.markdown.text).toContain(`review/records/r${i}`);
  });

  it('keeps user text from breaking the markdown', () => {
    const notice = { ...noticeFromEvent(event), summary: '[点我](http://evil) <b>x</b> # 标题' };
    const msg = buildEventMessage(notice, options);
    if (msg.msgtype !== 'markdown') throw new Error('markdown expected');
    expect(msg.markdown.text).not.toContain('[点我](http://evil)');
    expect(msg.markdown.text).not.toContain('<b>');
  });
});
