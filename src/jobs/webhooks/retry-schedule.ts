/**
 * When to try a failed delivery again: exponential backoff with jitter. Pure: randomness comes
 * in as an argument so the schedule can be tested exactly.
 */
export interface RetrySchedule {
  /** Delay before the second attempt (before jitter). */
  baseMs: number;
  /** No single wait grows beyond this. */
  maxDelayMs: number;
}

/** 5 s, 10 s, 20 s ... capped at one hour: about 30 attempts in a day. */
export const DEFAULT_RETRY_SCHEDULE: RetrySchedule = { baseMs: 5_000, maxDelayMs: 60 * 60_000 };

/**
 * The wait after the `attempts`-th failed attempt (1-based). "Equal jitter": between half and
 * all of the exponential delay, so a receiver that was down is not hit by every retry at once,
 * and the wait never falls below half the schedule. `random` is in [0, 1).
 */
export function retryDelayMs(attempts: number, schedule: RetrySchedule, random: number): number {
  const exponent = Math.min(Math.max(attempts - 1, 0), 30);
  const full = Math.min(schedule.maxDelayMs, schedule.baseMs * 2 ** exponent);
  return Math.round(full / 2 + (full / 2) * random);
}
