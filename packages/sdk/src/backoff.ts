/**
 * The one backoff schedule of Rallypoint: the server's jobs, webhook deliveries and database
 * listener, and the SDK's request retries all wait with it. It lives in the SDK because the SDK
 * is the dependency-free package both sides share.
 *
 * Exponential with "equal jitter": after the n-th failure the wait is between half and all of
 * `firstMs * 2^(n-1)` (capped at `maxMs`). Half is fixed so a wait never collapses to zero; the
 * random half keeps many clients that failed together from retrying in lockstep.
 */
export interface Backoff {
  /** Wait after the first failure, before jitter. */
  firstMs: number;
  /** No single wait grows beyond this. */
  maxMs: number;
}

/**
 * The wait after the `failures`-th failure in a row (1-based; 0 or less is treated as 1).
 * `random` is in [0, 1); pass it to make the schedule exact in tests.
 */
export function backoffDelayMs(failures: number, backoff: Backoff, random: number = Math.random()): number {
  const exponent = Math.min(Math.max(Math.floor(failures) - 1, 0), 30);
  const full = Math.min(backoff.maxMs, backoff.firstMs * 2 ** exponent);
  return Math.round(full / 2 + (full / 2) * Math.min(Math.max(random, 0), 1));
}
