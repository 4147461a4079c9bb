import { parseReport } from '@yijian/adverse-events';
import { describe, expect, it } from 'vitest';
import { draftReplyMessage, parseOutgoingMessage, verifyOutgoingRobotRequest } from './callback.js';
import { computeSign } from './sign.js';

const APP_SECRET = 'app-secret-123';

describe('DingTalk outgoing-robot callback', () => {
  it('accepts a correctly signed request and rejects wrong, stale and missing signatures', () => {
    const now = 1_760_000_000_000;
    const headers = { timestamp: String(now - 5_000), sign: computeSign(APP_SECRET, now - 5_000) };
    expect(() => verifyOutgoingRobotRequest({ headers, appSecret: APP_SECRET, now })).not.toThrow();
    expect(() => verifyOutgoingRobotRequest({ headers, appSecret: 'other', now })).toThrow(
      expect.objectContaining({
        code: 'CDSS_ERR_UNAUTHORIZED',
        message: expect.stringContaining('sign not match'),
      }),
    );
    expect(() =>
      verifyOutgoingRobotRequest({ headers, appSecret: APP_SECRET, now: now + 3_700_000 }),
    ).toThrow(/invalid timestamp/);
    expect(() => verifyOutgoingRobotRequest({ headers: {}, appSecret: APP_SECRET, now })).toThrow(/missing/);
  });

  it('reads the report text (without the @robot mention) and answers with the parsed draft', () => {
    const msg = parseOutgoingMessage({
      msgtype: 'text',
      text: { content: '@医鉴机器人 2025-03-04 05:20 神经内科12床患者如厕时跌倒，右额部裂伤，予缝合。' },
      msgId: 'm1',
      senderStaffId: 'staff9',
      sessionWebhook: 'https://oapi.dingtalk.com/robot/sendBySession?session=x',
      conversationType: '2',
      isAdmin: false,
    });
    expect(msg.text.startsWith('2025-03-04')).toBe(true);
    expect(msg).toMatchObject({ msgId: 'm1', senderStaffId: 'staff9' });
    const reply = draftReplyMessage(parseReport(msg.text), {
      confirmUrl: 'https://yijian.test/review/reports/new',
    });
    expect(reply.markdown.text).toContain('跌倒/坠床');
    expect(reply.markdown.text).toContain('Ⅱ级 不良后果事件');
    expect(reply.markdown.text).toContain('[确认并提交](https://yijian.test/review/reports/new)');
    expect(() => parseOutgoingMessage({ msgtype: 'picture' })).toThrow(
      expect.objectContaining({ code: 'CDSS_ERR_INVALID_REQUEST' }),
    );
    expect(() => parseOutgoingMessage('x')).toThrow(
      expect.objectContaining({ code: 'CDSS_ERR_INVALID_REQUEST' }),
    );
  });
});
