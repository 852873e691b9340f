/**
 * The state a live view loads before following the event stream: live deployments with their
 * place and seats, and sessions with their users' positions. `latest_event_id` is read first,
 * so opening the stream with it as Last-Event-ID misses nothing that changed after the read.
 */
import type { AppDeps } from '../app/deps.js';
import { selectLatestEventId } from '../db/queries/events.js';
import { selectDeploymentsPage } from '../db/queries/deployments.js';
import { selectHostAllocationCounts, selectHosts, selectOperatorOrgId } from '../db/queries/hosts.js';
import { selectSessionsPage } from '../db/queries/sessions.js';
import { elapsedSeconds, formatTimestamp } from '../domain/time-format.js';

/** Rows per kind; the dashboard is an overview, not an export. */
export const SNAPSHOT_LIMIT = 500;

/**
 * The hosts with their used and total capacity, for the operator organisation only (the one
 * that manages them); every other organisation gets none. Counts cover every organisation.
 */
async function loadHostsPanel(deps: AppDeps, orgId: number) {
  if ((await selectOperatorOrgId(deps.db)) !== orgId) return [];
  const [hosts, counts] = await Promise.all([selectHosts(deps.db), selectHostAllocationCounts(deps.db)]);
  return hosts.map((h) => ({
    id: h.id,
    name: h.name,
    state: h.state,
    state_detail: h.stateDetail,
    city: h.place.city,
    country: h.place.country,
    latitude: h.place.latitude,
    longitude: h.place.longitude,
    cpu_units: h.cpuUnits,
    used_cpu_units: h.usedCpuUnits,
    memory_mb: h.memoryMb,
    used_memory_mb: h.usedMemoryMb,
    ports: h.portMax - h.portMin + 1,
    used_ports: h.usedPorts,
    deployment_count: counts.get(h.id) ?? 0,
  }));
}

export async function loadFleetSnapshot(deps: AppDeps, orgId: number) {
  const latestEventId = await selectLatestEventId(deps.db, orgId);
  const [{ deployments, total: deploymentTotal }, { sessions, total: sessionTotal }, hosts] = await Promise.all([
    selectDeploymentsPage(deps.db, { orgId, offset: 0, limit: SNAPSHOT_LIMIT }),
    selectSessionsPage(deps.db, { orgId, offset: 0, limit: SNAPSHOT_LIMIT }),
    loadHostsPanel(deps, orgId),
  ]);
  const hostNames = new Map(hosts.map((h) => [h.id, h.name]));
  const now = deps.clock.now();
  return {
    latest_event_id: latestEventId,
    time: now.toISOString(),
    deployment_total: deploymentTotal,
    session_total: sessionTotal,
    deployments: deployments.map((d) => ({
      request_id: d.requestId,
      app: d.appName,
      version: d.versionName,
      status: d.status,
      provider: d.provider,
      sockets: d.sockets,
      sockets_usage: d.socketsUsage,
      is_joinable_by_session: d.isJoinable,
      public_ip: d.publicIp,
      city: d.place.city,
      country: d.place.country,
      latitude: d.place.latitude,
      longitude: d.place.longitude,
      start_time: formatTimestamp(d.readyAt ?? d.createdAt),
      host: d.hostId === null ? null : (hostNames.get(d.hostId) ?? null),
    })),
    hosts: hosts.map(({ id: _id, ...host }) => host),
    sessions: sessions.map((s) => ({
      session_id: s.sessionId,
      app: s.appName,
      version: s.versionName,
      status: s.status,
      kind: s.kind,
      deployment_request_id: s.deploymentRequestId,
      user_count: s.users.length,
      users: s.users.map((u) => {
        // Players sent as plain IPs are placed by the same IP geolocation placement uses.
        const position = u.latitude !== undefined && u.longitude !== undefined ? u : deps.geo.positionOf(u.ip);
        return { ip: u.ip, latitude: position?.latitude ?? null, longitude: position?.longitude ?? null };
      }),
      create_time: formatTimestamp(s.createdAt),
      elapsed: elapsedSeconds(s.createdAt, now),
    })),
  };
}
