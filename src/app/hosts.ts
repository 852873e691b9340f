/**
 * The fleet's hosts: what health checks report about them. A host that cannot be reached is
 * marked down and its live deployments end with the reason; nothing new is scheduled there
 * until it answers again.
 */
import { lockHost, selectDeploymentIdsOnHost, updateHostState } from '../db/queries/hosts.js';
import type { HostRecord } from '../domain/records.js';
import { DeploymentStatus, LIVE_DEPLOYMENT_STATUSES } from '../domain/session-rules.js';
import { endDeploymentIn } from './deployment-lifecycle.js';
import type { AppDeps } from './deps.js';

/**
 * Marks the host down (unreachable since now, unless already) and turns each of its live
 * deployments Status.ERROR with `detail`; their sessions turn Error and webhooks fire, as for
 * any failed deployment. Returns the host as it is now, undefined when it does not exist.
 */
export async function markHostUnreachable(
  deps: AppDeps,
  hostId: number,
  detail: string,
): Promise<HostRecord | undefined> {
  return deps.db.transaction(async (tx) => {
    // The host row first: the scheduler locks it before inserting a deployment there, so none
    // can appear on this host between reading its deployments and ending them.
    const host = await lockHost(tx, hostId);
    if (!host) return undefined;
    const now = deps.clock.now();
    const down = await updateHostState(tx, { id: hostId, state: 'down', detail, now, unreachableSince: now });
    const reason = `Host ${host.name} is unreachable: ${detail}`;
    for (const id of await selectDeploymentIdsOnHost(tx, hostId, LIVE_DEPLOYMENT_STATUSES)) {
      await endDeploymentIn(deps, tx, id, { status: DeploymentStatus.error, detail: reason });
    }
    return down;
  });
}

/**
 * The host answers again: back to active when it was down because it was unreachable. A host
 * an operator is draining, or that is active already, is left as it is (only its
 * unreachable_since is cleared).
 */
export async function markHostReachable(deps: AppDeps, hostId: number): Promise<HostRecord | undefined> {
  const now = deps.clock.now();
  const revived = await updateHostState(deps.db, {
    id: hostId,
    state: 'active',
    detail: null,
    now,
    fromStates: ['down'],
    unreachableSince: null,
  });
  return revived ?? (await clearUnreachableSince(deps, hostId));
}

async function clearUnreachableSince(deps: AppDeps, hostId: number): Promise<HostRecord | undefined> {
  return deps.db.transaction(async (tx) => {
    const host = await lockHost(tx, hostId);
    if (!host || host.unreachableSince === null) return host;
    return updateHostState(tx, {
      id: hostId,
      state: host.state,
      detail: host.stateDetail,
      now: deps.clock.now(),
      unreachableSince: null,
    });
  });
}
