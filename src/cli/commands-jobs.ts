/**
 * `rallypoint jobs …`: the background jobs of a Rallypoint, for its operator. Works on the
 * database directly (see local-db.ts), like `admin`.
 */
import { deleteGivenUpJobById, listJobs, retryDeadJob } from '../app/jobs-admin.js';
import { JOB_STATES, type JobRow, type JobState } from '../db/queries/jobs.js';
import type { Result } from '../domain/errors.js';
import { str, UsageError, type Command } from './command.js';
import { LOCAL_DB_HELP, LOCAL_DB_OPTIONS, OperatorError, withLocalDb } from './local-db.js';
import { details, emit, table } from './output.js';

function unwrap<T>(result: Result<T>): T {
  if (!result.ok) throw new OperatorError(`${result.error.message} (${result.error.code})`);
  return result.value;
}

function jobView(job: JobRow) {
  return {
    id: job.id,
    kind: job.kind,
    state: job.state,
    dedupe_key: job.dedupeKey,
    payload: job.payload,
    attempts: job.attempts,
    max_attempts: job.maxAttempts,
    run_at: job.runAt.toISOString(),
    locked_by: job.lockedBy,
    locked_at: job.lockedAt?.toISOString() ?? null,
    last_error: job.lastError,
    created_at: job.createdAt.toISOString(),
    updated_at: job.updatedAt.toISOString(),
  };
}

/** The first line of an error, short enough for a table cell. */
function firstLine(text: string | null, max = 80): string | null {
  if (text === null) return null;
  const line = text.split('\n', 1)[0] ?? '';
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

function parseId(raw: string): number {
  if (!/^[1-9][0-9]{0,15}$/.test(raw)) throw new UsageError(`ID must be a job id (a positive integer), got "${raw}"`);
  return Number(raw);
}

export const jobCommands: Command[] = [
  {
    path: ['jobs', 'list'],
    summary: 'List background jobs with their state, attempts, lock and last error',
    example: 'rallypoint jobs list --state dead',
    takesGlobalOptions: false,
    options: { ...LOCAL_DB_OPTIONS, state: { type: 'string' } },
    optionHelp: [`--state <state>  only jobs in this state: ${JOB_STATES.join(', ')}`, ...LOCAL_DB_HELP],
    async run(ctx) {
      const state = str(ctx, 'state');
      if (state !== undefined && !(JOB_STATES as readonly string[]).includes(state)) {
        throw new UsageError(`--state must be one of ${JOB_STATES.join(', ')}, got "${state}"`);
      }
      const jobs = (await withLocalDb(ctx, (db) => listJobs({ db }, state ? { state: state as JobState } : {}))).map(
        jobView,
      );
      emit(ctx, { jobs }, () =>
        table(
          ['ID', 'KIND', 'STATE', 'ATTEMPTS', 'RUN_AT', 'LOCKED_BY', 'LAST_ERROR'],
          jobs.map((j) => [
            j.id,
            j.kind,
            j.state,
            `${j.attempts}/${j.max_attempts}`,
            j.run_at,
            j.locked_by,
            firstLine(j.last_error),
          ]),
        ),
      );
    },
  },
  {
    path: ['jobs', 'retry'],
    summary: 'Put a dead background job back to pending, with a fresh count of attempts',
    args: '<id>',
    minArgs: 1,
    example: 'rallypoint jobs retry 42',
    takesGlobalOptions: false,
    options: LOCAL_DB_OPTIONS,
    optionHelp: LOCAL_DB_HELP,
    async run(ctx) {
      const id = parseId(ctx.positionals[0]!);
      const job = jobView(unwrap(await withLocalDb(ctx, (db) => retryDeadJob({ db }, id))));
      emit(
        ctx,
        job,
        () =>
          `Job ${job.id} (${job.kind}) is pending again.\n` +
          details([
            ['run_at', job.run_at],
            ['last_error', firstLine(job.last_error)],
          ]),
      );
    },
  },
  {
    path: ['jobs', 'delete'],
    summary: 'Delete a dead or failed background job: its work is given up',
    args: '<id>',
    minArgs: 1,
    example: 'rallypoint jobs delete 42',
    takesGlobalOptions: false,
    options: LOCAL_DB_OPTIONS,
    optionHelp: LOCAL_DB_HELP,
    async run(ctx) {
      const id = parseId(ctx.positionals[0]!);
      const job = jobView(unwrap(await withLocalDb(ctx, (db) => deleteGivenUpJobById({ db }, id))));
      emit(
        ctx,
        job,
        () =>
          `Job ${job.id} (${job.kind}, ${job.state}) is deleted.\n` +
          details([['last_error', firstLine(job.last_error)]]),
      );
    },
  },
];
