/**
 * Time source for the limiter, the outbox and the dispatcher. Injectable so that tests and the
 * delivery benchmark can run an hour of DingTalk traffic in seconds: a compressed clock runs
 * `speed` times faster than the wall clock, and every process given the same `realStart` and
 * `speed` agrees on the virtual time.
 */
export interface Clock {
  /** Milliseconds since the epoch (virtual for a compressed clock). */
  now(): number;
  /** Wait this many (virtual) milliseconds. */
  sleep(ms: number): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms))),
};

export interface CompressedClockOptions {
  /** How many times faster than the wall clock, e.g. 30. */
  speed: number;
  /** Wall-clock ms at which virtual time started; share it between processes. */
  realStart: number;
  /** Virtual time at `realStart` (defaults to `realStart`). */
  virtualStart?: number;
}

export function createCompressedClock(options: CompressedClockOptions): Clock {
  const { speed, realStart } = options;
  if (!(speed > 0)) throw new RangeError('speed must be positive');
  const virtualStart = options.virtualStart ?? realStart;
  return {
    now: () => Math.floor(virtualStart + (Date.now() - realStart) * speed),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms / speed))),
  };
}
