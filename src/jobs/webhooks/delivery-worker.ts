/**
 * Sends due webhook deliveries. Runs in every server process; any number may run at once:
 * each attempt is leased by exactly one process, and if that process dies mid-attempt the lease
 * expires and another one attempts it again (at least once; the delivery id lets receivers
 * de-duplicate).
 *
 * Each process keeps a pool of attempts in flight and refills a slot as soon as an attempt ends:
 * there is no batch to wait for, so a receiver that never answers holds only its own slots. The
 * claim query caps attempts per target and per organisation and skips targets that are backed
 * off (docs/reliability.md#webhooks-one-receiver-cannot-delay-another).
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Clock } from '../../app/deps.js';
import type { WebhookDenyList } from '../../app/webhook-url.js';
import type { Db } from '../../db/db.js';
import {
  blockWebhookTarget,
  claimDueWebhookDeliveries,
  deleteFinishedWebhookDeliveriesBefore,
  deleteIdleWebhookTargetsBefore,
  markWebhookDead,
  markWebhookDelivered,
  recordWebhookTargetFailure,
  rescheduleWebhookDelivery,
  selectNextWebhookDueAt,
  type ClaimedWebhookDelivery,
} from '../../db/queries/webhooks.js';
import {
  DELIVERY_CONCURRENCY,
  TARGET_BACKOFF,
  targetBackoff,
  type DeliveryConcurrency,
} from '../../domain/webhook-targets.js';
import { guardedPost } from './guarded-post.js';
import { backoffDelayMs, type Backoff } from '@rallypoint/sdk';
import { ATTEMPT_HEADER, DELIVERY_ID_HEADER, EVENT_HEADER, SIGNATURE_HEADER, signatureHeader } from './signature.js';
import { atMostEvery, msUntilDue, startPollLoop } from '../poll-loop.js';

/** 5 s, 10 s, 20 s … capped at one hour: about 30 attempts in a day. */
export const DELIVERY_BACKOFF: Backoff = { firstMs: 5_000, maxMs: 60 * 60_000 };

export interface WebhookWorkerOptions {
  db: Db;
  clock: Clock;
  denyList: WebhookDenyList;
  timeoutMs: number;
  /**
   * 0 disables the timer; runDue() still works (tests drive time through it). Without
   * `fallbackPollMs`, the worker looks for due deliveries every `pollMs`; with it, `pollMs` is
   * how soon it looks again while a due delivery waits behind a concurrency cap.
   */
  pollMs: number;
  /**
   * Sleep until the next delivery is due, at most this long, instead of polling: `wake()` announces
   * deliveries this process commits, and the longest sleep catches what another process or a
   * tool wrote (docs/reliability.md#webhooks-one-receiver-cannot-delay-another).
   */
  fallbackPollMs?: number;
  /**
   * Delivered and dead deliveries are deleted this long after they were written, and idle
   * targets forgotten (0 or absent: kept). Each process prunes at most once a minute.
   */
  retentionMs?: number;
  schedule?: Backoff;
  /** How long a target that stopped answering waits as a whole (TARGET_BACKOFF by default). */
  targetSchedule?: Backoff;
  /** Attempts in flight per process, per target and per organisation (DELIVERY_CONCURRENCY by default). */
  concurrency?: Partial<DeliveryConcurrency>;
  /** In [0, 1); jitter source. */
  random?: () => number;
  onError?: (error: unknown) => void;
  /** Told the outcome and duration (seconds, real time) of every attempt and its organisation, for metrics. */
  observe?: (outcome: 'delivered' | 'failed' | 'dead', seconds: number, orgId: number) => void;
  /** Told when a target that stopped answering is backed off as a whole, for the operator's log. */
  onTargetBackedOff?: (report: TargetBackoffReport) => void;
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

export interface TargetBackoffReport {
  target: string;
  consecutiveFailures: number;
  blockedUntil: Date;
  error: string;
}

export interface WebhookWorker {
  /**
   * Claims and attempts due deliveries until none can be claimed and none of this process's
   * attempts is in flight; returns how many attempts this process made meanwhile.
   */
  runDue(): Promise<number>;
  /** A delivery was committed: look for due deliveries now. */
  wake(): void;
  stop(): Promise<void>;
}

/**
 * Commits that wake the worker within this long of its last look share the next one, so a burst
 * of creates with webhooks costs a look per 50 ms, not one per commit.
 */
const WAKE_MIN_GAP_MS = 50;

/**
 * Outcomes that say the receiver as a whole is failing, not this delivery: no answer at all
 * (timeout, refused connection, DNS), a 5xx, or 429. Counted against the target, so a receiver
 * that is down behind its load balancer waits as a whole instead of taking every delivery's
 * retries. Other answers (a redirect, a 4xx) are about the delivery and are retried on its own.
 */
function receiverIsFailing(status: number | null): boolean {
  return status === null || status >= 500 || status === 429;
}

/** Finished deliveries deleted per statement, statements per prune, and the least time between prunes. */
const PRUNE_BATCH = 1_000;
const PRUNE_BATCHES = 10;
const PRUNE_EVERY_MS = 60_000;

/** Margin beyond the POST timeout (DNS, database round trips) before a lease is presumed dead. */
const LEASE_MARGIN_MS = 30_000;

export function createWebhookWorker(options: WebhookWorkerOptions): WebhookWorker {
  const schedule = options.schedule ?? DELIVERY_BACKOFF;
  const targetSchedule = options.targetSchedule ?? TARGET_BACKOFF;
  const limits = { ...DELIVERY_CONCURRENCY, ...options.concurrency };
  const random = options.random ?? Math.random;
  const leaseMs = options.timeoutMs + LEASE_MARGIN_MS;
  const workerId = `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  const onError = (error: unknown) => options.onError?.(error);

  /** The target is failing (receiverIsFailing): count it, and back the whole target off after enough in a row. */
  async function targetFailed(target: string, error: string): Promise<void> {
    const now = options.clock.now();
    const failing = await recordWebhookTargetFailure(options.db, { target, error, now });
    const backoff = targetBackoff(failing, now, targetSchedule, random());
    if (!backoff) return;
    if (await blockWebhookTarget(options.db, { target, ...backoff, now })) {
      wakeAt(backoff.blockedUntil);
      options.onTargetBackedOff?.({
        target,
        consecutiveFailures: failing.consecutiveFailures,
        blockedUntil: backoff.blockedUntil,
        error,
      });
    }
  }

  async function attempt(delivery: ClaimedWebhookDelivery): Promise<void> {
    const timestampSeconds = Math.floor(options.clock.now().getTime() / 1000);
    const startedAt = performance.now();
    const outcome = await guardedPost({
      url: delivery.url,
      body: delivery.body,
      timeoutMs: options.timeoutMs,
      denyList: options.denyList,
      headers: {
        'content-type': 'application/json',
        'user-agent': 'Rallypoint-Webhooks/1',
        [DELIVERY_ID_HEADER]: delivery.deliveryId,
        [EVENT_HEADER]: delivery.event,
        [ATTEMPT_HEADER]: String(delivery.attempts),
        [SIGNATURE_HEADER]: signatureHeader(delivery.webhookSecret, timestampSeconds, delivery.body),
      },
    });
    const { id, attempts } = delivery;
    const observe = (result: 'delivered' | 'failed' | 'dead') =>
      options.observe?.(result, (performance.now() - startedAt) / 1000, delivery.orgId);
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
    // Recorded before the delivery lets go of its slot, so no claim sees the slot free and the back-off not yet written.
    if (receiverIsFailing(outcome.status)) await targetFailed(delivery.target, outcome.error);
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
    await rescheduleWebhookDelivery(options.db, {
      id,
      attempts,
      status: outcome.status,
      error: outcome.error,
      nextAttemptAt,
    });
    wakeAt(nextAttemptAt);
  }

  const inFlight = new Set<Promise<void>>();
  let started = 0;
  let stopped = false;
  let claiming: Promise<number> | undefined;
  let claimAgain = false;

  function launch(delivery: ClaimedWebhookDelivery): void {
    started += 1;
    const running: Promise<void> = attempt(delivery)
      .catch(onError)
      .finally(() => {
        inFlight.delete(running);
        // The slot is free: refill it now, not when the rest of some batch is done.
        if (!stopped) fill().catch(onError);
      });
    inFlight.add(running);
  }

  /**
   * Claims deliveries for this process's free slots and starts them; one claim at a time per
   * process (a slot freed meanwhile asks for another round). Resolves with how many it started.
   */
  function fill(): Promise<number> {
    if (claiming) {
      claimAgain = true;
      return claiming;
    }
    const run = async (): Promise<number> => {
      let total = 0;
      do {
        claimAgain = false;
        const free = limits.perProcess - inFlight.size;
        if (free <= 0 || stopped) break;
        const now = options.clock.now();
        const claimed = await claimDueWebhookDeliveries(options.db, now, new Date(now.getTime() + leaseMs), free, {
          perTarget: limits.perTarget,
          perOrg: limits.perOrg,
          workerId,
        });
        for (const delivery of claimed) launch(delivery);
        total += claimed.length;
        if (claimed.length === free) claimAgain = true;
      } while (claimAgain);
      return total;
    };
    claiming = run().finally(() => {
      claiming = undefined;
    });
    return claiming;
  }

  /**
   * Deletes finished deliveries past their retention, up to PRUNE_BATCHES batches, and forgets
   * idle targets; at most once a minute per process (every create with a webhook adds a row, so
   * the table would otherwise grow without end: up to 10,000 rows a minute per process go).
   */
  const pruneDue = atMostEvery(PRUNE_EVERY_MS);
  async function prune(): Promise<void> {
    const retentionMs = options.retentionMs ?? 0;
    const now = options.clock.now();
    if (retentionMs <= 0 || !pruneDue(now.getTime())) return;
    const before = new Date(now.getTime() - retentionMs);
    for (let batch = 0; batch < PRUNE_BATCHES; batch++) {
      if ((await deleteFinishedWebhookDeliveriesBefore(options.db, before, PRUNE_BATCH)) < PRUNE_BATCH) break;
    }
    await deleteIdleWebhookTargetsBefore(options.db, before, now);
  }

  async function runDue(): Promise<number> {
    const before = started;
    await prune();
    for (;;) {
      const claimed = await fill();
      if (claimed === 0 && inFlight.size === 0) return started - before;
      // Wait for a slot to free up: finishing one attempt can make another due (the next of its session).
      if (inFlight.size > 0) await Promise.race(inFlight);
    }
  }

  // Each tick prunes (at most once a minute) and tops the pool up; attempts run on their own and
  // refill their slots as they end. Polling, the next tick is pollMs away; otherwise the loop sleeps
  // until the next delivery heading its subject is due or its target's back-off ends (msUntilDue:
  // one due and still waiting is held by a cap that another process may free, so pollMs then).
  const fallbackPollMs = options.fallbackPollMs;
  const loop = startPollLoop(
    async () => {
      const lookedAtMs = options.clock.now().getTime();
      await prune();
      await fill();
      if (fallbackPollMs === undefined) return options.pollMs;
      const dueAt = await selectNextWebhookDueAt(options.db);
      const at = { lookedAtMs, nowMs: options.clock.now().getTime() };
      return msUntilDue(dueAt?.getTime(), at, options.pollMs, fallbackPollMs);
    },
    options.pollMs,
    onError,
    { waitAfter: (ms) => ms, minGapMs: WAKE_MIN_GAP_MS },
  );
  /** This process rescheduled a delivery or backed a target off until `at`: look again then. */
  function wakeAt(at: Date): void {
    if (fallbackPollMs !== undefined) loop.wakeWithin(at.getTime() - options.clock.now().getTime());
  }
  return {
    runDue,
    wake: () => loop.wake(),
    async stop() {
      stopped = true;
      await loop.stop();
      await claiming?.catch(() => undefined);
      while (inFlight.size > 0) await Promise.all(inFlight);
    },
  };
}
