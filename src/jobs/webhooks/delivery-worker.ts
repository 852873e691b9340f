/**
 * Sends due webhook deliveries. Runs in every server process; any number may run at once:
 * each attempt is leased by exactly one process, and if that process dies mid-attempt the lease
 * expires and another one attempts it again (at least once; the delivery id lets receivers
 * de-duplicate).
 */
import type { Clock } from '../../app/deps.js';
import type { WebhookDenyList } from '../../app/webhook-url.js';
import type { Db } from '../../db/db.js';
import {
  claimDueWebhookDeliveries, markWebhookDead, markWebhookDelivered, rescheduleWebhookDelivery, type ClaimedWebhookDelivery,
} from '../../db/queries/webhooks.js';
import { guardedPost } from './guarded-post.js';
import { backoffDelayMs, type Backoff } from '../../sdk/backoff.js';
import { ATTEMPT_HEADER, DELIVERY_ID_HEADER, EVENT_HEADER, SIGNATURE_HEADER, signatureHeader } from './signature.js';
import { startPollLoop } from '../poll-loop.js';

/** 5 s, 10 s, 20 s … capped at one hour: about 30 attempts in a day. */
export const DELIVERY_BACKOFF: Backoff = { firstMs: 5_000, maxMs: 60 * 60_000 };

export interface WebhookWorkerOptions {
  db: Db;
  clock: Clock;
  denyList: WebhookDenyList;
  timeoutMs: number;
  /** 0 disables the timer; runDue() still works (tests drive time through it). */
  pollMs: number;
  schedule?: Backoff;
  batchSize?: number;
  /** In [0, 1); jitter source. */
  random?: () => number;
  onError?: (error: unknown) => void;
  /** Told the outcome and duration (seconds, real time) of every attempt, for metrics. */
  observe?: (outcome: 'delivered' | 'failed' | 'dead', seconds: number) => void;
  /** Told of every attempt that did not deliver, for the operator's log. */
  onUndelivered?: (report: UndeliveredReport) => void;
}

export interface UndeliveredReport {
  deliveryId: string;
  event: string;
  attempts: number;
  /** failed: retried at nextAttemptAt; dead: never tried again (replay it by hand). */
  outcome: 'failed' | 'dead';
  status: number | null;
  error: string;
  nextAttemptAt?: Date;
}

export interface WebhookWorker {
  /** Claims and attempts every due delivery; returns how many attempts were made. */
  runDue(): Promise<number>;
  stop(): Promise<void>;
}

/** Margin beyond the POST timeout (DNS, database round trips) before a lease is presumed dead. */
const LEASE_MARGIN_MS = 30_000;

export function createWebhookWorker(options: WebhookWorkerOptions): WebhookWorker {
  const schedule = options.schedule ?? DELIVERY_BACKOFF;
  const batchSize = options.batchSize ?? 20;
  const random = options.random ?? Math.random;
  const leaseMs = options.timeoutMs + LEASE_MARGIN_MS;

  async function attempt(delivery: ClaimedWebhookDelivery): Promise<void> {
    const timestampSeconds = Math.floor(options.clock.now().getTime() / 1000);
    const startedAt = performance.now();
    const outcome = await guardedPost({
      url: delivery.url, body: delivery.body, timeoutMs: options.timeoutMs, denyList: options.denyList,
      headers: {
        'content-type': 'application/json', 'user-agent': 'Rallypoint-Webhooks/1',
        [DELIVERY_ID_HEADER]: delivery.deliveryId, [EVENT_HEADER]: delivery.event, [ATTEMPT_HEADER]: String(delivery.attempts),
        [SIGNATURE_HEADER]: signatureHeader(delivery.webhookSecret, timestampSeconds, delivery.body),
      },
    });
    const { id, attempts } = delivery;
    const observe = (result: 'delivered' | 'failed' | 'dead') => options.observe?.(result, (performance.now() - startedAt) / 1000);
    if (outcome.kind === 'delivered') {
      observe('delivered');
      await markWebhookDelivered(options.db, { id, attempts, status: outcome.status, now: options.clock.now() });
      return;
    }
    const report = (result: Omit<UndeliveredReport, 'deliveryId' | 'event' | 'attempts'>) =>
      options.onUndelivered?.({ deliveryId: delivery.deliveryId, event: delivery.event, attempts, ...result });
    if (outcome.kind === 'refused') {
      observe('dead');
      report({ outcome: 'dead', status: null, error: outcome.error });
      await markWebhookDead(options.db, { id, attempts, status: null, error: outcome.error });
      return;
    }
    const nextAttemptAt = new Date(options.clock.now().getTime() + backoffDelayMs(attempts, schedule, random()));
    if (nextAttemptAt > delivery.retryUntil) {
      observe('dead');
      const error = `gave up after ${attempts} attempt${attempts === 1 ? '' : 's'}; last: ${outcome.error}`;
      report({ outcome: 'dead', status: outcome.status, error });
      await markWebhookDead(options.db, { id, attempts, status: outcome.status, error });
      return;
    }
    observe('failed');
    report({ outcome: 'failed', status: outcome.status, error: outcome.error, nextAttemptAt });
    await rescheduleWebhookDelivery(options.db, { id, attempts, status: outcome.status, error: outcome.error, nextAttemptAt });
  }

  async function runDue(): Promise<number> {
    let total = 0;
    // Loop until nothing is due: a delivered attempt can make the next delivery of its session eligible.
    for (;;) {
      const now = options.clock.now();
      const claimed = await claimDueWebhookDeliveries(options.db, now, new Date(now.getTime() + leaseMs), batchSize);
      if (claimed.length === 0) return total;
      // Different subjects in one batch go out in parallel so one slow receiver does not hold up the rest.
      const results = await Promise.allSettled(claimed.map(attempt));
      for (const result of results) if (result.status === 'rejected') options.onError?.(result.reason);
      total += claimed.length;
    }
  }

  const loop = startPollLoop(runDue, options.pollMs, (error) => options.onError?.(error));
  return { runDue, stop: () => loop.stop() };
}
