import { type DraftEvent, GRADE_LABELS } from '@yijian/adverse-events';
import { CdssError, fromZodIssues } from '@yijian/emr';
import { z } from 'zod';
import { verifySign } from './sign.js';

/**
 * DingTalk outgoing robot (企业内部机器人, HTTP callback mode): DingTalk POSTs each message that
 * @-mentions the robot to our URL with headers `timestamp` and `sign`, where sign =
 * Base64(HMAC-SHA256(appSecret, timestamp + "\n" + appSecret)) and the timestamp is within one hour.
 * Physicians use it to report an adverse event in free text.
 */
export function verifyOutgoingRobotRequest(input: {
  headers: Record<string, string | string[] | undefined>;
  appSecret: string;
  now?: number;
}): void {
  const h = (name: string) => {
    const v = input.headers[name] ?? input.headers[name.toLowerCase()];
    return Array.isArray(v) ? v[0] : v;
  };
  const check = verifySign({
    timestamp: h('timestamp'),
    sign: h('sign'),
    secret: input.appSecret,
    now: input.now ?? Date.now(),
  });
  if (!check.ok) throw new CdssError('CDSS_ERR_UNAUTHORIZED', `DingTalk callback rejected: ${check.reason}`);
}

/** The fields we read from the callback body; DingTalk sends more, which are kept but not used. */
export const outgoingMessageSchema = z.looseObject({
  msgtype: z.string(),
  text: z.looseObject({ content: z.string() }).optional(),
  msgId: z.string().optional(),
  createAt: z.number().optional(),
  conversationType: z.string().optional(),
  conversationId: z.string().optional(),
  conversationTitle: z.string().optional(),
  senderId: z.string().optional(),
  senderNick: z.string().optional(),
  senderStaffId: z.string().optional(),
  sessionWebhook: z.string().optional(),
  sessionWebhookExpiredTime: z.number().optional(),
  robotCode: z.string().optional(),
});

export interface OutgoingMessage {
  /** The report text with the leading @robot mention removed. */
  text: string;
  msgId?: string;
  senderStaffId?: string;
  senderNick?: string;
  conversationId?: string;
  /** Temporary URL to answer in the same conversation. */
  sessionWebhook?: string;
  sessionWebhookExpiredTime?: number;
}

export function parseOutgoingMessage(body: unknown): OutgoingMessage {
  const r = outgoingMessageSchema.safeParse(body);
  if (!r.success)
    throw fromZodIssues('CDSS_ERR_INVALID_REQUEST', 'Invalid DingTalk callback body', r.error.issues);
  const m = r.data;
  if (m.msgtype !== 'text' || !m.text) {
    throw new CdssError(
      'CDSS_ERR_INVALID_REQUEST',
      `Invalid DingTalk callback body: msgtype ${m.msgtype} is not supported, send text`,
      {
        issues: [{ path: ['msgtype'], message: 'only text messages can be parsed as reports' }],
      },
    );
  }
  const text = m.text.content.replace(/^\s*(@\S+\s*)+/, '').trim();
  return {
    text,
    ...(m.msgId ? { msgId: m.msgId } : {}),
    ...(m.senderStaffId ? { senderStaffId: m.senderStaffId } : {}),
    ...(m.senderNick ? { senderNick: m.senderNick } : {}),
    ...(m.conversationId ? { conversationId: m.conversationId } : {}),
    ...(m.sessionWebhook ? { sessionWebhook: m.sessionWebhook } : {}),
    ...(m.sessionWebhookExpiredTime ? { sessionWebhookExpiredTime: m.sessionWebhookExpiredTime } : {}),
  };
}

/** The markdown answer to a manual report: what was understood, and what is still missing. */
export function draftReplyMessage(draft: DraftEvent, options: { confirmUrl?: string } = {}) {
  const lines = [
    '#### 已收到不良事件上报（草稿）',
    `- **类别**：${draft.label ?? '未能识别，请补充'}`,
    `- **等级**：${draft.grade ? GRADE_LABELS[draft.grade] : '待评估'}`,
    ...(draft.department ? [`- **科室/病区**：${draft.department}`] : []),
    ...(draft.occurredAt ? [`- **时间**：${draft.occurredAt}`] : []),
    `- **摘要**：${draft.summary}`,
    ...(draft.missing.length ? [`- **请补充**：${draft.missing.join('、')}`] : []),
    ...(options.confirmUrl ? ['', `[确认并提交](${options.confirmUrl})`] : []),
  ];
  return { msgtype: 'markdown' as const, markdown: { title: '不良事件上报草稿', text: lines.join('\n') } };
}
