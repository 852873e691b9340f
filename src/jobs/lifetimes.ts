/**
 * Lifetimes (docs/wire-contract.md#lifetimes) and heartbeats, as one periodic sweep.
 *
 * Why a sweep and not one timer row per deployment or session: every deadline is already a
 * column the core moves in the same transaction as the change behind it (deployments.emptied_at
 * on releaseSeats/updateDeploymentStatus, sessions.ended_at when a deployment ends,
 * deployments.heartbeat_at on each heartbeat). Per-entity timer rows would be a second copy of
 * those deadlines that every such change (in files this module does not own) would have to keep
 * in step, and a version whose empty_ttl is changed later would keep stale timers. The sweep
 * reads the deadlines where they live, so it can be neither early nor lost, at the cost of up to
 * one interval (LIFETIME_SWEEP_MS) of lateness.
 *
 * Durability and "once": the sweep itself is a row in `jobs`, keyed by its time slot
 * (`lifetimes.sweep:<slot>`), so every server process schedules the same rows, restarts resume
 * the chain, and SKIP LOCKED gives each slot to one process. Even when two processes do run a
 * sweep at once (a lease expired, a start-up insert re-armed a leased row), each action locks
 * the row, re-checks its deadline under the lock and changes state conditionally, so it happens
 * once: the second sees the deployment already ended, the session already gone.
 */
import type { Queryable } from '../db/db.js';
import { lockDeployment } from '../db/queries/deployments.js';
import { insertJob } from '../db/queries/jobs.js';
import { selectExpiredEmptyDeploymentIds, selectStaleHeartbeatDeploymentIds } from '../db/queries/lifetimes.js';
import { deleteExpiredSessions } from '../db/queries/sessions.js';
import type { AppDeps } from '../app/deps.js';
import { endDeploymentIn } from '../app/deployment-lifecycle.js';
import { DeploymentStatus } from '../domain/session-rules.js';
import type { JobHandler } from './worker.js';

export const LIFETIME_SWEEP_JOB = 'lifetimes.sweep';
/** Deployments handled per kind per sweep; the rest wait for the next slot. */
const BATCH = 200;

/**
 * Schedules the sweep of the slot `at` falls in (or the next one). Every process computes the
 * same slots, so the dedupe key merges their chains into one row per slot.
 */
export async function scheduleLifetimeSweep(
  db: Queryable,
  options: { at: Date; intervalMs: number; nextSlot: boolean },
): Promise<void> {
  const slot = Math.floor(options.at.getTime() / options.intervalMs) + (options.nextSlot ? 1 : 0);
  const runAt = options.nextSlot ? new Date(slot * options.intervalMs) : options.at;
  await insertJob(db, { kind: LIFETIME_SWEEP_JOB, payload: {}, runAt, dedupeKey: `${LIFETIME_SWEEP_JOB}:${slot}` });
}

type Finder = (db: Queryable, query: { now: Date; limit: number; deploymentId?: number }) => Promise<number[]>;

/** Ends each deployment `find` reports, re-checking it under the row lock first. Returns how many it ended. */
async function endEach(
  deps: AppDeps,
  now: Date,
  find: Finder,
  outcome: (id: number) => Parameters<typeof endDeploymentIn>[3],
): Promise<number> {
  let ended = 0;
  for (const id of await find(deps.db, { now, limit: BATCH })) {
    const changed = await deps.db.transaction(async (tx) => {
      await lockDeployment(tx, id);
      if ((await find(tx, { now, limit: 1, deploymentId: id })).length === 0) return undefined;
      return endDeploymentIn(deps, tx, id, outcome(id));
    });
    if (changed) ended++;
  }
  return ended;
}

export interface SweepOutcome {
  heartbeatsMissed: number;
  emptyStopped: number;
  sessionsRemoved: number;
}

/** One sweep at the clock's now. Each part runs even when another fails; the first failure is rethrown so the job retries. */
export async function sweepLifetimes(deps: AppDeps): Promise<SweepOutcome> {
  const now = deps.clock.now();
  const outcome: SweepOutcome = { heartbeatsMissed: 0, emptyStopped: 0, sessionsRemoved: 0 };
  const failures: unknown[] = [];
  const part = async (run: () => Promise<void>) => {
    try {
      await run();
    } catch (error) {
      failures.push(error);
    }
  };
  await part(async () => {
    outcome.heartbeatsMissed = await endEach(deps, now, selectStaleHeartbeatDeploymentIds, () => ({
      status: DeploymentStatus.error,
      detail: 'The registered server stopped sending heartbeats.',
    }));
  });
  await part(async () => {
    outcome.emptyStopped = await endEach(deps, now, selectExpiredEmptyDeploymentIds, () => ({
      status: DeploymentStatus.terminating,
      detail: 'The deployment was stopped after staying empty for its empty_ttl.',
    }));
  });
  await part(async () => {
    outcome.sessionsRemoved = await deleteExpiredSessions(deps.db, now);
  });
  if (failures.length > 0) throw failures[0];
  return outcome;
}

export function lifetimeJobHandlers(deps: AppDeps, intervalMs: number): Record<string, JobHandler> {
  return {
    [LIFETIME_SWEEP_JOB]: async () => {
      // The next slot first: a failing sweep is retried by the worker and the chain goes on.
      await scheduleLifetimeSweep(deps.db, { at: deps.clock.now(), intervalMs, nextSlot: true });
      await sweepLifetimes(deps);
    },
  };
}
