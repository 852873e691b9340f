import type { Queryable } from '../db.js';

export interface JobRecord {
  id: number;
  kind: string;
  payload: Record<string, unknown>;
  attempts: number;
}

/**
 * Schedules a job. With a dedupe key, an existing pending job of that key is moved to the new
 * time instead of adding a second one.
 */
export async function insertJob(
  db: Queryable,
  job: { kind: string; payload: Record<string, unknown>; runAt: Date; dedupeKey?: string },
): Promise<void> {
  await db.query(
    `INSERT INTO jobs (kind, payload, run_at, dedupe_key) VALUES ($1, $2, $3, $4)
     ON CONFLICT (dedupe_key) DO UPDATE SET run_at = EXCLUDED.run_at, payload = EXCLUDED.payload`,
    [job.kind, JSON.stringify(job.payload), job.runAt, job.dedupeKey ?? null],
  );
}

/**
 * Claims due jobs by leasing them: their run_at moves to `leaseUntil`, so no other process sees
 * them as due while this one works (SKIP LOCKED keeps two claimers from taking the same row).
 * A process that dies mid-job leaves the lease to expire and the job runs again: handlers must
 * be idempotent.
 */
export async function claimDueJobs(db: Queryable, now: Date, leaseUntil: Date, limit: number): Promise<JobRecord[]> {
  const { rows } = await db.query<JobRecord>(
    `UPDATE jobs SET run_at = $2, attempts = attempts + 1
     WHERE id IN (SELECT id FROM jobs WHERE run_at <= $1 ORDER BY run_at, id LIMIT $3 FOR UPDATE SKIP LOCKED)
     RETURNING id, kind, payload, attempts`,
    [now, leaseUntil, limit],
  );
  return rows;
}

/** Deletes a finished job, unless it was claimed again since (its attempts moved on). */
export async function deleteJob(db: Queryable, id: number, attempts: number): Promise<void> {
  await db.query('DELETE FROM jobs WHERE id = $1 AND attempts = $2', [id, attempts]);
}

export async function rescheduleJob(db: Queryable, id: number, runAt: Date, error: string): Promise<void> {
  await db.query('UPDATE jobs SET run_at = $2, last_error = $3 WHERE id = $1', [id, runAt, error.slice(0, 2000)]);
}
export async function countDueJobs(db: Queryable, now: Date): Promise<number> {
  const { rows } = await db.query<{ n: number }>('SELECT count(*) AS n FROM jobs WHERE run_at <= $1', [now]);
  return rows[0]?.n ?? 0;
}
