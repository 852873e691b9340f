import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { AppDeps } from '../../app/deps.js';
import { addHost, listHosts, removeHost, setHostState, showHost, type HostSummary } from '../../app/host-admin.js';
import {
  Host,
  HostCreate,
  HostList,
  HostNameParams,
  HostRemoved,
  type Host as HostView,
} from '../../contract/hosts.js';
import type { HostEndpoint } from '../../domain/records.js';
import { formatTimestamp } from '../../domain/time-format.js';
import { sendResult } from '../errors.js';
import { errors } from './common.js';

const tags = ['Hosts (ext)'];

/** Where the engine is, without key material. */
function endpointView(endpoint: HostEndpoint): HostView['endpoint'] {
  if (endpoint.kind === 'socket') return { kind: 'socket', path: endpoint.path };
  if (endpoint.kind === 'tcp')
    return { kind: 'tcp', host: endpoint.host, port: endpoint.port, has_credentials: endpoint.tls !== undefined };
  return {
    kind: 'ssh',
    host: endpoint.host,
    port: endpoint.port,
    username: endpoint.username,
    has_credentials: endpoint.privateKey !== undefined,
  };
}

export function hostView({ host, deploymentCount, deployments }: HostSummary): HostView {
  const p = host.place;
  return {
    name: host.name,
    endpoint: endpointView(host.endpoint),
    public_ip: host.publicIp,
    location: {
      city: p.city,
      country: p.country,
      continent: p.continent,
      administrative_division: p.administrativeDivision,
      region: p.region,
      timezone: p.timezone,
      latitude: p.latitude ?? 0,
      longitude: p.longitude ?? 0,
    },
    state: host.state,
    ...(host.stateDetail ? { state_detail: host.stateDetail } : {}),
    ...(host.unreachableSince ? { unreachable_since: formatTimestamp(host.unreachableSince) } : {}),
    cpu_units: host.cpuUnits,
    memory_mb: host.memoryMb,
    port_min: host.portMin,
    port_max: host.portMax,
    used_cpu_units: host.usedCpuUnits,
    used_memory_mb: host.usedMemoryMb,
    used_ports: host.usedPorts,
    tags: host.tags,
    create_time: formatTimestamp(host.createdAt),
    update_time: formatTimestamp(host.updatedAt),
    deployment_count: deploymentCount,
    ...(deployments
      ? {
          deployments: deployments.map((d) => ({
            request_id: d.requestId,
            status: d.status,
            app_name: d.appName,
            version_name: d.versionName,
            cpu_units: d.cpuUnits,
            memory_mb: d.memoryMb,
            ports: d.ports,
          })),
        }
      : {}),
  };
}

/** (ext) The fleet's container hosts; every route answers 403 OPERATOR_ONLY to other organisations. */
export function registerHostRoutes(parent: FastifyInstance, deps: AppDeps): void {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();

  app.post(
    '/v1/hosts',
    { schema: { tags, operationId: 'host-create', body: HostCreate, response: { 200: Host, ...errors(403, 409) } } },
    async (request, reply) => sendResult(reply, await addHost(deps, request.orgId, request.body), hostView),
  );

  app.get(
    '/v1/hosts',
    { schema: { tags, operationId: 'host-list', response: { 200: HostList, ...errors(403) } } },
    async (request, reply) =>
      sendResult(reply, await listHosts(deps, request.orgId), (hosts) => ({ hosts: hosts.map(hostView) })),
  );

  app.get(
    '/v1/hosts/:name',
    { schema: { tags, operationId: 'host-get', params: HostNameParams, response: { 200: Host, ...errors(403, 404) } } },
    async (request, reply) => sendResult(reply, await showHost(deps, request.orgId, request.params.name), hostView),
  );

  app.post(
    '/v1/hosts/:name/drain',
    {
      schema: { tags, operationId: 'host-drain', params: HostNameParams, response: { 200: Host, ...errors(403, 404) } },
    },
    async (request, reply) =>
      sendResult(reply, await setHostState(deps, request.orgId, request.params.name, 'draining'), hostView),
  );

  app.post(
    '/v1/hosts/:name/activate',
    {
      schema: {
        tags,
        operationId: 'host-activate',
        params: HostNameParams,
        response: { 200: Host, ...errors(403, 404) },
      },
    },
    async (request, reply) =>
      sendResult(reply, await setHostState(deps, request.orgId, request.params.name, 'active'), hostView),
  );

  app.delete(
    '/v1/hosts/:name',
    {
      schema: {
        tags,
        operationId: 'host-delete',
        params: HostNameParams,
        response: { 200: HostRemoved, ...errors(403, 404, 409) },
      },
    },
    async (request, reply) =>
      sendResult(reply, await removeHost(deps, request.orgId, request.params.name), (host) => ({
        message: `Host ${host.name} removed.`,
        name: host.name,
      })),
  );
}
