import { writeSync } from 'node:fs';
import type { FastifyServerOptions } from 'fastify';
import type { ServiceConfig } from './config.js';

/**
 * Structured logs (pino through fastify) that never carry patient identity. Three layers:
 * 1. nothing logs request or response bodies, headers with credentials, or query strings;
 * 2. errors are logged by code and field path, never by message (parser messages quote the body);
 * 3. every line is scrubbed before it is written: resident ID numbers, mobile and landline numbers
 *    and any run of Chinese characters (names, addresses, note text) are masked. Logs are English by
 *    design, so Chinese text in a log line can only have come from patient data.
 */

const ID_NUMBER = /(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])|(?<![0-9A-Za-z])\d{15}(?![0-9A-Za-z])/g;
const MOBILE = /(?<!\d)(?:\+?86[- ]?)?1[3-9]\d[- ]?\d{4}[- ]?\d{4}(?!\d)/g;
const LANDLINE = /(?<!\d)0\d{2,3}-\d{7,8}(?!\d)/g;
const HAN = /[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u{20000}-\u{2ebef}]+/gu;

/** Mask identifying data in one serialised log line. */
export function scrubLogLine(line: string): string {
  return line
    .replace(ID_NUMBER, '[id]')
    .replace(MOBILE, '[phone]')
    .replace(LANDLINE, '[phone]')
    .replace(HAN, '[zh]');
}

/** Request fields that are safe to log: no query string, no headers, no body. */
function serializeRequest(req: {
  id?: unknown;
  method?: string;
  url?: string;
  routeOptions?: { url?: string };
}) {
  return {
    id: req.id,
    method: req.method,
    route: req.routeOptions?.url ?? req.url?.split('?')[0],
  };
}

function serializeResponse(res: { statusCode?: number }) {
  return { statusCode: res.statusCode };
}

export interface LogDestination {
  write(line: string): unknown;
}

/**
 * Logger options for fastify. `stream` replaces stdout (tests collect the lines); `worker` (the
 * cluster worker's index) goes on every line.
 */
export function loggerOptions(
  config: ServiceConfig,
  stream?: LogDestination,
  worker?: number,
): FastifyServerOptions['logger'] {
  return {
    level: config.logLevel,
    base: worker === undefined ? { service: 'yijian' } : { service: 'yijian', worker },
    serializers: { req: serializeRequest, res: serializeResponse },
    redact: {
      paths: ['req.headers', 'headers.authorization', 'headers["x-api-key"]', '*.body', 'body'],
      censor: '[redacted]',
    },
    hooks: { streamWrite: scrubLogLine },
    ...(stream ? { stream } : {}),
  } as FastifyServerOptions['logger'];
}

/** Sleep the thread for `ms` (used only when stdout's pipe is full). */
function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * Standard output with log lines batched into one write: a synchronous write per line costs a system
 * call per request (about 7 % of the CPU of an order-sign call on our VM). Lines are written when
 * `maxBytes` are waiting or `maxDelayMs` after the first, in order, and synchronously when the
 * process exits, so an orderly or crashing exit keeps every line; only a SIGKILL can lose the last
 * `maxDelayMs`. A full pipe (EAGAIN) is waited out, as pino's own destination does.
 */
export function createBufferedStdout(
  fd = 1,
  maxBytes = 16_384,
  maxDelayMs = 25,
): LogDestination & { flush(): void } {
  let pending: string[] = [];
  let size = 0;
  let timer: NodeJS.Timeout | undefined;
  const flush = () => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (pending.length === 0) return;
    const bytes = Buffer.from(pending.join(''));
    pending = [];
    size = 0;
    let offset = 0;
    for (let waits = 0; offset < bytes.length; ) {
      try {
        offset += writeSync(fd, bytes, offset);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EAGAIN' || waits++ > 10_000) return;
        sleepSync(1);
      }
    }
  };
  process.on('exit', flush);
  return {
    write(line: string) {
      pending.push(line);
      size += line.length;
      if (size >= maxBytes) flush();
      else if (!timer) {
        timer = setTimeout(flush, maxDelayMs);
        timer.unref();
      }
    },
    flush,
  };
}
