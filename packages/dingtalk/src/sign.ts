import { createHmac, timingSafeEqual } from 'node:crypto';

/** DingTalk accepts a signed timestamp within one hour of its own clock. */
export const MAX_TIMESTAMP_SKEW_MS = 3_600_000;

/**
 * The 加签 signature: HMAC-SHA256 keyed with the secret over `timestamp + "\n" + secret`, Base64.
 * (Not URL-encoded; {@link signedWebhookUrl} encodes it for the query string.)
 */
export function computeSign(secret: string, timestampMs: number): string {
  return createHmac('sha256', secret).update(`${timestampMs}\n${secret}`, 'utf8').digest('base64');
}

/** The webhook URL with `&timestamp=<ms>&sign=<urlencoded>` appended (unchanged when there is no secret). */
export function signedWebhookUrl(webhook: string, secret: string | undefined, timestampMs: number): string {
  if (!secret) return webhook;
  const sep = webhook.includes('?') ? '&' : '?';
  return `${webhook}${sep}timestamp=${timestampMs}&sign=${encodeURIComponent(computeSign(secret, timestampMs))}`;
}

export type SignCheck =
  | { ok: true }
  | { ok: false; reason: 'missing' | 'invalid timestamp' | 'sign not match' };

/**
 * Check a DingTalk signature: used by the outgoing-robot callback (headers `timestamp` and `sign`,
 * keyed with the app secret) and by the loopback test server (query `timestamp` and `sign`).
 * `sign` is the Base64 value as received (already URL-decoded). Constant-time comparison.
 */
export function verifySign(input: {
  timestamp: string | number | undefined;
  sign: string | undefined;
  secret: string;
  now: number;
  maxSkewMs?: number;
}): SignCheck {
  const { sign, secret, now } = input;
  if (input.timestamp === undefined || input.timestamp === '' || !sign)
    return { ok: false, reason: 'missing' };
  const ts = typeof input.timestamp === 'number' ? input.timestamp : Number(input.timestamp);
  if (!Number.isSafeInteger(ts) || !/^\d+$/.test(String(input.timestamp)))
    return { ok: false, reason: 'invalid timestamp' };
  if (Math.abs(now - ts) > (input.maxSkewMs ?? MAX_TIMESTAMP_SKEW_MS))
    return { ok: false, reason: 'invalid timestamp' };
  const expected = Buffer.from(computeSign(secret, ts), 'utf8');
  const got = Buffer.from(sign, 'utf8');
  if (expected.length !== got.length || !timingSafeEqual(expected, got))
    return { ok: false, reason: 'sign not match' };
  return { ok: true };
}
