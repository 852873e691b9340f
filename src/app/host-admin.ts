/**
 * Managing the fleet's hosts at run time. The hosts are one pool shared by every organisation;
 * only the operator organisation (the one created at first start) adds, drains and removes them.
 * Other organisations' deployments run there too, but none sees another's: a host's listing
 * counts every deployment and names only the caller's.
 */
import { isIP } from 'node:net';
import type { HostCreate } from '../contract/hosts.js';
import {
  countHostAllocations,
  deleteHost,
  insertHost,
  lockHost,
  selectDeploymentIdsOnHost,
  selectHostAllocationCounts,
  selectHostByName,
  selectHostDeploymentsOfOrg,
  selectHosts,
  selectOperatorOrgId,
  updateHostState,
  type HostDeploymentRow,
} from '../db/queries/hosts.js';
import { fail, ok, type Result } from '../domain/errors.js';
import type { HostEndpoint, HostRecord } from '../domain/records.js';
import { LIVE_DEPLOYMENT_STATUSES } from '../domain/session-rules.js';
import type { AppDeps } from './deps.js';

export interface HostSummary {
  host: HostRecord;
  /** Deployments holding capacity on it, of every organisation. */
  deploymentCount: number;
  /** The caller's own, when asked for one host. */
  deployments?: HostDeploymentRow[];
}

async function requireOperator(deps: AppDeps, orgId: number): Promise<Result<true>> {
  if ((await selectOperatorOrgId(deps.db)) === orgId) return ok(true);
  return fail(
    'OPERATOR_ONLY',
    'Only the operator organisation (the one created at first start) manages hosts; use one of its API keys.',
  );
}

function endpointOf(input: HostCreate['endpoint']): Result<HostEndpoint> {
  if (input.kind === 'socket') return ok({ kind: 'socket', path: input.path });
  // The engine client's ssh transport runs a docker CLI on the far side, which Podman hosts lack:
  // refused here rather than accepted and failing every deployment scheduled there.
  if (input.kind === 'ssh') {
    return fail(
      'VALIDATION_FAILED',
      "ssh endpoints are not supported: forward the engine's socket (ssh -L) and add the host as socket or tcp.",
    );
  }
  const tls = input.tls;
  if (tls && (tls.cert === undefined) !== (tls.key === undefined)) {
    return fail(
      'VALIDATION_FAILED',
      "endpoint.tls needs both cert and key, or neither (ca alone checks the engine's certificate).",
    );
  }
  return ok({ kind: 'tcp', host: input.host, port: input.port, ...(tls ? { tls } : {}) });
}

/** (ext) POST /v1/hosts: a new active host; the scheduler may use it from the next deploy on. */
export async function addHost(deps: AppDeps, orgId: number, input: HostCreate): Promise<Result<HostSummary>> {
  const allowed = await requireOperator(deps, orgId);
  if (!allowed.ok) return allowed;
  if (input.port_min > input.port_max)
    return fail('VALIDATION_FAILED', `port_min (${input.port_min}) must not be above port_max (${input.port_max}).`);
  if (isIP(input.public_ip) === 0)
    return fail('VALIDATION_FAILED', `public_ip must be an IP address, got ${JSON.stringify(input.public_ip)}.`);
  const endpoint = endpointOf(input.endpoint);
  if (!endpoint.ok) return endpoint;
  const loc = input.location;
  const host = await insertHost(deps.db, {
    name: input.name,
    endpoint: endpoint.value,
    publicIp: input.public_ip,
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
    cpuUnits: input.cpu_units,
    memoryMb: input.memory_mb,
    portMin: input.port_min,
    portMax: input.port_max,
    tags: [...new Set(input.tags ?? [])],
    now: deps.clock.now(),
  });
  return host ? ok({ host, deploymentCount: 0 }) : fail('HOST_EXISTS', `A host named "${input.name}" already exists.`);
}

export async function listHosts(deps: AppDeps, orgId: number): Promise<Result<HostSummary[]>> {
  const allowed = await requireOperator(deps, orgId);
  if (!allowed.ok) return allowed;
  const [hosts, counts] = await Promise.all([selectHosts(deps.db), selectHostAllocationCounts(deps.db)]);
  return ok(hosts.map((host) => ({ host, deploymentCount: counts.get(host.id) ?? 0 })));
}

export async function showHost(deps: AppDeps, orgId: number, name: string): Promise<Result<HostSummary>> {
  const allowed = await requireOperator(deps, orgId);
  if (!allowed.ok) return allowed;
  const host = await selectHostByName(deps.db, name);
  if (!host) return fail('HOST_NOT_FOUND', `Host "${name}" does not exist.`);
  const [deploymentCount, deployments] = await Promise.all([
    countHostAllocations(deps.db, host.id),
    selectHostDeploymentsOfOrg(deps.db, host.id, orgId),
  ]);
  return ok({ host, deploymentCount, deployments });
}

/**
 * Draining: what runs there keeps running, nothing new is scheduled there. Activating: back in
 * the pool (also a host that was marked down, once the operator knows it is back).
 */
export async function setHostState(
  deps: AppDeps,
  orgId: number,
  name: string,
  state: 'draining' | 'active',
): Promise<Result<HostSummary>> {
  const allowed = await requireOperator(deps, orgId);
  if (!allowed.ok) return allowed;
  const host = await selectHostByName(deps.db, name);
  if (!host) return fail('HOST_NOT_FOUND', `Host "${name}" does not exist.`);
  const detail = state === 'draining' ? 'drained by the operator' : null;
  const updated = await updateHostState(deps.db, {
    id: host.id,
    state,
    detail,
    now: deps.clock.now(),
    ...(state === 'active' ? { unreachableSince: null } : {}),
  });
  if (!updated) return fail('HOST_NOT_FOUND', `Host "${name}" does not exist.`);
  return ok({ host: updated, deploymentCount: await countHostAllocations(deps.db, host.id) });
}

/**
 * Removes a host no live deployment runs on. Deployments that ended but whose game servers are
 * still being stopped hold it too, so no container is left behind unseen; a host that is down
 * cannot be reached to stop them, so once none of its deployments is live it can go.
 */
export async function removeHost(deps: AppDeps, orgId: number, name: string): Promise<Result<HostRecord>> {
  const allowed = await requireOperator(deps, orgId);
  if (!allowed.ok) return allowed;
  const found = await selectHostByName(deps.db, name);
  if (!found) return fail('HOST_NOT_FOUND', `Host "${name}" does not exist.`);
  return deps.db.transaction(async (tx) => {
    const host = await lockHost(tx, found.id);
    if (!host) return fail<HostRecord>('HOST_NOT_FOUND', `Host "${name}" does not exist.`);
    const live = await selectDeploymentIdsOnHost(tx, host.id, LIVE_DEPLOYMENT_STATUSES);
    if (live.length > 0) {
      return fail<HostRecord>(
        'HOST_IN_USE',
        `Host "${name}" runs ${live.length} live deployment(s); drain it and stop them (or let their sessions end) first.`,
      );
    }
    const stopping = await countHostAllocations(tx, host.id);
    if (stopping > 0 && host.state !== 'down') {
      return fail<HostRecord>(
        'HOST_IN_USE',
        `Host "${name}" still has ${stopping} game server(s) being stopped; retry once they are gone.`,
      );
    }
    await deleteHost(tx, host.id);
    return ok(host);
  });
}
