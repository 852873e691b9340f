import {
  insertDeployment,
  selectDeploymentByRequestId,
  selectDeploymentsPage,
  selectLiveDeploymentIdsMatching,
  updateDeploymentHeartbeat,
  updateDeploymentJoinable,
} from '../db/queries/deployments.js';
import { selectSessionsOfDeployment } from '../db/queries/sessions.js';
import { selectAppVersion } from '../db/queries/versions.js';
import type { DeployModel, RegisterServerPayload } from '../contract/deployments.js';
import { fail, ok, type Result } from '../domain/errors.js';
import { locationConstraintsOf } from '../domain/placement.js';
import type { DeploymentRecord, PortRecord, SessionRecord, VersionRecord } from '../domain/records.js';
import { DeploymentStatus, isLiveDeployment } from '../domain/session-rules.js';
import { REGISTERED_PROVIDER } from '../providers/registered.js';
import { emitDeployment, type AppDeps } from './deps.js';
import { endDeploymentIn } from './deployment-lifecycle.js';
import { newRequestId } from './ids.js';
import { startDeploymentIn } from './placement.js';
import { playersPosition } from './sessions.js';
import { canonicalPlayerAddresses } from '../domain/player-address.js';
import { checkWebhookUrl } from './webhook-url.js';

async function versionFor(
  deps: AppDeps,
  orgId: number,
  appName: string,
  versionName: string | undefined,
): Promise<Result<VersionRecord>> {
  const found = await selectAppVersion(deps.db, orgId, appName, versionName || undefined);
  if (!found) return fail('UNKNOWN_APP', `Application "${appName}" does not exist.`);
  const version = found.version;
  if (!version)
    return fail(
      'UNKNOWN_VERSION',
      versionName
        ? `Application "${appName}" has no version named "${versionName}".`
        : `Application "${appName}" has no active version.`,
    );
  if (!version.isActive) return fail('VERSION_INACTIVE', `Version "${version.name}" of "${appName}" is not active.`);
  return ok(version);
}

/** POST /v1/deploy: a new deployment through a provider, at the location nearest the players. */
export async function deploy(deps: AppDeps, orgId: number, input: DeployModel): Promise<Result<DeploymentRecord>> {
  const canonical = canonicalPlayerAddresses([...(input.ip_list ?? []), ...(input.geo_ip_list ?? []).map((g) => g.ip)]);
  if (!canonical.ok) return fail('VALIDATION_FAILED', `ip_list: ${canonical.error.message}`);
  const ips = canonical.value;
  if (input.webhook_url !== undefined) {
    const checked = checkWebhookUrl(input.webhook_url, deps.webhookDenyList);
    if (!checked.ok) return checked;
  }
  const constraints = locationConstraintsOf(input);
  if (!constraints.ok) return constraints;
  const version = await versionFor(deps, orgId, input.app_name, input.version_name);
  if (!version.ok) return version;
  const position = playersPosition(deps, input);
  return deps.db.transaction((tx) =>
    startDeploymentIn(deps, tx, {
      orgId,
      version: version.value,
      position,
      constraints: constraints.value,
      seats: 0,
      tags: input.tags ?? [],
      env: (input.env_vars ?? []).map((e) => ({ key: e.key, value: e.value })),
      userCount: new Set(ips).size,
      webhookUrl: input.webhook_url ?? null,
    }),
  );
}

export async function findDeployment(
  deps: AppDeps,
  orgId: number,
  requestId: string,
): Promise<Result<DeploymentRecord>> {
  const deployment = await selectDeploymentByRequestId(deps.db, orgId, requestId);
  return deployment ? ok(deployment) : fail('DEPLOYMENT_NOT_FOUND', `Deployment ${requestId} does not exist.`);
}

export async function deploymentStatus(
  deps: AppDeps,
  orgId: number,
  requestId: string,
): Promise<Result<{ deployment: DeploymentRecord; sessions: SessionRecord[] }>> {
  const found = await findDeployment(deps, orgId, requestId);
  if (!found.ok) return found;
  return ok({ deployment: found.value, sessions: await selectSessionsOfDeployment(deps.db, found.value.id) });
}

/** Stops a deployment; its sessions turn Error. `wasReady` tells 200 from 202. */
export async function stopDeployment(
  deps: AppDeps,
  orgId: number,
  requestId: string,
): Promise<Result<{ deployment: DeploymentRecord; wasReady: boolean }>> {
  const found = await findDeployment(deps, orgId, requestId);
  if (!found.ok) return found;
  if (!isLiveDeployment(found.value.status))
    return fail('ALREADY_TERMINATING', `Deployment ${requestId} is already ${found.value.status}.`);
  const ended = await deps.db.transaction((tx) =>
    endDeploymentIn(deps, tx, found.value.id, {
      status: DeploymentStatus.terminating,
      detail: `Deployment ${requestId} was stopped.`,
    }),
  );
  if (!ended) return fail('ALREADY_TERMINATING', `Deployment ${requestId} is already terminating.`);
  return ok({ deployment: ended.after, wasReady: ended.before.status === DeploymentStatus.ready });
}

export async function listDeployments(deps: AppDeps, orgId: number, page: number, limit: number) {
  return selectDeploymentsPage(deps.db, { orgId, offset: (page - 1) * limit, limit });
}

export async function bulkStopDeployments(
  deps: AppDeps,
  orgId: number,
  filters: Array<{ field: 'request_id' | 'deployment_tags'; filter_type: 'any' | 'all' | 'not'; values: string[] }>,
): Promise<Result<string[]>> {
  if (filters.length === 0) return fail('VALIDATION_FAILED', 'filters must hold at least one filter.');
  const ids = await selectLiveDeploymentIdsMatching(deps.db, {
    orgId,
    filters: filters.map((f) => ({ field: f.field, type: f.filter_type, values: f.values })),
  });
  const stopped: string[] = [];
  for (const id of ids) {
    const ended = await deps.db.transaction((tx) =>
      endDeploymentIn(deps, tx, id, {
        status: DeploymentStatus.terminating,
        detail: 'Deployment was stopped in bulk.',
      }),
    );
    if (ended) stopped.push(ended.after.requestId);
  }
  return ok(stopped);
}

export async function setJoinable(
  deps: AppDeps,
  orgId: number,
  requestId: string,
  isJoinable: boolean | undefined,
): Promise<Result<boolean>> {
  if (isJoinable === undefined) {
    const found = await findDeployment(deps, orgId, requestId);
    return found.ok ? ok(found.value.isJoinable) : found;
  }
  const value = await updateDeploymentJoinable(deps.db, orgId, requestId, isJoinable);
  return value === undefined ? fail('DEPLOYMENT_NOT_FOUND', `Deployment ${requestId} does not exist.`) : ok(value);
}

function registeredPorts(input: RegisterServerPayload): Record<string, PortRecord> {
  const host = input.fqdn ?? input.public_ip;
  return Object.fromEntries(
    input.ports.map((p) => [
      p.name,
      {
        name: p.name,
        internal: p.internal ?? p.external,
        external: p.external,
        protocol: p.protocol,
        tlsUpgrade: p.tls_upgrade ?? false,
        link: `${host}:${p.external}`,
      },
    ]),
  );
}

/** (ext) Registers a running game server as a READY deployment of a session-based version. */
export async function registerServer(
  deps: AppDeps,
  orgId: number,
  input: RegisterServerPayload,
): Promise<Result<DeploymentRecord>> {
  const version = await versionFor(deps, orgId, input.app_name, input.version_name);
  if (!version.ok) return version;
  const sockets = input.sockets ?? version.value.sockets;
  if (sockets === null)
    return fail('VALIDATION_FAILED', 'sockets is required: the version has no session_config.sockets.');
  const names = input.ports.map((p) => p.name);
  if (new Set(names).size !== names.length) return fail('VALIDATION_FAILED', 'Port names must be unique.');
  const now = deps.clock.now();
  const loc = input.location;
  return deps.db.transaction(async (tx) => {
    const deployment = await insertDeployment(tx, {
      requestId: newRequestId(),
      orgId,
      appId: version.value.appId,
      versionId: version.value.id,
      provider: REGISTERED_PROVIDER,
      status: DeploymentStatus.ready,
      publicIp: input.public_ip,
      fqdn: input.fqdn ?? input.public_ip,
      ports: registeredPorts(input),
      place: {
        city: loc.city,
        country: loc.country,
        continent: loc.continent,
        administrativeDivision: loc.administrative_division ?? '',
        region: loc.region ?? '',
        timezone: loc.timezone ?? '',
        latitude: loc.latitude,
        longitude: loc.longitude,
      },
      tags: input.tags ?? [],
      sockets,
      socketsUsage: 0,
      requestUserCount: 0,
      webhookUrl: null,
      command: null,
      arguments: null,
      env: [],
      providerData: {},
      heartbeatTimeoutSeconds: input.heartbeat_timeout_seconds ?? null,
      now,
    });
    await emitDeployment(deps, tx, 'created', deployment);
    await emitDeployment(deps, tx, 'ready', deployment);
    return ok(deployment);
  });
}

/** (ext) A registered server says it is alive. */
export async function heartbeat(deps: AppDeps, orgId: number, requestId: string): Promise<Result<DeploymentRecord>> {
  const found = await findDeployment(deps, orgId, requestId);
  if (!found.ok) return found;
  if (!isLiveDeployment(found.value.status))
    return fail('ALREADY_TERMINATING', `Deployment ${requestId} is ${found.value.status}; register it again.`);
  const updated = await updateDeploymentHeartbeat(deps.db, orgId, requestId, deps.clock.now());
  return updated ? ok(updated) : fail('DEPLOYMENT_NOT_FOUND', `Deployment ${requestId} does not exist.`);
}
