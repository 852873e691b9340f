/**
 * What a running game server, and its owner, can ask about it: the game server's own context and
 * self-stop (authenticated by the per-deployment tokens it was started with), and its logs and
 * resource use (authenticated by the organisation's key, through its provider).
 */
import { selectDeploymentByRequestIdInAnyOrg } from '../db/queries/deployments.js';
import { fail, ok, type Result } from '../domain/errors.js';
import type { DeploymentRecord } from '../domain/records.js';
import { DeploymentStatus, isLiveDeployment } from '../domain/session-rules.js';
import { tokenMatches } from '../providers/game-server-env.js';
import type { DeploymentLogs, DeploymentMetricsSample } from '../providers/provider.js';
import type { AppDeps } from './deps.js';
import { endDeploymentIn } from './deployment-lifecycle.js';
import { findDeployment } from './deployments.js';

const WRONG_CONTEXT = 'Unknown deployment or wrong ARBITRIUM_CONTEXT_TOKEN.';
const WRONG_DELETE = 'Unknown deployment or wrong ARBITRIUM_DELETE_TOKEN.';

/** The path number must be the one handed out with the token; both are checked, unknown and wrong answer alike. */
function numberMatches(stored: unknown, given: number | undefined): boolean {
  return given === undefined || (typeof stored === 'number' && stored === given);
}

/** GET /v1/context/{request_id}/{security_number}: the deployment, for its own game server. */
export async function gameServerContext(
  deps: AppDeps,
  requestId: string,
  securityNumber: number,
  token: string | undefined,
): Promise<Result<DeploymentRecord>> {
  const deployment = await selectDeploymentByRequestIdInAnyOrg(deps.db, requestId);
  const data = deployment?.providerData ?? {};
  if (
    !deployment ||
    !numberMatches(data['securityNumber'], securityNumber) ||
    !tokenMatches(token, data['contextTokenHash'])
  ) {
    return fail('UNAUTHORIZED', WRONG_CONTEXT);
  }
  return ok(deployment);
}

/**
 * A game server ends its own deployment, as if stopped through DELETE /v1/stop. `accessPointId`
 * is checked when the caller used the path that carries it.
 */
export async function selfStopDeployment(
  deps: AppDeps,
  requestId: string,
  token: string | undefined,
  accessPointId?: number,
): Promise<Result<string>> {
  const target = await selectDeploymentByRequestIdInAnyOrg(deps.db, requestId);
  const data = target?.providerData ?? {};
  if (
    !target ||
    !numberMatches(data['accessPointId'], accessPointId) ||
    !tokenMatches(token, data['deleteTokenHash'])
  ) {
    return fail('UNAUTHORIZED', WRONG_DELETE);
  }
  if (!isLiveDeployment(target.status))
    return fail('ALREADY_TERMINATING', `Deployment ${requestId} is already ${target.status}.`);
  const ended = await deps.db.transaction((tx) =>
    endDeploymentIn(deps, tx, target.id, {
      status: DeploymentStatus.terminating,
      detail: `Deployment ${requestId} stopped itself.`,
    }),
  );
  return ended ? ok(requestId) : fail('ALREADY_TERMINATING', `Deployment ${requestId} is already terminating.`);
}

async function withProvider<T>(
  deps: AppDeps,
  orgId: number,
  requestId: string,
  what: 'logs' | 'metrics',
  read: (deployment: DeploymentRecord) => Promise<T> | undefined,
): Promise<Result<T>> {
  const found = await findDeployment(deps, orgId, requestId);
  if (!found.ok) return found;
  const pending = read(found.value);
  if (pending === undefined)
    return fail(
      'DEPLOYMENT_DATA_UNAVAILABLE',
      `Deployment ${requestId} comes from the ${found.value.provider} provider, which keeps no ${what}.`,
    );
  try {
    return ok(await pending);
  } catch (error) {
    // The engine is unreachable or the game server is gone: the caller learns why, as a 4xx.
    return fail(
      'DEPLOYMENT_DATA_UNAVAILABLE',
      `The ${what} of deployment ${requestId} cannot be read now: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}

/** GET /v1/deployment/{request_id}/container-logs. */
export function deploymentLogs(deps: AppDeps, orgId: number, requestId: string): Promise<Result<DeploymentLogs>> {
  return withProvider(deps, orgId, requestId, 'logs', (d) => deps.providers.get(d.provider)?.logs?.(d));
}

/** GET /v1/metrics/deployment/{request_id}: readings oldest first. */
export function deploymentMetrics(
  deps: AppDeps,
  orgId: number,
  requestId: string,
): Promise<Result<DeploymentMetricsSample[]>> {
  return withProvider(deps, orgId, requestId, 'metrics', (d) => deps.providers.get(d.provider)?.metrics?.(d));
}
