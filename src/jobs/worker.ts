import type { Db } from '../db/db.js';
import { claimDueJobs, deleteJob, rescheduleJob, type JobRecord } from '../db/queries/jobs.js';
import type { Clock } from '../app/deps.js';
import { startPollLoop } from './poll-loop.js';
import { backoffDelayMs, type Backoff } from '../sdk/backoff.js';

export type JobHandler = (job: JobRecord) => Promise<void>;

export interface JobWorkerOptions {
  db: Db;
  clock: Clock;
  handlers: Record<string, JobHandler>;
  pollMs: number;
  /** A claimed job is hidden from other processes this long; handlers must finish well within it. */
  leaseMs?: number;
  batchSize?: number;
  onError?: (error: unknown, job: JobRecord | undefined) => void;
}

export interface JobWorker {
  /** Claims and runs every due job once; returns how many ran. Tests drive time through this. */
  runDue(): Promise<number>;
  stop(): Promise<void>;
}

/** 1 s, 2 s, 4 s … at most five minutes between attempts of a failed job. */
const JOB_BACKOFF: Backoff = { firstMs: 1_000, maxMs: 5 * 60_000 };

/**
 * Runs durable jobs in every server process. Several processes may run it at once: a job is
 * leased by exactly one of them; if that process dies, the lease expires and another retries.
 */
export function createJobWorker(options: JobWorkerOptions): JobWorker {
  const leaseMs = options.leaseMs ?? 60_000;
  const batchSize = options.batchSize ?? 20;

  async function runOne(job: JobRecord): Promise<void> {
    const handler = options.handlers[job.kind];
    try {
      if (!handler) throw new Error(`no handler for job kind ${job.kind}`);
      await handler(job);
      await deleteJob(options.db, job.id, job.attempts);
    } catch (error) {
      options.onError?.(error, job);
      const backoff = backoffDelayMs(job.attempts, JOB_BACKOFF);
      await rescheduleJob(options.db, job.id, new Date(options.clock.now().getTime() + backoff), String(error));
    }
  }

  async function runDue(): Promise<number> {
    let total = 0;
    for (;;) {
      const now = options.clock.now();
      const jobs = await claimDueJobs(options.db, now, new Date(now.getTime() + leaseMs), batchSize);
      for (const job of jobs) await runOne(job);
      total += jobs.length;
      if (jobs.length < batchSize) return total;
    }
  }

  const loop = startPollLoop(runDue, options.pollMs, (error) => options.onError?.(error, undefined));
  return { runDue, stop: () => loop.stop() };
}
