/**
 * How far behind the event loop is, for load shedding. A timer due every `intervalMs` records how late
 * it fired; between firings, the time since it was due counts too, so a loop that is stuck in a long
 * turn right now reads as behind before the timer can say so. A loop that keeps up reads 0 to a few
 * milliseconds; one that has a queue of calls waiting reads about as long as the queue takes.
 */
export interface LagMonitor {
  /** Milliseconds the event loop is behind now. */
  lagMs(): number;
  stop(): void;
}

export function startLagMonitor(intervalMs = 25): LagMonitor {
  let lag = 0;
  let due = performance.now() + intervalMs;
  const timer = setInterval(() => {
    const now = performance.now();
    lag = Math.max(0, now - due);
    due = now + intervalMs;
  }, intervalMs);
  timer.unref();
  return {
    lagMs: () => Math.max(lag, performance.now() - due),
    stop: () => clearInterval(timer),
  };
}
