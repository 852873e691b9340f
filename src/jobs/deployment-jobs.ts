import { selectDeploymentById, selectDeploymentEnv, updateDeploymentProviderData } from '../db/queries/deployments.js';
import { selectVersionById } from '../db/queries/versions.js';
import type { AppDeps } from '../app/deps.js';
import {
  markDeploymentFailed,
  recordDeploymentStarted,
  STOP_DEPLOYMENT_JOB,
  stopDeploymentNow,
} from '../app/deployment-lifecycle.js';
import { START_DEPLOYMENT_JOB } from '../app/placement.js';
import { isLiveDeployment } from '../domain/session-rules.js';
import { issueGameServerAccess } from '../providers/game-server-env.js';
import type { JobHandler } from './worker.js';

const idOf = (payload: Record<string, unknown>) => Number(payload['deploymentId']);

/** Asks the deployment's provider to start its game server; a failure ends the deployment. */
async function startDeployment(deps: AppDeps, deploymentId: number): Promise<void> {
  const deployment = await selectDeploymentById(deps.db, deploymentId);
  if (!deployment || !isLiveDeployment(deployment.status) || deployment.providerData['started']) return;
  const provider = deps.providers.get(deployment.provider);
  const version = await selectVersionById(deps.db, deployment.versionId);
  if (!provider || !version) {
    await markDeploymentFailed(deps, deploymentId, `Provider ${deployment.provider} is not configured on this server.`);
    return;
  }
  try {
    // The hashes are stored before the game server exists, so its first call can be checked.
    const { access, stored } = issueGameServerAccess();
    await updateDeploymentProviderData(deps.db, deploymentId, { providerData: stored });
    const started = await provider.start(deployment, version, await selectDeploymentEnv(deps.db, deploymentId), access);
    await recordDeploymentStarted(deps, deploymentId, started);
  } catch (error) {
    await markDeploymentFailed(
      deps,
      deploymentId,
      `The provider could not start the deployment: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}

export function deploymentJobHandlers(deps: AppDeps): Record<string, JobHandler> {
  return {
    [START_DEPLOYMENT_JOB]: (job) => startDeployment(deps, idOf(job.payload)),
    [STOP_DEPLOYMENT_JOB]: (job) => stopDeploymentNow(deps, idOf(job.payload)),
  };
}
