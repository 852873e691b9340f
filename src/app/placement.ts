/**
 * Finding a deployment for a session inside the caller's transaction: a given deployment, or a
 * new one started through a provider (autodeploy). The best existing one is found by the create's
 * own statement (db/queries/placement.ts).
 */
import type { Queryable, Tx } from '../db/db.js';
import { insertDeployment, reserveSeatsOnDeployment, selectDeploymentByRequestId } from '../db/queries/deployments.js';
import { insertJob } from '../db/queries/jobs.js';
import { fail, ok, type Result } from '../domain/errors.js';
import { demandOf, hostPortBindings, type HostRequest } from '../domain/host-scheduling.js';
import { distanceKm, type LocationConstraint, type Position } from '../domain/placement.js';
import type { DeploymentRecord, PlaceRecord, PortRecord, VersionRecord } from '../domain/records.js';
import { DeploymentStatus, isLiveDeployment } from '../domain/session-rules.js';
import type { ProviderLocation } from '../providers/provider.js';
import { emitDeployment, type AppDeps } from './deps.js';
import { bookHostIn, recordHostBookingIn, type HostBooking } from './host-scheduling.js';
import { newRequestId } from './ids.js';

export const START_DEPLOYMENT_JOB = 'deployment.start';

/** Takes seats on the deployment the client named, or says which condition failed (409). */
export async function reserveOnNamedDeployment(
  tx: Queryable,
  orgId: number,
  version: VersionRecord,
  requestId: string,
  seats: number,
): Promise<Result<DeploymentRecord>> {
  const deployment = await selectDeploymentByRequestId(tx, orgId, requestId);
  if (!deployment) return fail('DEPLOYMENT_UNAVAILABLE', `Deployment ${requestId} does not exist.`);
  if (deployment.versionId !== version.id) {
    return fail(
      'DEPLOYMENT_UNAVAILABLE',
      `Deployment ${requestId} runs ${deployment.appName} ${deployment.versionName}, not ${version.appName} ${version.name}.`,
    );
  }
  if (!isLiveDeployment(deployment.status))
    return fail('DEPLOYMENT_UNAVAILABLE', `Deployment ${requestId} is not running (${deployment.status}).`);
  if (!deployment.isJoinable)
    return fail('DEPLOYMENT_UNAVAILABLE', `Deployment ${requestId} is not joinable by sessions.`);
  const reserved = await reserveSeatsOnDeployment(tx, deployment.id, seats);
  if (reserved) return ok(reserved);
  return fail('DEPLOYMENT_UNAVAILABLE', `Deployment ${requestId} does not have ${seats} free socket(s).`);
}

export function nearestLocation(
  locations: readonly ProviderLocation[],
  position: Position | null,
): ProviderLocation | undefined {
  if (locations.length === 0) return undefined;
  if (!position) return locations[0];
  const distanceTo = (l: ProviderLocation) =>
    l.latitude === null || l.longitude === null
      ? Infinity
      : distanceKm(position, { latitude: l.latitude, longitude: l.longitude });
  return [...locations].sort((a, b) => distanceTo(a) - distanceTo(b))[0];
}

export interface AutodeployRequest {
  orgId: number;
  version: VersionRecord;
  position: Position | null;
  /** Location filters of the request; hosts outside them are not considered. */
  constraints?: LocationConstraint[];
  seats: number;
  tags: string[];
  env: Array<{ key: string; value: string }>;
  userCount: number;
  webhookUrl: string | null;
}

/** Where a new deployment goes: a provider, its place and, on a host, its address and ports. */
interface Target {
  provider: string;
  place: PlaceRecord;
  publicIp: string;
  ports: Record<string, PortRecord>;
  onHost?: { booking: HostBooking; request: HostRequest };
}

/**
 * Hosts first, for a version a provider that runs on hosts can start; when no host can take it,
 * the nearest fixed place of another provider; when there is none either, why no host could.
 */
async function targetFor(deps: AppDeps, tx: Tx, request: AutodeployRequest): Promise<Result<Target>> {
  const hostProvider = deps.providers.onHosts(request.version)[0];
  let noHost: Result<Target> | undefined;
  if (hostProvider) {
    const hostRequest = {
      demand: demandOf(request.version.spec),
      constraints: request.constraints ?? [],
      position: request.position,
    };
    const booked = await bookHostIn(tx, hostRequest);
    if (booked.ok) {
      const { host, hostPorts } = booked.value;
      return ok({
        provider: hostProvider.name,
        place: host.place,
        publicIp: host.publicIp,
        ports: hostPortBindings(request.version.spec, hostPorts, host.publicIp),
        onHost: { booking: booked.value, request: hostRequest },
      });
    }
    noHost = booked;
  }
  const location = nearestLocation(deps.providers.locations(request.version), request.position);
  if (location) {
    const { provider, ...place } = location;
    return ok({ provider, place, publicIp: '', ports: {} });
  }
  return (
    noHost ??
    fail(
      'NO_PROVIDER',
      `No provider can start a deployment of version "${request.version.name}"; register servers, or configure a provider (the process provider needs the version's command).`,
    )
  );
}

/**
 * Writes a new DEPLOYING deployment, on a host or at the provider location nearest the players,
 * with the session's seats already taken, and a durable job that asks the provider to start it.
 */
export async function startDeploymentIn(
  deps: AppDeps,
  tx: Tx,
  request: AutodeployRequest,
): Promise<Result<DeploymentRecord>> {
  const sockets = request.version.sockets ?? Math.max(1, request.seats);
  if (request.seats > sockets)
    return fail(
      'NOT_ENOUGH_SEATS',
      `The session needs ${request.seats} sockets; a deployment of this version has ${sockets}.`,
    );
  const target = await targetFor(deps, tx, request);
  if (!target.ok) return target;
  const { provider, place, publicIp, ports, onHost } = target.value;
  const now = deps.clock.now();
  const deployment = await insertDeployment(tx, {
    requestId: newRequestId(),
    orgId: request.orgId,
    appId: request.version.appId,
    versionId: request.version.id,
    provider,
    status: DeploymentStatus.deploying,
    publicIp,
    fqdn: publicIp,
    ports,
    place,
    tags: request.tags,
    sockets,
    socketsUsage: request.seats,
    requestUserCount: request.userCount,
    webhookUrl: request.webhookUrl,
    command: typeof request.version.spec['command'] === 'string' ? (request.version.spec['command'] as string) : null,
    arguments:
      typeof request.version.spec['arguments'] === 'string' ? (request.version.spec['arguments'] as string) : null,
    env: request.env,
    providerData: {},
    heartbeatTimeoutSeconds: null,
    hostId: onHost?.booking.host.id ?? null,
    now,
  });
  if (onHost) await recordHostBookingIn(tx, onHost.booking, deployment.id, onHost.request);
  await insertJob(tx, {
    kind: START_DEPLOYMENT_JOB,
    payload: { deploymentId: deployment.id },
    runAt: now,
    dedupeKey: `start:${deployment.id}`,
  });
  await emitDeployment(deps, tx, 'created', deployment);
  return ok(deployment);
}
