/**
 * Webhook fairness rules (docs/reliability.md#webhooks-one-receiver-cannot-delay-another): what a
 * delivery's target is, how many attempts may be in flight at once, and when a target that
 * stops answering is backed off as a whole.
 */
import { backoffDelayMs, type Backoff } from '@rallypoint/sdk';

/**
 * The receiver a delivery is bound for: its URL's origin (scheme, host and port). Concurrency
 * caps and target back-off apply per target. A URL that does not parse is its own target (it is
 * refused at its first attempt anyway).
 */
export function webhookTarget(url: string): string {
  try {
    const origin = new URL(url).origin;
    return origin === 'null' ? url : origin;
  } catch {
    return url;
  }
}

export interface DeliveryConcurrency {
  /** Attempts in flight at once in one process (its pool). */
  perProcess: number;
  /** Attempts in flight at once to one target, across all processes. */
  perTarget: number;
  /** Attempts in flight at once for one organisation, across all processes. */
  perOrg: number;
}

/**
 * A black-holed receiver holds at most 4 slots and one organisation at most 16 (of every
 * process's 32): the rest serve everyone else.
 */
export const DELIVERY_CONCURRENCY: DeliveryConcurrency = { perProcess: 32, perTarget: 4, perOrg: 16 };

/** Unanswered attempts in a row (timeouts, connection or DNS errors) before a target waits as a whole. */
export const TARGET_FAILURES_BEFORE_BACKOFF = 5;

/** 5 s, 10 s, 20 s … capped at 10 minutes; the first wait follows WEBHOOK_RETRY_BASE_MS. */
export const TARGET_BACKOFF: Backoff = { firstMs: 5_000, maxMs: 10 * 60_000 };

/** What is known of a target after one more unanswered attempt was counted. */
export interface FailingTarget {
  consecutiveFailures: number;
  backoffs: number;
  blockedUntil: Date | null;
}

/**
 * Whether this failure backs the target off, and until when. A target already waiting is not
 * pushed further by attempts that were in flight when it started waiting: only a failure after
 * the wait (the probe) deepens the next one.
 */
export function targetBackoff(
  target: FailingTarget,
  now: Date,
  schedule: Backoff,
  random: number,
): { backoffs: number; blockedUntil: Date } | undefined {
  if (target.consecutiveFailures < TARGET_FAILURES_BEFORE_BACKOFF) return undefined;
  if (target.blockedUntil && target.blockedUntil > now) return undefined;
  const backoffs = target.backoffs + 1;
  return { backoffs, blockedUntil: new Date(now.getTime() + backoffDelayMs(backoffs, schedule, random)) };
}
