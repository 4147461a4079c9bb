/**
 * Sliding-window rate limiter: at most `max` sends in any window of `windowMs` (+ a safety margin).
 * A token bucket would let 2×max through across a window boundary; a log of send times cannot.
 * The log is seeded from the outbox on start, so a restart (or a crash) does not reset the budget.
 */
export interface SlidingWindowLimiterOptions {
  max: number;
  windowMs: number;
  /** Keep sends at least windowMs + marginMs apart from the send `max` places earlier. */
  marginMs?: number;
  /** Earlier send times (ms), e.g. from the outbox's attempt log. */
  history?: readonly number[];
}

export class SlidingWindowLimiter {
  readonly max: number;
  readonly windowMs: number;
  readonly marginMs: number;
  private sends: number[];

  constructor(options: SlidingWindowLimiterOptions) {
    if (!(options.max >= 1) || !(options.windowMs > 0))
      throw new RangeError('max >= 1 and windowMs > 0 required');
    this.max = options.max;
    this.windowMs = options.windowMs;
    this.marginMs = options.marginMs ?? 0;
    this.sends = [...(options.history ?? [])].sort((a, b) => a - b).slice(-this.max);
  }

  private get span(): number {
    return this.windowMs + this.marginMs;
  }

  /** Sends still allowed at `now`. */
  available(now: number): number {
    const recent = this.sends.filter((t) => t > now - this.span).length;
    return Math.max(0, this.max - recent);
  }

  /** The earliest time a send is allowed (`now` when one is allowed now). */
  nextAllowedAt(now: number): number {
    if (this.sends.length < this.max) return now;
    const oldest = this.sends[this.sends.length - this.max]!;
    return Math.max(now, oldest + this.span);
  }

  /** Record a send at `now` (call before the request goes out). */
  record(now: number): void {
    this.sends.push(now);
    if (this.sends.length > this.max) this.sends.splice(0, this.sends.length - this.max);
  }
}

/** The largest number of timestamps that fall in any half-open window [t, t + windowMs). */
export function maxInWindow(times: readonly number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let best = 0;
  let lo = 0;
  for (let hi = 0; hi < sorted.length; hi++) {
    while (sorted[hi]! - sorted[lo]! >= windowMs) lo++;
    best = Math.max(best, hi - lo + 1);
  }
  return best;
}
