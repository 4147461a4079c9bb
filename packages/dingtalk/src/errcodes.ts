/**
 * How a delivery attempt ended, and what to do about it. DingTalk answers HTTP 200 with
 * `{ errcode, errmsg }`; the errcode decides, never the message (qc-standards.md §7.1).
 */
export type DeliveryOutcome =
  | { kind: 'delivered' }
  /** Retry with exponential backoff: network error, timeout, 5xx, busy. */
  | { kind: 'transient'; reason: string; errcode?: number; httpStatus?: number }
  /** DingTalk throttled this robot (about 10 minutes): pause the robot, then retry. */
  | { kind: 'throttled'; reason: string; errcode?: number; httpStatus?: number }
  /** Retrying cannot help (bad token, robot removed, content refused): dead-letter now. */
  | { kind: 'permanent'; reason: string; errcode?: number; httpStatus?: number };

export interface ErrcodeInfo {
  kind: 'transient' | 'throttled' | 'permanent';
  meaning: string;
}

/** The documented DingTalk custom-robot error codes. Unknown non-zero codes are treated as transient. */
export const DINGTALK_ERRCODES: Record<number, ErrcodeInfo> = {
  [-1]: { kind: 'transient', meaning: 'system busy (系统繁忙)' },
  310000: { kind: 'permanent', meaning: 'security check failed: keywords, sign or IP allow-list' },
  400013: { kind: 'permanent', meaning: 'group disbanded' },
  400101: { kind: 'permanent', meaning: 'access_token does not exist' },
  400102: { kind: 'permanent', meaning: 'robot disabled' },
  400105: { kind: 'permanent', meaning: 'unsupported message type' },
  400106: { kind: 'permanent', meaning: 'robot does not exist' },
  410100: { kind: 'throttled', meaning: 'sending too fast, throttled' },
  430101: { kind: 'permanent', meaning: 'unsafe link in content' },
  430102: { kind: 'permanent', meaning: 'inappropriate text in content' },
  430103: { kind: 'permanent', meaning: 'inappropriate image in content' },
  430104: { kind: 'permanent', meaning: 'inappropriate content' },
  300001: { kind: 'permanent', meaning: 'token is not exist (old response)' },
  130101: { kind: 'throttled', meaning: 'send too fast (old response)' },
};

/** Classify a DingTalk JSON answer (HTTP 200). */
export function classifyErrcode(errcode: number, errmsg: string): DeliveryOutcome {
  if (errcode === 0) return { kind: 'delivered' };
  const info = DINGTALK_ERRCODES[errcode];
  const reason = `errcode ${errcode}: ${errmsg || info?.meaning || 'unknown'}`;
  // A stale timestamp is fixed by signing again at the next attempt (e.g. after a long queue or a
  // clock step); a wrong secret, missing keyword or IP outside the allow-list is not.
  if (errcode === 310000 && /timestamp/i.test(errmsg)) return { kind: 'transient', reason, errcode };
  if (!info) return { kind: 'transient', reason, errcode };
  return { kind: info.kind, reason, errcode };
}

/** Classify an HTTP answer that is not a 200 with a JSON body. */
export function classifyHttpStatus(status: number): DeliveryOutcome {
  const reason = `HTTP ${status}`;
  if (status === 429) return { kind: 'throttled', reason, httpStatus: status };
  if (status >= 500 || status === 408) return { kind: 'transient', reason, httpStatus: status };
  return { kind: 'permanent', reason, httpStatus: status };
}
