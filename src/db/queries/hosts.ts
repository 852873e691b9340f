/** Container hosts: the rows, their state, and giving back what a deployment held on one. */
import type { Queryable } from '../db.js';
import type { HostEndpoint, HostRecord, HostState } from '../../domain/records.js';
import { placeOf, type PlaceRow } from './place-rows.js';

/** With the place columns of PlaceRow (place-rows.ts). */
export interface HostRow extends PlaceRow {
  id: number;
  name: string;
  endpoint: HostEndpoint;
  public_ip: string;
  cpu_units: number;
  memory_mb: number;
  port_min: number;
  port_max: number;
  tags: string[];
  state: HostState;
  state_detail: string | null;
  unreachable_since: Date | null;
  used_cpu_units: number;
  used_memory_mb: number;
  used_ports: number;
  created_at: Date;
  updated_at: Date;
}

export const HOST_COLUMNS = `h.id, h.name, h.endpoint, h.public_ip, h.city, h.country, h.continent, h.administrative_division,
  h.region, h.timezone, h.latitude, h.longitude, h.cpu_units, h.memory_mb, h.port_min, h.port_max, h.tags, h.state,
  h.state_detail, h.unreachable_since, h.used_cpu_units, h.used_memory_mb, h.used_ports, h.created_at, h.updated_at`;

export function toHost(row: HostRow): HostRecord {
  return {
    id: row.id,
    name: row.name,
    endpoint: row.endpoint,
    publicIp: row.public_ip,
    place: placeOf(row),
    cpuUnits: row.cpu_units,
    memoryMb: row.memory_mb,
    portMin: row.port_min,
    portMax: row.port_max,
    tags: row.tags,
    state: row.state,
    stateDetail: row.state_detail,
    unreachableSince: row.unreachable_since,
    usedCpuUnits: row.used_cpu_units,
    usedMemoryMb: row.used_memory_mb,
    usedPorts: row.used_ports,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** A host as it is added: the record's own fields, without what the database assigns or counts. */
export type NewHost = Pick<
  HostRecord,
  'name' | 'endpoint' | 'publicIp' | 'place' | 'cpuUnits' | 'memoryMb' | 'portMin' | 'portMax' | 'tags'
> & {
  now: Date;
};

/** Inserts a host in state active; undefined when the name is taken. */
export async function insertHost(db: Queryable, host: NewHost): Promise<HostRecord | undefined> {
  const p = host.place;
  const { rows } = await db.query<HostRow>(
    `INSERT INTO hosts AS h (name, endpoint, public_ip, city, country, continent, administrative_division, region, timezone,
       latitude, longitude, cpu_units, memory_mb, port_min, port_max, tags, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $17)
     ON CONFLICT (name) DO NOTHING
     RETURNING ${HOST_COLUMNS}`,
    [
      host.name,
      JSON.stringify(host.endpoint),
      host.publicIp,
      p.city,
      p.country,
      p.continent,
      p.administrativeDivision,
      p.region,
      p.timezone,
      p.latitude,
      p.longitude,
      host.cpuUnits,
      host.memoryMb,
      host.portMin,
      host.portMax,
      host.tags,
      host.now,
    ],
  );
  return rows[0] ? toHost(rows[0]) : undefined;
}

export async function selectHostById(db: Queryable, id: number): Promise<HostRecord | undefined> {
  const { rows } = await db.query<HostRow>(`SELECT ${HOST_COLUMNS} FROM hosts h WHERE h.id = $1`, [id]);
  return rows[0] ? toHost(rows[0]) : undefined;
}

export async function selectHostByName(db: Queryable, name: string): Promise<HostRecord | undefined> {
  const { rows } = await db.query<HostRow>(`SELECT ${HOST_COLUMNS} FROM hosts h WHERE h.name = $1`, [name]);
  return rows[0] ? toHost(rows[0]) : undefined;
}

/** Every host, by name. */
export async function selectHosts(db: Queryable): Promise<HostRecord[]> {
  const { rows } = await db.query<HostRow>(`SELECT ${HOST_COLUMNS} FROM hosts h ORDER BY h.name`);
  return rows.map(toHost);
}

/** Locks the host row for the rest of the transaction (the order every host writer uses: host, then deployment). */
export async function lockHost(db: Queryable, id: number): Promise<HostRecord | undefined> {
  const { rows } = await db.query<HostRow>(`SELECT ${HOST_COLUMNS} FROM hosts h WHERE h.id = $1 FOR UPDATE`, [id]);
  return rows[0] ? toHost(rows[0]) : undefined;
}

/**
 * Moves a host to `state` when it is in one of `fromStates` (any state when absent).
 * `unreachableSince`: a date sets it if unset, null clears it, undefined leaves it.
 */
export async function updateHostState(
  db: Queryable,
  change: {
    id: number;
    state: HostState;
    detail: string | null;
    now: Date;
    fromStates?: HostState[];
    unreachableSince?: Date | null;
  },
): Promise<HostRecord | undefined> {
  const { rows } = await db.query<HostRow>(
    `UPDATE hosts h SET state = $2, state_detail = $3, updated_at = $4,
       unreachable_since = CASE WHEN $6::boolean THEN h.unreachable_since WHEN $7::timestamptz IS NULL THEN NULL
         ELSE COALESCE(h.unreachable_since, $7::timestamptz) END
     WHERE h.id = $1 AND ($5::text[] IS NULL OR h.state = ANY($5::text[]))
     RETURNING ${HOST_COLUMNS}`,
    [
      change.id,
      change.state,
      change.detail,
      change.now,
      change.fromStates ?? null,
      change.unreachableSince === undefined,
      change.unreachableSince ?? null,
    ],
  );
  return rows[0] ? toHost(rows[0]) : undefined;
}

/** Deletes a host; its allocations and ports go with it, its deployments keep a null host. */
export async function deleteHost(db: Queryable, id: number): Promise<boolean> {
  const { rowCount } = await db.query('DELETE FROM hosts WHERE id = $1', [id]);
  return rowCount > 0;
}

/** Ids of the host's deployments in one of `statuses`, oldest first. */
export async function selectDeploymentIdsOnHost(
  db: Queryable,
  hostId: number,
  statuses: readonly string[],
): Promise<number[]> {
  const { rows } = await db.query<{ id: number }>(
    'SELECT id FROM deployments WHERE host_id = $1 AND status = ANY($2::text[]) ORDER BY id',
    [hostId, statuses],
  );
  return rows.map((row) => row.id);
}

/**
 * Gives back the cpu, memory and ports a deployment held on its host. Deleting the allocation is
 * the release, so calling it again for the same deployment changes nothing. Returns whether
 * anything was released.
 */
export async function releaseHostAllocation(db: Queryable, deploymentId: number): Promise<boolean> {
  const { rows } = await db.query<{ released: boolean }>(
    `WITH freed_ports AS (
       DELETE FROM host_ports WHERE deployment_id = $1 RETURNING host_id
     ), port_counts AS (
       SELECT host_id, count(*)::int AS n FROM freed_ports GROUP BY host_id
     ), freed AS (
       DELETE FROM host_allocations WHERE deployment_id = $1 RETURNING host_id, cpu_units, memory_mb
     ), totals AS (
       SELECT coalesce(f.host_id, pc.host_id) AS host_id, coalesce(f.cpu_units, 0) AS cpu_units,
         coalesce(f.memory_mb, 0) AS memory_mb, coalesce(pc.n, 0) AS ports
       FROM freed f FULL JOIN port_counts pc ON pc.host_id = f.host_id
     ), updated AS (
       UPDATE hosts h SET used_cpu_units = h.used_cpu_units - t.cpu_units, used_memory_mb = h.used_memory_mb - t.memory_mb,
         used_ports = h.used_ports - t.ports
       FROM totals t WHERE h.id = t.host_id RETURNING h.id
     )
     SELECT EXISTS (SELECT 1 FROM updated) AS released`,
    [deploymentId],
  );
  return rows[0]?.released ?? false;
}

/** The organisation created at first start: the operator, whose keys manage the shared hosts. */
export async function selectOperatorOrgId(db: Queryable): Promise<number | undefined> {
  const { rows } = await db.query<{ id: number }>('SELECT id FROM organisations ORDER BY id LIMIT 1');
  return rows[0]?.id;
}

/** Deployments holding capacity on each host (live or still being stopped), of every organisation. */
export async function selectHostAllocationCounts(db: Queryable): Promise<Map<number, number>> {
  const { rows } = await db.query<{ host_id: number; n: number }>(
    'SELECT host_id, count(*)::int AS n FROM host_allocations GROUP BY host_id',
  );
  return new Map(rows.map((row) => [row.host_id, row.n]));
}

/** Deployments holding capacity on one host (live or still being stopped), of every organisation. */
export async function countHostAllocations(db: Queryable, hostId: number): Promise<number> {
  const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM host_allocations WHERE host_id = $1', [
    hostId,
  ]);
  return rows[0]?.n ?? 0;
}

export interface HostDeploymentRow {
  requestId: string;
  status: string;
  appName: string;
  versionName: string;
  cpuUnits: number;
  memoryMb: number;
  ports: number[];
}

/** One organisation's deployments holding capacity on a host, newest first. */
export async function selectHostDeploymentsOfOrg(
  db: Queryable,
  hostId: number,
  orgId: number,
): Promise<HostDeploymentRow[]> {
  const { rows } = await db.query<{
    request_id: string;
    status: string;
    app_name: string;
    version_name: string;
    cpu_units: number;
    memory_mb: number;
    ports: number[];
  }>(
    `SELECT d.request_id, d.status, ap.name AS app_name, v.name AS version_name, a.cpu_units, a.memory_mb,
       ARRAY(SELECT p.port FROM host_ports p WHERE p.deployment_id = d.id ORDER BY p.port) AS ports
     FROM host_allocations a JOIN deployments d ON d.id = a.deployment_id
       JOIN apps ap ON ap.id = d.app_id JOIN versions v ON v.id = d.version_id
     WHERE a.host_id = $1 AND d.org_id = $2 ORDER BY d.id DESC`,
    [hostId, orgId],
  );
  return rows.map((r) => ({
    requestId: r.request_id,
    status: r.status,
    appName: r.app_name,
    versionName: r.version_name,
    cpuUnits: r.cpu_units,
    memoryMb: r.memory_mb,
    ports: r.ports,
  }));
}
