import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Db } from '../db/db.js';
import {
  JOBS_CHANNEL,
  claimDueJobs,
  deleteDeadJobsBefore,
  deleteJob,
  failJob,
  renewJobLock,
  selectExpiredJobLocks,
  selectNextJobTimes,
  type FailOutcome,
  type JobRecord,
} from '../db/queries/jobs.js';
import type { Clock } from '../app/deps.js';
import { atMostEvery, msUntilDue, startPollLoop } from './poll-loop.js';
import { backoffDelayMs, type Backoff } from '@rallypoint/sdk';

export type JobHandler = (job: JobRecord) => Promise<void>;

export interface JobWorkerOptions {
  db: Db;
  clock: Clock;
  handlers: Record<string, JobHandler>;
  /**
   * How often to look for due jobs when not listening (0: never on its own; tests call runDue).
   * When listening, how soon to look again while a due job waits behind a running one of its
   * dedupe key, and after a failed look (at most `fallbackPollMs`).
   */
  pollMs: number;
  /**
   * LISTEN for added jobs and look at once (default true when the database can LISTEN). Then,
   * after each look, the worker reads when the next waiting job is due (or the next lock
   * expires) and sleeps until then, at most `fallbackPollMs`.
   */
  wakeOnInsert?: boolean;
  /**
   * When listening: the longest sleep between looks, for what no notification announces (one
   * lost while disconnected, a row changed by hand). Default 30 s.
   */
  fallbackPollMs?: number;
  /** Dead jobs are deleted once dead for this long (default 7 days; 0: kept until deleted by hand). */
  deadRetentionMs?: number;
  /**
   * A running job whose lock was not renewed for this long is taken for dead (its process died
   * or stalled) and counted as a failed attempt. The worker renews its locks every third of it.
   */
  leaseMs?: number;
  batchSize?: number;
  /** The wait before the next attempt after the n-th failure (default JOB_BACKOFF, with jitter). */
  retryDelayMs?: (failures: number) => number;
  /** Names this worker in locked_by (default hostname:pid:random). */
  workerId?: string;
  /** A failed attempt (with what became of the job) or a failure of the worker itself (no job). */
  onError?: (error: unknown, job: JobRecord | undefined, outcome?: FailOutcome) => void;
}

export interface JobWorker {
  /**
   * Claims and runs every due job, after failing those whose lock expired; returns how many
   * ran. Runs one at a time: a call made while one is in progress waits for it, then looks
   * again. Tests drive time through this.
   */
  runDue(): Promise<number>;
  /** Resolves once the worker listens for added jobs (at once without wakeOnInsert). */
  ready: Promise<void>;
  /** Names this worker in locked_by. */
  workerId: string;
  stop(): Promise<void>;
}

/** 1 s, 2 s, 4 s … at most five minutes between attempts of a failed job (migration 009 says why 25 attempts). */
export const JOB_BACKOFF: Backoff = { firstMs: 1_000, maxMs: 5 * 60_000 };

/** Expired locks handled per runDue; the rest wait for the next one. */
const EXPIRED_BATCH = 100;

/** Dead jobs past their retention deleted per prune, and the least time between prunes. */
const PRUNE_BATCH = 100;
const PRUNE_EVERY_MS = 60_000;

function describeError(error: unknown): string {
  if (error instanceof Error) return error.stack ?? `${error.name}: ${error.message}`;
  return String(error);
}

/**
 * Runs durable jobs in every server process. Several processes may run it at once: a job is
 * held by exactly one of them (state `running`, locked_by); if that process dies, its lock
 * expires and another counts the attempt as failed and retries it after the backoff. A job that
 * fails max_attempts times is `dead` until an operator retries or deletes it, or its retention
 * (deadRetentionMs) ends. Handlers must be idempotent: a job whose process died mid-run runs
 * again.
 */
export function createJobWorker(options: JobWorkerOptions): JobWorker {
  const leaseMs = options.leaseMs ?? 60_000;
  const batchSize = options.batchSize ?? 20;
  const workerId = options.workerId ?? `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  const retryDelayMs = options.retryDelayMs ?? ((failures: number) => backoffDelayMs(failures, JOB_BACKOFF));
  const db = options.db;
  const fallbackPollMs = options.fallbackPollMs ?? 30_000;
  const deadRetentionMs = options.deadRetentionMs ?? 7 * 24 * 3_600_000;

  const retryAt = (now: Date, failures: number) => new Date(now.getTime() + retryDelayMs(failures));

  async function runOne(job: JobRecord): Promise<void> {
    const handler = options.handlers[job.kind];
    // The lock is renewed while the handler runs, so a slow handler is not taken for dead.
    const renewal = setInterval(
      () => {
        renewJobLock(db, job, options.clock.now()).catch((error: unknown) => options.onError?.(error, job));
      },
      Math.max(1, Math.floor(leaseMs / 3)),
    );
    renewal.unref();
    try {
      if (!handler) throw new Error(`no handler for job kind ${job.kind}`);
      await handler(job);
    } catch (error) {
      clearInterval(renewal);
      const now = options.clock.now();
      const outcome = await failJob(db, job, { error: describeError(error), retryAt: retryAt(now, job.attempts), now });
      options.onError?.(error, job, outcome);
      return;
    }
    clearInterval(renewal);
    await deleteJob(db, job);
  }

  /** A running job whose worker stopped renewing its lock: that attempt failed. */
  async function failExpiredLocks(now: Date): Promise<void> {
    const lockedBefore = new Date(now.getTime() - leaseMs);
    for (const expired of await selectExpiredJobLocks(db, lockedBefore, EXPIRED_BATCH)) {
      const error = new Error(
        `lease expired: ${expired.lockedBy} took this job and stopped renewing its lock at ${expired.lockedAt.toISOString()}` +
          ` (more than ${leaseMs} ms before ${now.toISOString()}); its process died or stalled`,
      );
      const outcome = await failJob(db, expired, {
        error: error.message,
        retryAt: retryAt(now, expired.attempts),
        now,
        lockedBefore,
      });
      if (outcome !== 'lost') options.onError?.(error, expired, outcome);
    }
  }

  /**
   * Deletes dead jobs past their retention, a batch at a time and at most once a minute per
   * process: a periodic job that keeps failing adds one dead row per slot, so the table would
   * otherwise grow without end.
   */
  const pruneDue = atMostEvery(PRUNE_EVERY_MS);
  async function pruneDeadJobs(now: Date): Promise<void> {
    if (deadRetentionMs <= 0 || !pruneDue(now.getTime())) return;
    await deleteDeadJobsBefore(db, new Date(now.getTime() - deadRetentionMs), PRUNE_BATCH);
  }

  async function runDueOnce(): Promise<number> {
    await failExpiredLocks(options.clock.now());
    let total = 0;
    for (;;) {
      const jobs = await claimDueJobs(db, workerId, options.clock.now(), batchSize);
      for (const job of jobs) await runOne(job);
      total += jobs.length;
      if (jobs.length < batchSize) break;
    }
    await pruneDeadJobs(options.clock.now());
    return total;
  }

  let queue: Promise<unknown> = Promise.resolve();
  const runDue = (): Promise<number> => {
    const run = queue.then(runDueOnce);
    queue = run.catch(() => undefined);
    return run;
  };

  /**
   * How long to sleep after a look that started at `lookedAt`: until the next waiting job is
   * due or the next lock expires, at most fallbackPollMs. Something already due at `lookedAt`
   * and still waiting is held back (a job of its key runs elsewhere, whose end sends no
   * notification): look again after pollMs, as plain polling would.
   */
  async function msUntilNextDue(lookedAt: Date): Promise<number> {
    const next = await selectNextJobTimes(db);
    const times = [
      next.waitingRunAt?.getTime(),
      next.runningLockedAt && next.runningLockedAt.getTime() + leaseMs,
    ].filter((time): time is number => typeof time === 'number');
    const at = { lookedAtMs: lookedAt.getTime(), nowMs: options.clock.now().getTime() };
    return msUntilDue(times.length > 0 ? Math.min(...times) : undefined, at, options.pollMs, fallbackPollMs);
  }

  const listening = options.wakeOnInsert !== false && db.listen !== undefined;
  /** Set if LISTEN failed at start: then nothing announces new jobs, and the worker polls. */
  let deaf = false;
  const onLoopError = (error: unknown) => options.onError?.(error, undefined);
  // Listening, the worker hears of every job added, so it may sleep until the next one is due.
  // Not listening, it cannot know of one added meanwhile: it polls every pollMs.
  const loop =
    listening && options.pollMs > 0
      ? startPollLoop(
          async () => {
            const lookedAt = options.clock.now();
            await runDue();
            return deaf ? options.pollMs : msUntilNextDue(lookedAt);
          },
          Math.min(options.pollMs, fallbackPollMs),
          onLoopError,
          { waitAfter: (ms) => ms },
        )
      : startPollLoop(runDue, options.pollMs, onLoopError);

  let unlisten: (() => Promise<void>) | undefined;
  const ready =
    listening && db.listen
      ? db
          .listen(JOBS_CHANNEL, () => loop.wake(), {
            // Jobs added while the connection was down sent notifications nobody heard.
            onReconnect: () => loop.wake(),
            onError: (error) => options.onError?.(error, undefined),
          })
          .then(
            (stop) => {
              unlisten = stop;
              // Jobs added before the LISTEN took effect.
              loop.wake();
            },
            (error: unknown) => {
              deaf = true;
              options.onError?.(error, undefined);
            },
          )
      : Promise.resolve();

  return {
    runDue,
    ready,
    workerId,
    async stop() {
      await ready;
      await unlisten?.();
      await loop.stop();
      await queue;
    },
  };
}
