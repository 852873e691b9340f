/**
 * Keeps an outage from flooding the log. A background loop that fails every few milliseconds
 * while PostgreSQL is down (the event sequencer runs every 20 ms) would write the same line
 * hundreds of times: the first failure of a kind is logged at once, identical ones within
 * `windowMs` are only counted, and the first after the window is logged with that count.
 */
export interface LogThrottle {
  /** Whether to log this occurrence of `key` now, and how many identical ones went unlogged before it. */
  check(key: string): { shouldLog: boolean; suppressed: number };
}

/** @example const throttle = createLogThrottle({ windowMs: 10_000, nowMs: () => Date.now() }); */
export function createLogThrottle(options: { windowMs: number; nowMs: () => number }): LogThrottle {
  const seen = new Map<string, { loggedAtMs: number; suppressed: number }>();
  return {
    check(key) {
      const nowMs = options.nowMs();
      const entry = seen.get(key);
      if (entry && nowMs - entry.loggedAtMs < options.windowMs) {
        entry.suppressed += 1;
        return { shouldLog: false, suppressed: entry.suppressed };
      }
      const suppressed = entry?.suppressed ?? 0;
      seen.set(key, { loggedAtMs: nowMs, suppressed: 0 });
      // Bounded: keys are error messages, few in practice; forget them all rather than grow.
      if (seen.size > 1_000) seen.clear();
      return { shouldLog: true, suppressed };
    },
  };
}
