/**
 * Deployment state changes and what follows from them for its sessions. Providers, the stop
 * routes and background jobs all go through here, so sessions always follow their deployment.
 */
import type { Tx } from '../db/db.js';
import {
  lockDeployment,
  recountDeploymentUsage,
  selectDeploymentById,
  updateDeploymentProviderData,
  updateDeploymentStatus,
} from '../db/queries/deployments.js';
import { releaseHostAllocation } from '../db/queries/hosts.js';
import { insertJob } from '../db/queries/jobs.js';
import { markSessionsFailed, markSessionsReady } from '../db/queries/sessions.js';
import type { DeploymentRecord } from '../domain/records.js';
import { DeploymentStatus, isLiveDeployment } from '../domain/session-rules.js';
import type { StartedDeployment } from '../providers/provider.js';
import { emitDeployment, emitSession, type AppDeps } from './deps.js';

export const STOP_DEPLOYMENT_JOB = 'deployment.stop';

/**
 * Records what a provider started: its ports, address and provider data, flagged as started so
 * the start job is not run twice. The start job does it once start() returns, and a provider's
 * ready report does it too, since a fast game server can be ready first and its sessions must
 * not turn Ready with no ports to show.
 */
export async function recordDeploymentStarted(
  deps: AppDeps,
  deploymentId: number,
  started: StartedDeployment,
): Promise<void> {
  await updateDeploymentProviderData(deps.db, deploymentId, {
    providerData: { ...started.providerData, started: true },
    ports: started.ports,
    publicIp: started.publicIp,
    fqdn: started.fqdn,
  });
}

/** A deploying deployment became ready: its waiting sessions become Ready. */
export async function markDeploymentReady(deps: AppDeps, deploymentId: number): Promise<DeploymentRecord | undefined> {
  return deps.db.transaction(async (tx) => {
    const current = await lockDeployment(tx, deploymentId);
    if (!current || current.status === DeploymentStatus.ready || !isLiveDeployment(current.status)) return current;
    const ready = await updateDeploymentStatus(tx, {
      id: deploymentId,
      status: DeploymentStatus.ready,
      now: deps.clock.now(),
    });
    if (!ready) return current;
    await emitDeployment(deps, tx, 'ready', ready);
    for (const session of await markSessionsReady(tx, deploymentId))
      await emitSession(deps, tx, 'ready', session, ready);
    return ready;
  });
}

/**
 * Ends a live deployment inside `tx`: status ERROR (it failed) or TERMINATING (asked to stop).
 * Its sessions turn Error and give back their seats; they stay readable for the version's
 * session_max_duration. Returns undefined when it had already ended.
 */
export async function endDeploymentIn(
  deps: AppDeps,
  tx: Tx,
  deploymentId: number,
  outcome: { status: typeof DeploymentStatus.error | typeof DeploymentStatus.terminating; detail: string },
): Promise<{ before: DeploymentRecord; after: DeploymentRecord } | undefined> {
  const before = await lockDeployment(tx, deploymentId);
  if (!before || !isLiveDeployment(before.status)) return undefined;
  const now = deps.clock.now();
  const after = await updateDeploymentStatus(tx, {
    id: deploymentId,
    status: outcome.status,
    errorDetail: outcome.status === DeploymentStatus.error ? outcome.detail : null,
    now,
  });
  if (!after) return undefined;
  for (const session of await markSessionsFailed(tx, deploymentId, outcome.detail, now))
    await emitSession(deps, tx, 'error', session, after);
  await recountDeploymentUsage(tx, deploymentId);
  const final = (await selectDeploymentById(tx, deploymentId)) ?? after;
  await emitDeployment(deps, tx, outcome.status === DeploymentStatus.error ? 'error' : 'stopped', final);
  // The provider is told to stop in a durable job, so a crash between here and there loses nothing.
  await insertJob(tx, {
    kind: STOP_DEPLOYMENT_JOB,
    payload: { deploymentId },
    runAt: now,
    dedupeKey: `stop:${deploymentId}`,
  });
  return { before, after: final };
}

export async function markDeploymentFailed(deps: AppDeps, deploymentId: number, detail: string): Promise<void> {
  await deps.db.transaction((tx) =>
    endDeploymentIn(deps, tx, deploymentId, { status: DeploymentStatus.error, detail }),
  );
}

/**
 * Job handler: asks the provider to stop the game server, gives back what it held on its host,
 * then records it as terminated. The host's capacity is released only once the provider says
 * the game server is gone, so a container that failed to stop keeps its ports and memory booked.
 */
export async function stopDeploymentNow(deps: AppDeps, deploymentId: number): Promise<void> {
  const deployment = await selectDeploymentById(deps.db, deploymentId);
  if (!deployment || deployment.status === DeploymentStatus.terminated) return;
  const provider = deps.providers.get(deployment.provider);
  if (provider) await provider.stop(deployment);
  // Without its provider in this process the game server may still run: its capacity stays booked.
  if (provider && deployment.hostId !== null) await releaseHostAllocation(deps.db, deploymentId);
  if (deployment.status === DeploymentStatus.terminating) {
    await updateDeploymentStatus(deps.db, {
      id: deploymentId,
      status: DeploymentStatus.terminated,
      now: deps.clock.now(),
    });
  }
}
