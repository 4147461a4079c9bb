import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Clock, systemClock } from './clock.js';
import { maxInWindow } from './limiter.js';
import { extractKeys } from './message.js';
import { verifySign } from './sign.js';

/**
 * A DingTalk-compatible custom-robot server on loopback, for tests and the delivery benchmark.
 * Like the real API it checks the access_token, the 加签 timestamp (±1 h) and signature, the
 * keyword, the message type, and throttles a robot for 10 minutes once it exceeds 20 messages in a
 * minute (answering errcode 410100). On command it fails, stalls or resets connections.
 */
export type FailureMode = 'http-500' | 'http-503' | 'busy' | 'reset' | 'stall';

export interface DingTalkTestServerOptions {
  accessToken: string;
  secret?: string;
  keyword?: string;
  clock?: Clock;
  maxPerMinute?: number;
  windowMs?: number;
  throttleMs?: number;
  /** Share of requests that fail at random, and how. */
  failureRate?: number;
  failureModes?: FailureMode[];
  /** Wall-clock ms a stalled request is held before its socket is destroyed. */
  stallMs?: number;
  random?: () => number;
}

export interface ReceivedMessage {
  /** Arrival time (server clock). */
  at: number;
  keys: string[];
  body: Record<string, unknown>;
}

export interface DingTalkTestServer {
  /** Webhook URL with the access_token (no signature). */
  readonly webhook: string;
  readonly port: number;
  /** Messages accepted (errcode 0), in arrival order. */
  readonly received: ReceivedMessage[];
  /** Arrival times of every request that passed the token and signature checks. */
  readonly arrivals: number[];
  /** Requests refused, with the reason. */
  readonly rejected: { at: number; errcode: number; errmsg: string }[];
  /** Requests that arrived over the 20/min limit. */
  readonly violations: number;
  /** Failures injected, by mode. */
  readonly injected: Record<FailureMode, number>;
  /** Fail the next `count` requests with `mode`. */
  failNext(mode: FailureMode, count?: number): void;
  setFailureRate(rate: number, modes?: FailureMode[]): void;
  /**
   * Accept the next message, call `onHeld` (e.g. to SIGKILL the sender) and answer only after
   * `holdMs` wall-clock ms: the message is delivered but the sender may never see the answer.
   */
  holdNextDelivery(holdMs: number, onHeld?: (m: ReceivedMessage) => void): void;
  /** How many times each 编号 was delivered. */
  deliveredKeys(): Map<string, number>;
  /** Largest number of requests in any window of `windowMs`. */
  maxPerWindow(windowMs?: number): number;
  close(): Promise<void>;
}

const MSG_TYPES = new Set(['text', 'link', 'markdown', 'actionCard', 'feedCard']);

export async function startDingTalkTestServer(
  options: DingTalkTestServerOptions,
): Promise<DingTalkTestServer> {
  const clock = options.clock ?? systemClock;
  const random = options.random ?? Math.random;
  const max = options.maxPerMinute ?? 20;
  const windowMs = options.windowMs ?? 60_000;
  const throttleMs = options.throttleMs ?? 600_000;
  const stallMs = options.stallMs ?? 30_000;
  let failureRate = options.failureRate ?? 0;
  let failureModes: FailureMode[] = options.failureModes ?? [
    'http-500',
    'http-503',
    'busy',
    'reset',
    'stall',
  ];
  const queue: FailureMode[] = [];
  const holds: { holdMs: number; onHeld?: (m: ReceivedMessage) => void }[] = [];
  const received: ReceivedMessage[] = [];
  const arrivals: number[] = [];
  const rejected: { at: number; errcode: number; errmsg: string }[] = [];
  const injected: Record<FailureMode, number> = { 'http-500': 0, 'http-503': 0, busy: 0, reset: 0, stall: 0 };
  let violations = 0;
  let throttledUntil = 0;
  const timers = new Set<NodeJS.Timeout>();

  const json = (res: ServerResponse, body: unknown, status = 200) => {
    if (res.destroyed) return;
    res.writeHead(status, { 'content-type': 'application/json;charset=UTF-8' });
    res.end(JSON.stringify(body));
  };
  const refuse = (res: ServerResponse, at: number, errcode: number, errmsg: string) => {
    rejected.push({ at, errcode, errmsg });
    json(res, { errcode, errmsg });
  };

  async function readBody(req: IncomingMessage): Promise<string> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // Arrival time: when the request line arrived, before the body is read.
    const at = clock.now();
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const raw = await readBody(req);
    if (url.pathname === '/__control' && req.method === 'POST') {
      const cmd = JSON.parse(raw || '{}') as {
        failNext?: FailureMode;
        count?: number;
        failureRate?: number;
        modes?: FailureMode[];
      };
      if (cmd.failNext) for (let i = 0; i < (cmd.count ?? 1); i++) queue.push(cmd.failNext);
      if (cmd.failureRate !== undefined) {
        failureRate = cmd.failureRate;
        if (cmd.modes) failureModes = cmd.modes;
      }
      json(res, { ok: true });
      return;
    }
    if (url.pathname !== '/robot/send' || req.method !== 'POST') {
      json(res, { errcode: 404, errmsg: 'not found' }, 404);
      return;
    }
    if (url.searchParams.get('access_token') !== options.accessToken) {
      refuse(res, at, 400101, 'access_token不存在');
      return;
    }
    if (options.secret) {
      const check = verifySign({
        timestamp: url.searchParams.get('timestamp') ?? undefined,
        sign: url.searchParams.get('sign') ?? undefined,
        secret: options.secret,
        now: at,
      });
      if (!check.ok) {
        refuse(
          res,
          at,
          310000,
          check.reason === 'invalid timestamp' ? 'invalid timestamp' : 'sign not match',
        );
        return;
      }
    }
    // Every authenticated request counts towards the limit, delivered or not.
    arrivals.push(at);
    if (at < throttledUntil) {
      refuse(res, at, 410100, 'send too fast, exceed 20 times per minute');
      return;
    }
    const inWindow = arrivals.filter((t) => t > at - windowMs).length;
    if (inWindow > max) {
      violations += 1;
      throttledUntil = at + throttleMs;
      refuse(res, at, 410100, 'send too fast, exceed 20 times per minute');
      return;
    }
    const mode =
      queue.shift() ??
      (failureRate > 0 && random() < failureRate
        ? failureModes[Math.floor(random() * failureModes.length)]
        : undefined);
    if (mode) {
      injected[mode] += 1;
      if (mode === 'reset') {
        req.socket.destroy();
        return;
      }
      if (mode === 'stall') {
        const t = setTimeout(() => {
          timers.delete(t);
          req.socket.destroy();
        }, stallMs);
        timers.add(t);
        return;
      }
      if (mode === 'busy') json(res, { errcode: -1, errmsg: '系统繁忙' });
      else
        json(
          res,
          { errcode: mode === 'http-500' ? 500 : 503, errmsg: 'server error' },
          mode === 'http-500' ? 500 : 503,
        );
      return;
    }
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(raw) as Record<string, unknown>;
    } catch {
      json(res, { errcode: 400, errmsg: 'invalid json' }, 400);
      return;
    }
    if (typeof body.msgtype !== 'string' || !MSG_TYPES.has(body.msgtype)) {
      refuse(res, at, 400105, '不支持的消息类型');
      return;
    }
    if (options.keyword && !raw.includes(options.keyword)) {
      refuse(res, at, 310000, 'keywords not in content');
      return;
    }
    const message: ReceivedMessage = { at, keys: extractKeys(body), body };
    received.push(message);
    const hold = holds.shift();
    if (hold) {
      hold.onHeld?.(message);
      const t = setTimeout(() => {
        timers.delete(t);
        json(res, { errcode: 0, errmsg: 'ok' });
      }, hold.holdMs);
      timers.add(t);
      return;
    }
    json(res, { errcode: 0, errmsg: 'ok' });
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent && !res.destroyed) json(res, { errcode: 500, errmsg: 'internal' }, 500);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;

  return {
    webhook: `http://127.0.0.1:${port}/robot/send?access_token=${encodeURIComponent(options.accessToken)}`,
    port,
    received,
    arrivals,
    rejected,
    get violations() {
      return violations;
    },
    injected,
    failNext(mode, count = 1) {
      for (let i = 0; i < count; i++) queue.push(mode);
    },
    setFailureRate(rate, modes) {
      failureRate = rate;
      if (modes) failureModes = modes;
    },
    holdNextDelivery(holdMs, onHeld) {
      holds.push({ holdMs, ...(onHeld ? { onHeld } : {}) });
    },
    deliveredKeys() {
      const m = new Map<string, number>();
      for (const r of received) for (const k of r.keys) m.set(k, (m.get(k) ?? 0) + 1);
      return m;
    },
    maxPerWindow(w = windowMs) {
      return maxInWindow(arrivals, w);
    },
    async close() {
      for (const t of timers) clearTimeout(t);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
