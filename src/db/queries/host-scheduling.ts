/**
 * Booking a host for a new deployment, inside the transaction that inserts it. The host row is
 * locked while its room is checked and its capacity and ports taken, so two processes deploying
 * at once never both take the last room; hosts_within_capacity is the last line of defence.
 */
import type { Queryable } from '../db.js';
import type { HostDemand } from '../../domain/host-scheduling.js';
import type { HostRecord } from '../../domain/records.js';
import { HOST_COLUMNS, toHost, type HostRow } from './hosts.js';

/** The room test of a host row `h` for a demand in $2 (cpu), $3 (memory), $4 (ports). */
const HAS_ROOM = `h.state = 'active' AND h.used_cpu_units + $2 <= h.cpu_units AND h.used_memory_mb + $3 <= h.memory_mb
  AND h.used_ports + $4 <= h.port_max - h.port_min + 1`;

/**
 * Locks the first host of `rankedIds` (best first) that has room and that no other transaction
 * holds; undefined when each is full or held. Skipping held rows lets concurrent deploys go to
 * the next best host instead of queueing behind one another.
 */
export async function lockFirstFreeHostWithRoom(
  db: Queryable,
  rankedIds: readonly number[],
  demand: HostDemand,
): Promise<HostRecord | undefined> {
  const { rows } = await db.query<HostRow>(
    `SELECT ${HOST_COLUMNS} FROM hosts h WHERE h.id = ANY($1::bigint[]) AND ${HAS_ROOM}
     ORDER BY array_position($1::bigint[], h.id) LIMIT 1 FOR UPDATE SKIP LOCKED`,
    [rankedIds, demand.cpuUnits, demand.memoryMb, demand.ports],
  );
  return rows[0] ? toHost(rows[0]) : undefined;
}

/**
 * Locks these hosts, waiting for other transactions, in id order: every deploy that waits
 * takes its locks in the same order, so two of them never wait for each other.
 */
export async function lockHostsInOrder(db: Queryable, ids: readonly number[]): Promise<HostRecord[]> {
  const { rows } = await db.query<HostRow>(
    `SELECT ${HOST_COLUMNS} FROM hosts h WHERE h.id = ANY($1::bigint[]) ORDER BY h.id FOR UPDATE`,
    [ids],
  );
  return rows.map(toHost);
}

/** The `count` lowest ports of the host's range no deployment holds (the caller holds the host row). */
export async function selectFreeHostPorts(db: Queryable, hostId: number, count: number): Promise<number[]> {
  if (count === 0) return [];
  const { rows } = await db.query<{ port: number }>(
    `SELECT p AS port FROM hosts h CROSS JOIN LATERAL generate_series(h.port_min, h.port_max) p
     WHERE h.id = $1 AND NOT EXISTS (SELECT 1 FROM host_ports hp WHERE hp.host_id = h.id AND hp.port = p)
     ORDER BY p LIMIT $2`,
    [hostId, count],
  );
  return rows.map((row) => row.port);
}

/**
 * Books cpu, memory and `ports` on the host for a deployment just inserted: the allocation, one
 * host_ports row per port, and the host's used counters, in one statement.
 */
export async function insertHostAllocation(
  db: Queryable,
  booking: { deploymentId: number; hostId: number; demand: HostDemand; ports: readonly number[] },
): Promise<void> {
  const { demand } = booking;
  await db.query(
    `WITH allocation AS (
       INSERT INTO host_allocations (deployment_id, host_id, cpu_units, memory_mb) VALUES ($1, $2, $3, $4)
     ), bound AS (
       INSERT INTO host_ports (host_id, port, deployment_id) SELECT $2, p, $1 FROM unnest($5::int[]) p
     )
     UPDATE hosts SET used_cpu_units = used_cpu_units + $3, used_memory_mb = used_memory_mb + $4,
       used_ports = used_ports + cardinality($5::int[])
     WHERE id = $2`,
    [booking.deploymentId, booking.hostId, demand.cpuUnits, demand.memoryMb, booking.ports],
  );
}
