/**
 * Connects the docker provider to the use cases: what it observes about containers and hosts
 * becomes deployment and host state changes (deployment-lifecycle, hosts), like any provider's
 * reports; and its periodic reconciliation is a durable job, one row per time slot shared by
 * every server process (as the lifetime sweep is).
 */
import type { AppDeps } from '../../app/deps.js';
import { markDeploymentFailed, markDeploymentReady, recordDeploymentStarted } from '../../app/deployment-lifecycle.js';
import { markHostReachable, markHostUnreachable } from '../../app/hosts.js';
import type { Config } from '../../config.js';
import type { Queryable } from '../../db/db.js';
import {
  selectDeploymentByRequestIdInAnyOrg,
  selectDeploymentStatusesByRequestIds,
  selectLiveDeploymentsOfProvider,
} from '../../db/queries/deployments.js';
import { selectHostById, selectHosts, updateHostState } from '../../db/queries/hosts.js';
import { insertJob } from '../../db/queries/jobs.js';
import type { HostRecord } from '../../domain/records.js';
import { isLiveDeployment } from '../../domain/session-rules.js';
import type { JobHandler } from '../../jobs/worker.js';
import { listeningPublicUrl } from '../process/wiring.js';
import { createDockerProvider, DOCKER_PROVIDER, type DockerProvider, type DockerReporter } from './docker-provider.js';

export const DOCKER_RECONCILE_JOB = 'docker.reconcile';

/** Schedules the reconciliation of the slot `at` falls in (or the next one); every process computes the same slots. */
export async function scheduleDockerReconcile(
  db: Queryable,
  options: { at: Date; intervalMs: number; nextSlot: boolean },
): Promise<void> {
  const slot = Math.floor(options.at.getTime() / options.intervalMs) + (options.nextSlot ? 1 : 0);
  const runAt = options.nextSlot ? new Date(slot * options.intervalMs) : options.at;
  await insertJob(db, { kind: DOCKER_RECONCILE_JOB, payload: {}, runAt, dedupeKey: `${DOCKER_RECONCILE_JOB}:${slot}` });
}

function dockerReporter(deps: AppDeps, config: Config, log: DockerReporter['log']): DockerReporter {
  const liveId = async (requestId: string) => {
    const deployment = await selectDeploymentByRequestIdInAnyOrg(deps.db, requestId);
    return deployment && isLiveDeployment(deployment.status) ? deployment.id : undefined;
  };
  return {
    async ready(requestId, started) {
      const id = await liveId(requestId);
      if (id === undefined) return;
      await recordDeploymentStarted(deps, id, started);
      await markDeploymentReady(deps, id);
    },
    async failed(requestId, detail) {
      const id = await liveId(requestId);
      if (id !== undefined) await markDeploymentFailed(deps, id, detail);
    },
    async hostAnswered(host: HostRecord) {
      if (host.state === 'down' || host.unreachableSince !== null) await markHostReachable(deps, host.id);
    },
    async hostUnanswered(host: HostRecord, detail: string) {
      if (host.state === 'down') return;
      const now = deps.clock.now();
      // unreachable_since keeps the first miss, so the delay counts across processes and restarts.
      const noted = await updateHostState(deps.db, {
        id: host.id,
        state: host.state,
        detail: host.stateDetail,
        now,
        fromStates: [host.state],
        unreachableSince: now,
      });
      const since = noted?.unreachableSince ?? now;
      if (now.getTime() - since.getTime() >= config.docker.hostDownAfterMs) {
        await markHostUnreachable(
          deps,
          host.id,
          `its engine did not answer for ${Math.round((now.getTime() - since.getTime()) / 1000)} s: ${detail}`,
        );
      }
    },
    log,
  };
}

/**
 * Registers the docker provider; returns its job handlers and what to schedule once the job
 * worker runs.
 */
export function addDockerProvider(
  deps: AppDeps,
  config: Config,
  hooks: { log: (message: string, error?: unknown) => void; listeningPort: () => number | undefined },
): { provider: DockerProvider; jobHandlers: Record<string, JobHandler>; schedule: () => Promise<void> } {
  const provider = createDockerProvider({
    config: config.docker,
    callbackUrl: () => listeningPublicUrl(config.docker.callbackUrl ?? config.publicUrl, hooks.listeningPort()),
    reporter: dockerReporter(deps, config, hooks.log),
    hostById: (id) => selectHostById(deps.db, id),
    hosts: () => selectHosts(deps.db),
    liveDeployments: () => selectLiveDeploymentsOfProvider(deps.db, DOCKER_PROVIDER),
    deploymentStatuses: (ids) => selectDeploymentStatusesByRequestIds(deps.db, ids),
    now: () => deps.clock.now(),
  });
  deps.providers.add(provider);
  const intervalMs = config.docker.reconcileMs;
  return {
    provider,
    jobHandlers: {
      [DOCKER_RECONCILE_JOB]: async () => {
        await scheduleDockerReconcile(deps.db, { at: deps.clock.now(), intervalMs, nextSlot: true });
        await provider.reconcileHosts();
      },
    },
    schedule: () => scheduleDockerReconcile(deps.db, { at: deps.clock.now(), intervalMs, nextSlot: true }),
  };
}
