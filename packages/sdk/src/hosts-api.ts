import { Transport, type RallypointConfig, type RequestOptions } from './transport.js';
import type { Host, HostCreate, HostList, HostRemoved } from './types.js';

/**
 * (ext) The fleet's container hosts. Only the operator organisation's keys may use these; any
 * other organisation gets 403 OPERATOR_ONLY.
 * @example const hosts = new HostsApi({ baseUrl: 'http://localhost:8080', apiKey });
 */
export class HostsApi {
  private readonly transport: Transport;

  constructor(config: RallypointConfig | Transport) {
    this.transport = config instanceof Transport ? config : new Transport(config);
  }

  /**
   * Adds an active host; the next deployments may be scheduled on it.
   * @example await hosts.addHost({ name: 'fra-1', endpoint: { kind: 'socket', path: '/run/podman/podman.sock' }, public_ip: '203.0.113.5', location: { city: 'Frankfurt', country: 'Germany', continent: 'Europe', latitude: 50.11, longitude: 8.68 }, cpu_units: 4096, memory_mb: 8192, port_min: 30000, port_max: 30999 });
   */
  addHost(body: HostCreate, options?: RequestOptions): Promise<Host> {
    return this.transport.request({ method: 'POST', path: '/v1/hosts', body, options });
  }

  /**
   * Lists every host with its used and total capacity.
   * @example const { hosts: all } = await hosts.listHosts();
   */
  listHosts(options?: RequestOptions): Promise<HostList> {
    return this.transport.request({ method: 'GET', path: '/v1/hosts', options });
  }

  /**
   * One host, with the caller's deployments on it.
   * @example const host = await hosts.getHost('fra-1');
   */
  getHost(name: string, options?: RequestOptions): Promise<Host> {
    return this.transport.request({ method: 'GET', path: `/v1/hosts/${encodeURIComponent(name)}`, options });
  }

  /**
   * Stops scheduling on the host; what runs there keeps running.
   * @example await hosts.drainHost('fra-1');
   */
  drainHost(name: string, options?: RequestOptions): Promise<Host> {
    return this.transport.request({ method: 'POST', path: `/v1/hosts/${encodeURIComponent(name)}/drain`, options });
  }

  /**
   * Puts a drained (or down) host back into the pool.
   * @example await hosts.activateHost('fra-1');
   */
  activateHost(name: string, options?: RequestOptions): Promise<Host> {
    return this.transport.request({ method: 'POST', path: `/v1/hosts/${encodeURIComponent(name)}/activate`, options });
  }

  /**
   * Removes a host no live deployment runs on (409 HOST_IN_USE otherwise).
   * @example await hosts.removeHost('fra-1');
   */
  removeHost(name: string, options?: RequestOptions): Promise<HostRemoved> {
    return this.transport.request({ method: 'DELETE', path: `/v1/hosts/${encodeURIComponent(name)}`, options });
  }
}
