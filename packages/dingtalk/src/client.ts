import type { Clock } from './clock.js';
import { systemClock } from './clock.js';
import { parseConfig, type RobotConfig, type RobotConfigInput, robotConfigSchema } from './config.js';
import { classifyErrcode, classifyHttpStatus, type DeliveryOutcome } from './errcodes.js';
import type { RobotMessage } from './message.js';
import { signedWebhookUrl } from './sign.js';

export interface RobotClient {
  readonly config: RobotConfig;
  /** Send one message; never throws for delivery problems, it classifies them. */
  send(message: RobotMessage): Promise<DeliveryOutcome>;
}

/**
 * The custom-robot webhook client. Signs every request afresh (timestamp from the injected clock),
 * aborts after `timeoutMs`, and turns every answer into a {@link DeliveryOutcome}.
 */
export function createRobotClient(input: RobotConfigInput, options: { clock?: Clock } = {}): RobotClient {
  const config = parseConfig(robotConfigSchema, input, 'DingTalk robot config');
  const clock = options.clock ?? systemClock;
  return {
    config,
    async send(message) {
      const url = signedWebhookUrl(config.webhook, config.secret, clock.now());
      let res: Response;
      try {
        res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json; charset=utf-8' },
          body: JSON.stringify(message),
          signal: AbortSignal.timeout(config.timeoutMs),
        });
      } catch (error) {
        return { kind: 'transient', reason: networkReason(error) };
      }
      let body: string;
      try {
        body = await res.text();
      } catch (error) {
        return {
          kind: 'transient',
          reason: `reading the answer failed: ${networkReason(error)}`,
          httpStatus: res.status,
        };
      }
      if (res.status !== 200) return classifyHttpStatus(res.status);
      let json: { errcode?: unknown; errmsg?: unknown };
      try {
        json = JSON.parse(body) as { errcode?: unknown; errmsg?: unknown };
      } catch {
        return { kind: 'transient', reason: 'answer is not JSON', httpStatus: 200 };
      }
      if (typeof json.errcode !== 'number')
        return { kind: 'transient', reason: 'answer has no errcode', httpStatus: 200 };
      return classifyErrcode(json.errcode, typeof json.errmsg === 'string' ? json.errmsg : '');
    },
  };
}

function networkReason(error: unknown): string {
  const e = error as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return 'timeout';
  return e?.cause?.code ?? e?.cause?.message ?? e?.message ?? String(error);
}
