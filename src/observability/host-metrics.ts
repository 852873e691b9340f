/**
 * Capacity gauges of the fleet's hosts, by host name (an operator-chosen, bounded label): what
 * each host offers and what its deployments hold, read from the host rows at each scrape.
 */
import { Gauge, type Registry } from 'prom-client';
import type { Queryable } from '../db/db.js';
import { selectHosts } from '../db/queries/hosts.js';
import { HOST_STATES, type HostRecord } from '../domain/records.js';

const MB = 1024 * 1024;

export function registerHostGauges(registry: Registry, db: Queryable): void {
  // A scrape collects every gauge at once: they share one read of the hosts.
  let reading: Promise<HostRecord[]> | undefined;
  const hosts = () => {
    reading ??= selectHosts(db).finally(() => setImmediate(() => (reading = undefined)));
    return reading;
  };
  const gauge = (name: string, help: string, value: (host: HostRecord) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ['host'],
      registers: [registry],
      async collect() {
        this.reset();
        for (const host of await hosts()) this.set({ host: host.name }, value(host));
      },
    });
  gauge('rallypoint_host_cpu_units_capacity', 'CPU units a host offers (1024 = 1 vCPU)', (h) => h.cpuUnits);
  gauge('rallypoint_host_cpu_units_used', 'CPU units held by deployments on a host', (h) => h.usedCpuUnits);
  gauge('rallypoint_host_memory_capacity_bytes', 'Memory a host offers to deployments', (h) => h.memoryMb * MB);
  gauge('rallypoint_host_memory_used_bytes', 'Memory held by deployments on a host', (h) => h.usedMemoryMb * MB);
  gauge('rallypoint_host_ports_capacity', "Ports in a host's range", (h) => h.portMax - h.portMin + 1);
  gauge('rallypoint_host_ports_used', "Ports of a host's range bound to deployments", (h) => h.usedPorts);
  new Gauge({
    name: 'rallypoint_host_state',
    help: '1 for the state each host is in (active, draining, down)',
    labelNames: ['host', 'state'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const host of await hosts())
        for (const state of HOST_STATES) this.set({ host: host.name, state }, host.state === state ? 1 : 0);
    },
  });
}
