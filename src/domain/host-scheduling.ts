/**
 * Scheduling rules for the fleet's hosts: what a version needs, which hosts can take it, in
 * which order, and why none could. db/queries/host-scheduling.ts locks and books; this states
 * the rules, with no I/O.
 */
import { distanceKm, matchesConstraint, type LocationConstraint, type Position } from './placement.js';
import type { HostRecord, PortRecord } from './records.js';

/** What one deployment of a version takes on a host. */
export interface HostDemand {
  /** 1024 units are one vCPU. */
  cpuUnits: number;
  memoryMb: number;
  /** Host ports: one per version port (a TCP/UDP port uses one number for both). */
  ports: number;
}

/** A version port as the spec holds it. */
export interface SpecPort {
  port: number;
  protocol: string;
  name?: string;
  tls_upgrade?: boolean;
}

/** Used when a version does not say; every version written through the API says. */
export const DEFAULT_REQ_CPU = 256;
export const DEFAULT_REQ_MEMORY_MB = 256;

const positiveInteger = (value: unknown, fallback: number) =>
  typeof value === 'number' && Number.isInteger(value) && value > 0 ? value : fallback;

export function specPortsOf(spec: Record<string, unknown>): SpecPort[] {
  return Array.isArray(spec['ports']) ? (spec['ports'] as SpecPort[]) : [];
}

/** The port's key in a deployment's ports: its name, else its number. */
export function portKeyOf(port: SpecPort): string {
  return port.name && port.name !== '' ? port.name : String(port.port);
}

/** The version's ports, one per key (a later port with the same key replaces the earlier). */
function distinctPorts(spec: Record<string, unknown>): SpecPort[] {
  return [...new Map(specPortsOf(spec).map((port) => [portKeyOf(port), port])).values()];
}

/** req_cpu, req_memory and the ports of a version's spec. */
export function demandOf(spec: Record<string, unknown>): HostDemand {
  return {
    cpuUnits: positiveInteger(spec['req_cpu'], DEFAULT_REQ_CPU),
    memoryMb: positiveInteger(spec['req_memory'], DEFAULT_REQ_MEMORY_MB),
    ports: distinctPorts(spec).length,
  };
}

/**
 * The deployment's ports on a host: each version port published on one of `hostPorts` (as many
 * as demandOf counted), `internal` the port the game server listens on inside its container.
 */
export function hostPortBindings(
  spec: Record<string, unknown>,
  hostPorts: readonly number[],
  publicIp: string,
): Record<string, PortRecord> {
  const ports = distinctPorts(spec);
  if (hostPorts.length !== ports.length)
    throw new Error(`hostPortBindings: ${ports.length} ports need as many host ports, got ${hostPorts.length}`);
  return Object.fromEntries(
    ports.map((port, i) => {
      const key = portKeyOf(port);
      const external = hostPorts[i]!;
      return [
        key,
        {
          name: key,
          internal: port.port,
          external,
          protocol: port.protocol,
          tlsUpgrade: port.tls_upgrade ?? false,
          link: `${publicIp}:${external}`,
        },
      ];
    }),
  );
}

export interface HostRequest {
  demand: HostDemand;
  constraints: LocationConstraint[];
  position: Position | null;
}

/** Why a host cannot take a deployment now; null when it can. */
export type HostMismatch = 'not_active' | 'outside_filters' | 'too_small' | 'full' | 'ports_exhausted';

const portCount = (host: HostRecord) => host.portMax - host.portMin + 1;

function placeValue(host: HostRecord, field: LocationConstraint['field']): string {
  return field === 'administrative_division' ? host.place.administrativeDivision : host.place[field];
}

export function mismatchOf(host: HostRecord, request: HostRequest): HostMismatch | null {
  if (host.state !== 'active') return 'not_active';
  if (!request.constraints.every((c) => matchesConstraint(placeValue(host, c.field), c))) return 'outside_filters';
  const { demand } = request;
  if (demand.cpuUnits > host.cpuUnits || demand.memoryMb > host.memoryMb) return 'too_small';
  if (demand.ports > portCount(host)) return 'too_small';
  if (host.usedCpuUnits + demand.cpuUnits > host.cpuUnits || host.usedMemoryMb + demand.memoryMb > host.memoryMb)
    return 'full';
  if (host.usedPorts + demand.ports > portCount(host)) return 'ports_exhausted';
  return null;
}

/** Whether the host could ever take it, whatever runs there now (the hosts worth locking). */
export function couldEverFit(host: HostRecord, request: HostRequest): boolean {
  const mismatch = mismatchOf(host, request);
  return mismatch === null || mismatch === 'full' || mismatch === 'ports_exhausted';
}

function distanceTo(host: HostRecord, position: Position | null): number {
  if (!position) return 0;
  const { latitude, longitude } = host.place;
  return latitude === null || longitude === null ? Infinity : distanceKm(position, { latitude, longitude });
}

/** The larger of the cpu and memory shares it would have in use once the deployment is there. */
function fullnessAfter(host: HostRecord, demand: HostDemand): number {
  return Math.max(
    (host.usedCpuUnits + demand.cpuUnits) / host.cpuUnits,
    (host.usedMemoryMb + demand.memoryMb) / host.memoryMb,
  );
}

/**
 * Ranking: nearest to the players first (hosts without coordinates last); among hosts at the
 * same distance, the fullest first, so a location's hosts fill one after another and whole
 * machines stay free for big versions; then the oldest for a stable order.
 */
export function compareHosts(a: HostRecord, b: HostRecord, request: HostRequest): number {
  const da = distanceTo(a, request.position);
  const db = distanceTo(b, request.position);
  if (da !== db) return da < db ? -1 : 1;
  const fa = fullnessAfter(a, request.demand);
  const fb = fullnessAfter(b, request.demand);
  if (fa !== fb) return fb - fa;
  return a.id - b.id;
}

/** Hosts that can take it now, best first. */
export function rankHosts(hosts: readonly HostRecord[], request: HostRequest): HostRecord[] {
  return hosts.filter((host) => mismatchOf(host, request) === null).sort((a, b) => compareHosts(a, b, request));
}

const MISMATCH_WORDS: Record<HostMismatch, string> = {
  not_active: 'not active (draining or down)',
  outside_filters: 'outside the location filters',
  too_small: 'too small for it',
  full: 'full (not enough free cpu or memory)',
  ports_exhausted: 'out of free ports in its range',
};

/** One sentence saying which hosts were considered and why none could take the deployment. */
export function noHostReason(hosts: readonly HostRecord[], request: HostRequest): string {
  const { demand } = request;
  const needs = `${demand.cpuUnits} cpu units, ${demand.memoryMb} MB and ${demand.ports} port(s)`;
  if (hosts.length === 0) return `No host can run it: there are no hosts (it needs ${needs}).`;
  const byMismatch = new Map<HostMismatch, string[]>();
  for (const host of hosts) {
    const mismatch = mismatchOf(host, request) ?? 'full';
    byMismatch.set(mismatch, [...(byMismatch.get(mismatch) ?? []), host.name]);
  }
  const parts = [...byMismatch].map(
    ([mismatch, names]) => `${listNames(names)} ${names.length === 1 ? 'is' : 'are'} ${MISMATCH_WORDS[mismatch]}`,
  );
  const summary = summaryOf(byMismatch, hosts.length);
  return `${summary} It needs ${needs}; ${parts.join('; ')}.`;
}

function summaryOf(byMismatch: Map<HostMismatch, string[]>, total: number): string {
  const only = (mismatch: HostMismatch) => (byMismatch.get(mismatch)?.length ?? 0) === total;
  if (only('too_small')) return 'No host can run it: it is too big for every host.';
  if (only('full')) return 'No host can run it now: every host is full.';
  if (only('ports_exhausted')) return "No host can run it now: every host's port range is exhausted.";
  const noneActiveInFilters = [...byMismatch.keys()].every((m) => m === 'not_active' || m === 'outside_filters');
  if (noneActiveInFilters) return 'No host can run it: no active host is within the location filters.';
  return 'No host can run it now.';
}

function listNames(names: string[]): string {
  const shown = names.slice(0, 10).join(', ');
  return names.length > 10 ? `${shown} and ${names.length - 10} more` : shown;
}
