/**
 * What the docker provider asks an engine for, as pure functions of the deployment, its version
 * and its host: the image reference, the container's name, labels, environment, published ports
 * and limits. No I/O here, so the rules are testable without an engine.
 */
import type Docker from 'dockerode';
import type { DeploymentRecord, HostRecord, PortRecord, VersionRecord } from '../../domain/records.js';
import { usesTcp, usesUdp } from '../process/ports.js';

/**
 * Labels on every container Rallypoint starts. The marker and host label let a restarted
 * Rallypoint, or two engines sharing one store, find what is theirs on each host; the others
 * say whose it is, for operators reading `docker ps`.
 */
export const LABELS = {
  marker: 'io.rallypoint.managed',
  host: 'io.rallypoint.host',
  requestId: 'io.rallypoint.request-id',
  organisation: 'io.rallypoint.organisation',
  app: 'io.rallypoint.app',
  version: 'io.rallypoint.version',
} as const;

/** One container per deployment: the name makes a second create for it fail instead of running twice. */
export function containerName(requestId: string): string {
  return `rallypoint-${requestId}`;
}

const text = (spec: Record<string, unknown>, key: string): string =>
  typeof spec[key] === 'string' ? (spec[key] as string).trim() : '';

/** `docker_repository/docker_image:docker_tag`; undefined when the version names no image. */
export function imageReference(spec: Record<string, unknown>): string | undefined {
  const image = text(spec, 'docker_image');
  if (image === '') return undefined;
  const repository = text(spec, 'docker_repository').replace(/\/+$/, '');
  const tag = text(spec, 'docker_tag') || 'latest';
  return `${repository ? `${repository}/` : ''}${image}:${tag}`;
}

/** Registry credentials of a private image; undefined when the version has none. */
export function registryAuth(
  spec: Record<string, unknown>,
): { username: string; password: string; serveraddress: string } | undefined {
  const username = text(spec, 'private_username');
  const password = text(spec, 'private_token');
  if (username === '' || password === '') return undefined;
  return { username, password, serveraddress: text(spec, 'docker_repository') };
}

/** The engine's `<port>/<proto>` keys for one version port: TCP and UDP ports get both. */
function engineKeys(port: PortRecord): string[] {
  const keys: string[] = [];
  if (usesTcp(port.protocol) || !usesUdp(port.protocol)) keys.push(`${port.internal}/tcp`);
  if (usesUdp(port.protocol)) keys.push(`${port.internal}/udp`);
  return keys;
}

export interface ContainerSpecInput {
  deployment: DeploymentRecord;
  version: VersionRecord;
  host: HostRecord;
  image: string;
  env: Record<string, string>;
  /** Address the ports are published on: the host's public address, or all interfaces. */
  bindAddress: string;
}

/** The engine's create-container request for a deployment. */
export function containerSpec(input: ContainerSpecInput): Docker.ContainerCreateOptions {
  const { deployment, version, host } = input;
  const exposed: Record<string, object> = {};
  const bindings: Record<string, Array<{ HostIp: string; HostPort: string }>> = {};
  for (const port of Object.values(deployment.ports)) {
    for (const key of engineKeys(port)) {
      exposed[key] = {};
      bindings[key] = [{ HostIp: input.bindAddress, HostPort: String(port.external) }];
    }
  }
  const cpu = version.spec['req_cpu'];
  const memory = version.spec['req_memory'];
  return {
    name: containerName(deployment.requestId),
    Image: input.image,
    Env: Object.entries(input.env).map(([key, value]) => `${key}=${value}`),
    Labels: {
      [LABELS.marker]: 'true',
      [LABELS.host]: host.name,
      [LABELS.requestId]: deployment.requestId,
      [LABELS.organisation]: String(deployment.orgId),
      [LABELS.app]: deployment.appName,
      [LABELS.version]: deployment.versionName,
    },
    ExposedPorts: exposed,
    HostConfig: {
      PortBindings: bindings,
      // Edgegap's scale: 1024 units are one vCPU; memory in MB.
      ...(typeof cpu === 'number' && cpu > 0 ? { NanoCpus: Math.round((cpu / 1024) * 1e9) } : {}),
      ...(typeof memory === 'number' && memory > 0 ? { Memory: memory * 1024 * 1024 } : {}),
      // A game server that dies is a failed deployment, never silently restarted.
      RestartPolicy: { Name: 'no' },
    },
  };
}

/** The deployment's ports with links at the address players use. */
export function publicPorts(ports: Record<string, PortRecord>, publicAddress: string): Record<string, PortRecord> {
  return Object.fromEntries(
    Object.entries(ports).map(([key, p]) => [key, { ...p, link: `${publicAddress}:${p.external}` }]),
  );
}
