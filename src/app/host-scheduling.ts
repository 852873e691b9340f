/**
 * Scheduling a new deployment on the fleet's hosts, inside the transaction that inserts it: rank
 * the hosts (domain/host-scheduling.ts), lock the best one with room, take its ports.
 */
import type { Tx } from '../db/db.js';
import {
  insertHostAllocation,
  lockFirstFreeHostWithRoom,
  lockHostsInOrder,
  selectFreeHostPorts,
} from '../db/queries/host-scheduling.js';
import { selectHosts } from '../db/queries/hosts.js';
import { fail, ok, type Result } from '../domain/errors.js';
import { couldEverFit, noHostReason, rankHosts, type HostRequest } from '../domain/host-scheduling.js';
import type { HostRecord } from '../domain/records.js';

export interface HostBooking {
  host: HostRecord;
  /** Free ports of the host's range, as many as the version has ports, lowest first. */
  hostPorts: number[];
}

/**
 * Locks a host that can take the deployment now, or says why none can (NO_HOST_FITS). First the
 * best host no other transaction holds; when each is held or full, every host that could ever
 * fit, waiting for their locks in a fixed order, so a deploy is refused only when no host has room.
 */
export async function bookHostIn(tx: Tx, request: HostRequest): Promise<Result<HostBooking>> {
  const hosts = await selectHosts(tx);
  const ranked = rankHosts(hosts, request);
  let host =
    ranked.length > 0
      ? await lockFirstFreeHostWithRoom(
          tx,
          ranked.map((h) => h.id),
          request.demand,
        )
      : undefined;
  if (!host) {
    const worthWaiting = hosts.filter((h) => couldEverFit(h, request));
    if (worthWaiting.length === 0) return fail('NO_HOST_FITS', noHostReason(hosts, request));
    const fresh = await lockHostsInOrder(
      tx,
      worthWaiting.map((h) => h.id),
    );
    host = rankHosts(fresh, request)[0];
    if (!host) {
      const freshById = new Map(fresh.map((h) => [h.id, h]));
      return fail(
        'NO_HOST_FITS',
        noHostReason(
          hosts.map((h) => freshById.get(h.id) ?? h),
          request,
        ),
      );
    }
  }
  const hostPorts = await selectFreeHostPorts(tx, host.id, request.demand.ports);
  // used_ports said there was room; fewer free rows means the bookkeeping drifted: a bug.
  if (hostPorts.length !== request.demand.ports)
    throw new Error(`host ${host.name}: used_ports disagrees with host_ports`);
  return ok({ host, hostPorts });
}

/** Books the host's capacity for the deployment just inserted on it. */
export async function recordHostBookingIn(
  tx: Tx,
  booking: HostBooking,
  deploymentId: number,
  request: HostRequest,
): Promise<void> {
  await insertHostAllocation(tx, {
    deploymentId,
    hostId: booking.host.id,
    demand: request.demand,
    ports: booking.hostPorts,
  });
}
