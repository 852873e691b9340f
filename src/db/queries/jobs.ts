import { PgCode, type Queryable } from '../db.js';

/** The states of migration 009; docs/reliability.md, "Background jobs", says what each means. */
export const JOB_STATES = ['pending', 'running', 'failed', 'dead'] as const;
export type JobState = (typeof JOB_STATES)[number];

/** Workers LISTEN here; adding a job or putting one back NOTIFYs it so idle workers look now. */
export const JOBS_CHANNEL = 'rallypoint_jobs';

/** A job as its worker holds it: `lockedBy` and `attempts` together name this claim of it. */
export interface JobRecord {
  id: number;
  kind: string;
  payload: Record<string, unknown>;
  /** Attempts so far, this one included. */
  attempts: number;
  maxAttempts: number;
  lockedBy: string;
}

/** Every column, for operators (`rallypoint jobs list`). */
export interface JobRow {
  id: number;
  kind: string;
  state: JobState;
  dedupeKey: string | null;
  payload: Record<string, unknown>;
  attempts: number;
  maxAttempts: number;
  runAt: Date;
  lockedBy: string | null;
  lockedAt: Date | null;
  lastError: string | null;
  createdAt: Date;
  updatedAt: Date;
}

const ROW_COLUMNS = `id, kind, state, dedupe_key AS "dedupeKey", payload, attempts, max_attempts AS "maxAttempts", run_at AS "runAt",
  locked_by AS "lockedBy", locked_at AS "lockedAt", last_error AS "lastError", created_at AS "createdAt", updated_at AS "updatedAt"`;

/**
 * Schedules a job and wakes idle workers (NOTIFY, delivered when the caller's transaction
 * commits). With a dedupe key, a waiting (pending or failed) job of that key is moved to the
 * new time and payload instead of adding a second one; a running or dead job of that key does
 * not stop a new one.
 */
export async function insertJob(
  db: Queryable,
  job: { kind: string; payload: Record<string, unknown>; runAt: Date; dedupeKey?: string; maxAttempts?: number },
): Promise<void> {
  await db.query(
    `WITH job AS (
       INSERT INTO jobs (kind, payload, run_at, dedupe_key, max_attempts) VALUES ($1, $2, $3, $4, coalesce($5, 25))
       ON CONFLICT (dedupe_key) WHERE state IN ('pending', 'failed')
       DO UPDATE SET run_at = EXCLUDED.run_at, payload = EXCLUDED.payload, updated_at = now()
       RETURNING id)
     SELECT pg_notify('${JOBS_CHANNEL}', '') FROM job`,
    [job.kind, JSON.stringify(job.payload), job.runAt, job.dedupeKey ?? null, job.maxAttempts ?? null],
  );
}

/**
 * Claims up to `limit` due waiting jobs for `lockedBy`: each becomes `running` with the lock
 * taken at `now`, its attempt counted. SKIP LOCKED keeps two claimers from taking one row; a
 * job whose key is running elsewhere waits for that run to end.
 */
export async function claimDueJobs(db: Queryable, lockedBy: string, now: Date, limit: number): Promise<JobRecord[]> {
  const { rows } = await db.query<JobRecord>(
    `UPDATE jobs SET state = 'running', locked_by = $1, locked_at = $2, attempts = attempts + 1, updated_at = $2
     WHERE id IN (
       SELECT id FROM jobs j
       WHERE state IN ('pending', 'failed') AND run_at <= $2
         AND (dedupe_key IS NULL OR NOT EXISTS (SELECT 1 FROM jobs r WHERE r.state = 'running' AND r.dedupe_key = j.dedupe_key))
       ORDER BY run_at, id LIMIT $3 FOR UPDATE SKIP LOCKED)
     RETURNING id, kind, payload, attempts, max_attempts AS "maxAttempts", locked_by AS "lockedBy"`,
    [lockedBy, now, limit],
  );
  return rows;
}

/** Renews a running job's lock so no other worker takes it for dead; false if it was lost. */
export async function renewJobLock(db: Queryable, job: JobRecord, now: Date): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE jobs SET locked_at = $4 WHERE id = $1 AND state = 'running' AND locked_by = $2 AND attempts = $3`,
    [job.id, job.lockedBy, job.attempts, now],
  );
  return rowCount > 0;
}

/** Deletes a finished job, unless its lock was lost (another worker took it since). */
export async function deleteJob(db: Queryable, job: JobRecord): Promise<void> {
  await db.query(`DELETE FROM jobs WHERE id = $1 AND state = 'running' AND locked_by = $2 AND attempts = $3`, [
    job.id,
    job.lockedBy,
    job.attempts,
  ]);
}

export type FailOutcome = 'failed' | 'dead' | 'superseded' | 'lost';

/**
 * Records a failed attempt: `failed` until `retryAt`, or `dead` once it has had max_attempts.
 * `lockedBefore` (lease expiry) fails it only if its lock was not renewed since. Outcomes:
 * `superseded`, a job of its key was added while it ran and does the work instead (this one is
 * deleted); `lost`, the job is no longer held by that claim and nothing changed.
 */
export async function failJob(
  db: Queryable,
  job: Pick<JobRecord, 'id' | 'lockedBy' | 'attempts'>,
  failure: { error: string; retryAt: Date; now: Date; lockedBefore?: Date },
): Promise<FailOutcome> {
  const claim = [job.id, job.lockedBy, job.attempts, failure.lockedBefore ?? null] as const;
  const held = `id = $1 AND state = 'running' AND locked_by = $2 AND attempts = $3 AND ($4::timestamptz IS NULL OR locked_at <= $4)`;
  try {
    const { rows } = await db.query<{ state: FailOutcome }>(
      `UPDATE jobs SET state = CASE WHEN attempts >= max_attempts THEN 'dead' ELSE 'failed' END,
         run_at = CASE WHEN attempts >= max_attempts THEN run_at ELSE $5 END,
         last_error = $6, locked_by = NULL, locked_at = NULL, updated_at = $7
       WHERE ${held} RETURNING state`,
      [...claim, failure.retryAt, failure.error.slice(0, 2000), failure.now],
    );
    return rows[0]?.state ?? 'lost';
  } catch (error) {
    if ((error as { code?: string }).code !== PgCode.uniqueViolation) throw error;
    const { rowCount } = await db.query(`DELETE FROM jobs WHERE ${held}`, claim);
    return rowCount > 0 ? 'superseded' : 'lost';
  }
}

/** Running jobs whose lock is older than `lockedBefore`: their worker died or stalled. */
export async function selectExpiredJobLocks(
  db: Queryable,
  lockedBefore: Date,
  limit: number,
): Promise<Array<JobRecord & { lockedAt: Date }>> {
  const { rows } = await db.query<JobRecord & { lockedAt: Date }>(
    `SELECT id, kind, payload, attempts, max_attempts AS "maxAttempts", locked_by AS "lockedBy", locked_at AS "lockedAt" FROM jobs
     WHERE state = 'running' AND locked_at <= $1 ORDER BY locked_at, id LIMIT $2`,
    [lockedBefore, limit],
  );
  return rows;
}

/**
 * When the next job work falls due: the earliest run_at of a waiting job and the earliest lock
 * of a running one (it expires a lease later). Two reads of the partial indexes of migration 009.
 */
export async function selectNextJobTimes(
  db: Queryable,
): Promise<{ waitingRunAt: Date | null; runningLockedAt: Date | null }> {
  const { rows } = await db.query<{ waitingRunAt: Date | null; runningLockedAt: Date | null }>(
    `SELECT (SELECT min(run_at) FROM jobs WHERE state IN ('pending', 'failed')) AS "waitingRunAt",
            (SELECT min(locked_at) FROM jobs WHERE state = 'running') AS "runningLockedAt"`,
  );
  return rows[0] ?? { waitingRunAt: null, runningLockedAt: null };
}

/**
 * Deletes up to `limit` jobs that have been dead since before `deadBefore` (updated_at is when
 * they died, or were last retried); returns how many. Migration 013's index finds them.
 */
export async function deleteDeadJobsBefore(db: Queryable, deadBefore: Date, limit: number): Promise<number> {
  const { rowCount } = await db.query(
    `DELETE FROM jobs WHERE id IN (
       SELECT id FROM jobs WHERE state = 'dead' AND updated_at < $1 ORDER BY updated_at LIMIT $2 FOR UPDATE SKIP LOCKED)`,
    [deadBefore, limit],
  );
  return rowCount;
}

/**
 * Deletes a dead or failed job (an operator gives up on it). Undefined unless the job exists
 * in one of those states: a pending or running one is left alone.
 */
export async function deleteGivenUpJob(db: Queryable, id: number): Promise<JobRow | undefined> {
  const { rows } = await db.query<JobRow>(
    `DELETE FROM jobs WHERE id = $1 AND state IN ('dead', 'failed') RETURNING ${ROW_COLUMNS}`,
    [id],
  );
  return rows[0];
}

export async function countDueJobs(db: Queryable, now: Date): Promise<number> {
  const { rows } = await db.query<{ n: number }>(
    `SELECT count(*) AS n FROM jobs WHERE state IN ('pending', 'failed') AND run_at <= $1`,
    [now],
  );
  return rows[0]?.n ?? 0;
}

export async function countJobsByState(db: Queryable): Promise<Array<{ state: JobState; count: number }>> {
  const { rows } = await db.query<{ state: JobState; count: number }>(
    'SELECT state, count(*) AS count FROM jobs GROUP BY state',
  );
  return rows;
}

/** Jobs in id order, optionally of one state; at most `limit`. */
export async function selectJobs(db: Queryable, options: { state?: JobState; limit: number }): Promise<JobRow[]> {
  const { rows } = await db.query<JobRow>(
    `SELECT ${ROW_COLUMNS} FROM jobs WHERE ($1::text IS NULL OR state = $1) ORDER BY id LIMIT $2`,
    [options.state ?? null, options.limit],
  );
  return rows;
}

export async function selectJob(db: Queryable, id: number): Promise<JobRow | undefined> {
  const { rows } = await db.query<JobRow>(`SELECT ${ROW_COLUMNS} FROM jobs WHERE id = $1`, [id]);
  return rows[0];
}

/**
 * Puts a dead job back: pending now, with a fresh count of attempts (last_error stays until
 * the next failure), and wakes the workers. Undefined unless the job exists and is dead.
 */
export async function reviveDeadJob(db: Queryable, id: number): Promise<JobRow | undefined> {
  const { rows } = await db.query<JobRow>(
    `WITH job AS (
       UPDATE jobs SET state = 'pending', attempts = 0, run_at = now(), updated_at = now()
       WHERE id = $1 AND state = 'dead' RETURNING ${ROW_COLUMNS})
     SELECT job.*, pg_notify('${JOBS_CHANNEL}', '') FROM job`,
    [id],
  );
  if (!rows[0]) return undefined;
  const { pg_notify: _notified, ...row } = rows[0] as JobRow & { pg_notify?: unknown };
  return row;
}
