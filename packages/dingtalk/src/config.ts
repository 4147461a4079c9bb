import { fromZodIssues } from '@yijian/emr';
import { z } from 'zod';

/** One custom robot (one group). Defaults live here and nowhere else. */
export const robotConfigSchema = z.strictObject({
  /** Name used in the outbox and metrics. */
  name: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,64}$/)
    .default('default'),
  /** `https://oapi.dingtalk.com/robot/send?access_token=…` */
  webhook: z
    .url()
    .refine((u) => new URL(u).searchParams.get('access_token'), 'the webhook must carry ?access_token='),
  /** 加签 secret (starts with SEC); omit only when the robot uses keywords or an IP allow-list. */
  secret: z.string().min(1).optional(),
  /** The keyword the robot requires in every message, when it uses 自定义关键词 security. */
  keyword: z.string().min(1).optional(),
  format: z.enum(['markdown', 'actionCard']).default('markdown'),
  /** Quality managers to @mention (mobile numbers / DingTalk user ids). */
  mentionMobiles: z.array(z.string().regex(/^\+?\d{5,20}$/)).default([]),
  mentionUserIds: z.array(z.string().min(1)).default([]),
  /** Base URL of the review page; links go to `<base>/review/records/<id>`. */
  reviewBaseUrl: z.url(),
  /** Abort a request after this many (wall-clock) ms. */
  timeoutMs: z.number().int().positive().default(10_000),
  /** DingTalk throttles above 20 messages per minute per robot; never configure more. */
  maxPerMinute: z.number().int().min(1).max(20).default(20),
});
export type RobotConfig = z.infer<typeof robotConfigSchema>;
export type RobotConfigInput = z.input<typeof robotConfigSchema>;

export const dispatcherConfigSchema = z.strictObject({
  /** Attempts before a job goes to the dead-letter state. */
  maxAttempts: z.number().int().min(1).max(100).default(10),
  /** First retry delay; doubled per attempt, with jitter. */
  baseDelayMs: z.number().int().positive().default(2_000),
  maxDelayMs: z.number().int().positive().default(300_000),
  /** Pause after DingTalk says "sending too fast" (it throttles for 10 minutes). */
  throttlePauseMs: z.number().int().positive().default(600_000),
  /** At most this many events merged into one message. */
  maxEventsPerMessage: z.number().int().min(1).max(50).default(20),
  /** Sliding window of the rate limit. */
  windowMs: z.number().int().positive().default(60_000),
  /** Extra spacing kept on top of the window, for network delay between us and DingTalk. */
  safetyMarginMs: z.number().int().nonnegative().default(1_000),
  /** How long the dispatcher lease lasts without renewal (a crashed holder blocks others this long). */
  leaseMs: z.number().int().positive().default(30_000),
  /** Idle poll interval when nothing is due. */
  pollIntervalMs: z.number().int().positive().default(1_000),
});
export type DispatcherConfig = z.infer<typeof dispatcherConfigSchema>;
export type DispatcherConfigInput = z.input<typeof dispatcherConfigSchema>;

export function parseConfig<T>(schema: z.ZodType<T>, input: unknown, what: string): T {
  const r = schema.safeParse(input);
  if (!r.success) throw fromZodIssues('CDSS_ERR_INVALID_CONFIG', `Invalid ${what}`, r.error.issues);
  return r.data;
}
