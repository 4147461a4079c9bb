import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { classifyErrcode, classifyHttpStatus } from './errcodes.js';
import { computeSign, signedWebhookUrl, verifySign } from './sign.js';

const SECRET = 'SECabc123+/=xyz';

describe('加签', () => {
  it('signs timestamp + "\\n" + secret with HMAC-SHA256, Base64, URL-encoded in the URL', () => {
    const ts = 1_700_000_000_000;
    const expected = createHmac('sha256', SECRET).update(`${ts}\n${SECRET}`).digest('base64');
    expect(computeSign(SECRET, ts)).toBe(expected);
    const url = new URL(signedWebhookUrl('https://oapi.dingtalk.com/robot/send?access_token=T', SECRET, ts));
    expect(url.searchParams.get('access_token')).toBe('T');
    expect(url.searchParams.get('timestamp')).toBe(String(ts));
    expect(url.searchParams.get('sign')).toBe(expected);
    expect(signedWebhookUrl('https://x/robot/send?access_token=T', SECRET, ts)).toContain(
      `sign=${encodeURIComponent(expected)}`,
    );
    expect(signedWebhookUrl('https://x/robot/send?access_token=T', undefined, ts)).toBe(
      'https://x/robot/send?access_token=T',
    );
  });

  it('verifies signatures: ok, wrong, stale (more than 1 h), missing', () => {
    const ts = 1_700_000_000_000;
    const sign = computeSign(SECRET, ts);
    expect(verifySign({ timestamp: String(ts), sign, secret: SECRET, now: ts + 1000 })).toEqual({ ok: true });
    expect(verifySign({ timestamp: ts, sign, secret: 'SECother', now: ts })).toEqual({
      ok: false,
      reason: 'sign not match',
    });
    expect(verifySign({ timestamp: ts, sign, secret: SECRET, now: ts + 3_600_001 })).toEqual({
      ok: false,
      reason: 'invalid timestamp',
    });
    expect(verifySign({ timestamp: 'abc', sign, secret: SECRET, now: ts })).toEqual({
      ok: false,
      reason: 'invalid timestamp',
    });
    expect(verifySign({ timestamp: undefined, sign, secret: SECRET, now: ts })).toEqual({
      ok: false,
      reason: 'missing',
    });
    expect(verifySign({ timestamp: ts, sign: `${sign}x`, secret: SECRET, now: ts })).toEqual({
      ok: false,
      reason: 'sign not match',
    });
  });
});

describe('DingTalk answers', () => {
  it('are classified by errcode, never by message', () => {
    expect(classifyErrcode(0, 'ok')).toEqual({ kind: 'delivered' });
    expect(classifyErrcode(310000, 'sign not match').kind).toBe('permanent');
    expect(classifyErrcode(310000, 'keywords not in content').kind).toBe('permanent');
    expect(classifyErrcode(310000, 'invalid timestamp').kind).toBe('transient');
    expect(classifyErrcode(400101, 'access_token不存在').kind).toBe('permanent');
    expect(classifyErrcode(400102, '').kind).toBe('permanent');
    expect(classifyErrcode(430102, '').kind).toBe('permanent');
    expect(classifyErrcode(410100, 'send too fast').kind).toBe('throttled');
    expect(classifyErrcode(130101, 'send too fast').kind).toBe('throttled');
    expect(classifyErrcode(-1, '系统繁忙').kind).toBe('transient');
    expect(classifyErrcode(999999, 'new code').kind).toBe('transient');
    expect(classifyHttpStatus(503).kind).toBe('transient');
    expect(classifyHttpStatus(500).kind).toBe('transient');
    expect(classifyHttpStatus(429).kind).toBe('throttled');
    expect(classifyHttpStatus(404).kind).toBe('permanent');
  });
});
