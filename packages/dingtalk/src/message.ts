import type { AdverseEvent, Grade } from '@yijian/adverse-events';

/**
 * What a DingTalk message may say about one event: the minimum the quality department needs to
 * act (qc-standards.md §7.1 privacy note) — grade, category, department/ward, time, a summary, a
 * short redacted excerpt and a link into the review page. Never the patient name or ID number.
 */
export interface EventNotice {
  /** Idempotency key of the delivery; printed in the message as 编号 so duplicates can be recognised. */
  key: string;
  eventId: string;
  recordId?: string;
  category: string;
  /** Chinese category label. */
  label: string;
  grade: Grade;
  department?: string;
  ward?: string;
  summary: string;
  excerpt?: string;
  occurredAt?: string;
  origin: 'detected' | 'manual';
  /** Tenant whose review queue holds the record (the link names it: one record id may exist in two). */
  tenant?: string;
}

export interface MessageOptions {
  /** Base URL of the review web page, e.g. https://yijian.hospital.local */
  reviewBaseUrl: string;
  format?: 'markdown' | 'actionCard';
  /** Quality managers to @mention (markdown only: DingTalk ignores @ in actionCard). */
  mentionMobiles?: string[];
  mentionUserIds?: string[];
  /** A keyword the robot's security settings require in every message. */
  keyword?: string;
}

export type RobotMessage =
  | {
      msgtype: 'markdown';
      markdown: { title: string; text: string };
      at: { atMobiles: string[]; atUserIds: string[]; isAtAll: false };
    }
  | {
      msgtype: 'actionCard';
      actionCard: { title: string; text: string; singleTitle: string; singleURL: string };
    };

const GRADE_TEXT: Record<Grade, string> = {
  I: 'Ⅰ级 警告事件',
  II: 'Ⅱ级 不良后果事件',
  III: 'Ⅲ级 未造成后果事件',
  IV: 'Ⅳ级 隐患事件',
};
const GRADE_SHORT: Record<Grade, string> = { I: 'Ⅰ级', II: 'Ⅱ级', III: 'Ⅲ级', IV: 'Ⅳ级' };
const GRADE_COLOR: Record<Grade, string> = { I: '#d0021b', II: '#f5a623', III: '#4a90e2', IV: '#7ed321' };

const ID_NUMBER_RE = /(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])|(?<![0-9A-Za-z])\d{15}(?![0-9A-Za-z])/g;
const PHONE_RE = /(?<!\d)1[3-9]\d{9}(?!\d)/g;
const RECORD_NO_RE = /(住院号|病案号|门诊号|ID号|床号)\s*[:：]?\s*[0-9A-Za-z-]+/g;
const NAME_LABEL_RE = /(姓名|患者姓名)\s*[:：]\s*[\u4e00-\u9fa5·]{1,6}/g;

/**
 * Remove what identifies a patient from an excerpt: the given names (e.g. the record's patient
 * name), ID numbers (15/18 digits), mobile numbers, 住院号/病案号 values and `姓名：…` fields.
 */
export function redact(text: string, names: readonly string[] = []): string {
  let out = text;
  for (const name of names) {
    const n = name.trim();
    if (n.length >= 2) out = out.split(n).join(`${n[0]}某`);
  }
  return out
    .replace(ID_NUMBER_RE, '[证件号已隐去]')
    .replace(PHONE_RE, '[电话已隐去]')
    .replace(RECORD_NO_RE, '$1[已隐去]')
    .replace(NAME_LABEL_RE, '$1：[已隐去]');
}

/** Cut an excerpt to at most `max` characters around the trigger. */
function clip(text: string, max: number, focus?: { start: number; end: number }): string {
  const t = text.replace(/\s+/g, ' ').trim();
  if (t.length <= max) return t;
  const center = focus ? Math.floor((focus.start + focus.end) / 2) : 0;
  const from = Math.max(0, Math.min(t.length - max, center - Math.floor(max / 2)));
  return `${from > 0 ? '…' : ''}${t.slice(from, from + max)}${from + max < t.length ? '…' : ''}`;
}

/** Markdown in DingTalk has no escaping; keep user text from opening headings, links or HTML. */
function plain(text: string): string {
  return text.replace(/[<>[\]#*`_]/g, ' ').replace(/\n+/g, ' ');
}

/** Build the notice for one event. `patientNames` are removed from the excerpt. */
export function noticeFromEvent(
  event: AdverseEvent,
  options: { key?: string; patientNames?: readonly string[]; excerptChars?: number; tenant?: string } = {},
): EventNotice {
  const names = options.patientNames ?? [];
  const ev = event.evidence.find((e) => e.source === 'document' || e.source === 'text') ?? event.evidence[0];
  let excerpt: string | undefined;
  if (ev) {
    const focus =
      ev.trigger && ev.start !== undefined
        ? { start: ev.trigger.start - ev.start, end: ev.trigger.end - ev.start }
        : undefined;
    excerpt = clip(redact(ev.text, names), options.excerptChars ?? 60, focus);
  }
  return {
    key: options.key ?? event.id,
    eventId: event.id,
    ...(event.recordId ? { recordId: event.recordId } : {}),
    category: event.category,
    label: event.label,
    grade: event.grade,
    ...(event.department ? { department: event.department } : {}),
    ...(event.ward ? { ward: event.ward } : {}),
    summary: redact(event.summary, names),
    ...(excerpt ? { excerpt } : {}),
    ...(event.occurredAt ? { occurredAt: event.occurredAt } : {}),
    origin: event.origin,
    ...(options.tenant ? { tenant: options.tenant } : {}),
  };
}

/** The review page link for a record: `<base>/review/records/<id>[?tenant=<tenant>]`. */
export function reviewLink(reviewBaseUrl: string, recordId: string | undefined, tenant?: string): string {
  const base = reviewBaseUrl.replace(/\/+$/, '');
  if (!recordId) return `${base}/review`;
  const query = tenant ? `?tenant=${encodeURIComponent(tenant)}` : '';
  return `${base}/review/records/${encodeURIComponent(recordId)}${query}`;
}

function mentionLine(options: MessageOptions): string {
  const ids = [...(options.mentionMobiles ?? []), ...(options.mentionUserIds ?? [])];
  return ids.length ? `\n\n${ids.map((m) => `@${m}`).join(' ')}` : '';
}

function noticeLines(n: EventNotice): string[] {
  const where = [n.department, n.ward].filter(Boolean).join(' / ');
  return [
    `- **等级**：<font color=${GRADE_COLOR[n.grade]}>${GRADE_TEXT[n.grade]}</font>`,
    `- **类别**：${plain(n.label)}`,
    ...(where ? [`- **科室/病区**：${plain(where)}`] : []),
    ...(n.occurredAt ? [`- **时间**：${plain(n.occurredAt)}`] : []),
    `- **摘要**：${plain(n.summary)}`,
    ...(n.excerpt ? [`- **原文摘录**：${plain(n.excerpt)}`] : []),
    `- **来源**：${n.origin === 'manual' ? '人工上报' : '病历自动识别'}`,
    `- **编号**：${n.key}`,
  ];
}

function finish(title: string, body: string, link: string, options: MessageOptions): RobotMessage {
  const keyword = options.keyword && !body.includes(options.keyword) ? `\n\n${options.keyword}` : '';
  if (options.format === 'actionCard') {
    return {
      msgtype: 'actionCard',
      actionCard: { title, text: `${body}${keyword}`, singleTitle: '查看病历', singleURL: link },
    };
  }
  return {
    msgtype: 'markdown',
    markdown: { title, text: `${body}\n\n[查看病历](${link})${keyword}${mentionLine(options)}` },
    at: {
      atMobiles: [...(options.mentionMobiles ?? [])],
      atUserIds: [...(options.mentionUserIds ?? [])],
      isAtAll: false,
    },
  };
}

/** One event, one message. */
export function buildEventMessage(notice: EventNotice, options: MessageOptions): RobotMessage {
  const title = `不良事件 ${GRADE_SHORT[notice.grade]} ${notice.label}`;
  const body = [`#### 医疗安全（不良）事件提醒`, '', ...noticeLines(notice)].join('\n');
  return finish(title, body, reviewLink(options.reviewBaseUrl, notice.recordId, notice.tenant), options);
}

/**
 * Several events merged into one message: used when the robot's 20-per-minute budget would
 * otherwise be exceeded. Most severe first; every event keeps its own link and 编号.
 */
export function buildDigestMessage(notices: readonly EventNotice[], options: MessageOptions): RobotMessage {
  if (notices.length === 1) return buildEventMessage(notices[0]!, options);
  const order: Record<Grade, number> = { I: 1, II: 2, III: 3, IV: 4 };
  const sorted = [...notices].sort((a, b) => order[a.grade] - order[b.grade] || a.key.localeCompare(b.key));
  const counts = (['I', 'II', 'III', 'IV'] as const)
    .map((g) => [g, sorted.filter((n) => n.grade === g).length] as const)
    .filter(([, c]) => c > 0)
    .map(([g, c]) => `${GRADE_SHORT[g]} ${c} 件`)
    .join('，');
  const items = sorted.map((n, i) => {
    const where = [n.department, n.ward].filter(Boolean).join('/');
    return `${i + 1}. <font color=${GRADE_COLOR[n.grade]}>${GRADE_SHORT[n.grade]}</font> ${plain(n.label)}${where ? `（${plain(where)}）` : ''}：${plain(n.summary)} [查看](${reviewLink(options.reviewBaseUrl, n.recordId, n.tenant)}) 编号：${n.key}`;
  });
  const title = `不良事件汇总 ${notices.length} 件`;
  const body = [
    `#### 医疗安全（不良）事件汇总（${notices.length} 件）`,
    '',
    `> ${counts}`,
    '',
    ...items,
  ].join('\n');
  return finish(title, body, reviewLink(options.reviewBaseUrl, undefined), options);
}

/** The 编号 values printed in a message (what the loopback server counts as delivered). */
export function extractKeys(message: unknown): string[] {
  const m = message as { markdown?: { text?: string }; actionCard?: { text?: string } };
  const text = m?.markdown?.text ?? m?.actionCard?.text ?? '';
  return [...text.matchAll(/编号(?:\*\*)?：\s*([A-Za-z0-9:._-]+)/g)].map((x) => x[1]!);
}
