/**
 * Operators' view of background jobs (`rallypoint jobs`, never reachable over the API): list
 * them by state, put a dead one back to work, or delete one that is dead or failed.
 */
import { PgCode } from '../db/db.js';
import {
  deleteGivenUpJob,
  reviveDeadJob,
  selectJob,
  selectJobs,
  type JobRow,
  type JobState,
} from '../db/queries/jobs.js';
import { fail, ok, type Result } from '../domain/errors.js';
import type { AppDeps } from './deps.js';

type Deps = Pick<AppDeps, 'db'>;

/** The most `rallypoint jobs list` shows at once. */
export const JOB_LIST_LIMIT = 1_000;

export function listJobs(deps: Deps, options: { state?: JobState; limit?: number } = {}): Promise<JobRow[]> {
  return selectJobs(deps.db, {
    ...(options.state ? { state: options.state } : {}),
    limit: options.limit ?? JOB_LIST_LIMIT,
  });
}

/**
 * A dead job becomes pending now with a fresh count of attempts. Refused for a job in another
 * state, and while a waiting job of its dedupe key exists (that one does the same work).
 */
export async function retryDeadJob(deps: Deps, id: number): Promise<Result<JobRow>> {
  try {
    const revived = await reviveDeadJob(deps.db, id);
    if (revived) return ok(revived);
  } catch (error) {
    if ((error as { code?: string }).code !== PgCode.uniqueViolation) throw error;
    return fail(
      'CONFLICT',
      `Job ${id} cannot be retried: a waiting job with its dedupe key already does the same work.`,
    );
  }
  const found = await selectJob(deps.db, id);
  if (!found) return fail('JOB_NOT_FOUND', `No job has id ${id}.`);
  return fail('JOB_NOT_DEAD', `Job ${id} is ${found.state}; only a dead job can be retried.`);
}

/**
 * Deletes a dead job, or a failed one waiting for its next attempt (its work is given up).
 * Refused for a pending or running job: that one is still to be done, or being done.
 */
export async function deleteGivenUpJobById(deps: Deps, id: number): Promise<Result<JobRow>> {
  const deleted = await deleteGivenUpJob(deps.db, id);
  if (deleted) return ok(deleted);
  const found = await selectJob(deps.db, id);
  if (!found) return fail('JOB_NOT_FOUND', `No job has id ${id}.`);
  return fail('JOB_NOT_GIVEN_UP', `Job ${id} is ${found.state}; only a dead or failed job can be deleted.`);
}
