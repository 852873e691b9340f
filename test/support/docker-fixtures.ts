/**
 * Hosts and container deployments for the docker provider's tests, written straight into the
 * database the way the fleet's scheduler writes them (host chosen, ports reserved), so the
 * provider can be tested on its own against a real engine.
 */
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import net from 'node:net';
import type { AppDeps } from '../../src/app/deps.js';
import { START_DEPLOYMENT_JOB } from '../../src/app/placement.js';
import { insertDeployment, selectDeploymentByRequestIdInAnyOrg } from '../../src/db/queries/deployments.js';
import { insertHost } from '../../src/db/queries/hosts.js';
import { insertJob } from '../../src/db/queries/jobs.js';
import { selectAppVersion } from '../../src/db/queries/versions.js';
import type { DeploymentRecord, HostEndpoint, HostRecord, PortRecord } from '../../src/domain/records.js';
import { DeploymentStatus } from '../../src/domain/session-rules.js';

/** The echo game server's ports, as a version declares them. */
export const ECHO_PORTS = [
  { port: 7777, protocol: 'UDP', name: 'game' },
  { port: 7778, protocol: 'TCP', name: 'control' },
];

/** Version fields that run the echo image built by test/support/podman.ts. */
export const ECHO_VERSION = {
  docker_repository: 'localhost',
  docker_image: 'rallypoint-echo',
  docker_tag: 'test',
  req_cpu: 256,
  req_memory: 128,
  ports: ECHO_PORTS,
  termination_grace_period_seconds: 5,
};

export async function addHost(
  deps: AppDeps,
  endpoint: HostEndpoint,
  overrides: { name?: string; portMin?: number; portMax?: number } = {},
): Promise<HostRecord> {
  const host = await insertHost(deps.db, {
    name: overrides.name ?? `host-${randomBytes(3).toString('hex')}`,
    endpoint,
    publicIp: '127.0.0.1',
    place: {
      city: 'Montreal',
      country: 'Canada',
      continent: 'North America',
      administrativeDivision: 'Quebec',
      region: '',
      timezone: 'America/Toronto',
      latitude: 45.5,
      longitude: -73.6,
    },
    cpuUnits: 4096,
    memoryMb: 4096,
    portMin: overrides.portMin ?? 42000,
    portMax: overrides.portMax ?? 42999,
    tags: [],
    now: deps.clock.now(),
  });
  if (!host) throw new Error('host name taken');
  return host;
}

/** A port nothing on this machine listens on (TCP and UDP) right now. */
export async function freeHostPort(): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve, reject) => {
      const server = net
        .createServer()
        .once('error', reject)
        .listen(0, '127.0.0.1', () => {
          const chosen = (server.address() as net.AddressInfo).port;
          server.close(() => resolve(chosen));
        });
    });
    const isUdpFree = await new Promise<boolean>((resolve) => {
      const socket = dgram.createSocket('udp4');
      socket.once('error', () => resolve(false));
      socket.bind(port, '127.0.0.1', () => socket.close(() => resolve(true)));
    });
    if (isUdpFree) return port;
  }
}

/**
 * A DEPLOYING docker deployment of the version on the host, with its ports reserved as the
 * scheduler would, and the start job that asks the provider to run it.
 */
export async function addContainerDeployment(
  deps: AppDeps,
  options: {
    orgId: number;
    app: string;
    version: string;
    host: HostRecord;
    externalPorts?: number[];
    tags?: string[];
    sockets?: number;
  },
): Promise<DeploymentRecord> {
  const found = await selectAppVersion(deps.db, options.orgId, options.app, options.version);
  const version = found?.version;
  if (!version) throw new Error(`no version ${options.app} ${options.version}`);
  const declared = (version.spec['ports'] as Array<{ port: number; protocol: string; name: string }> | undefined) ?? [];
  const ports: Record<string, PortRecord> = {};
  for (const [i, p] of declared.entries()) {
    const external = options.externalPorts?.[i] ?? (await freeHostPort());
    ports[p.name] = {
      name: p.name,
      internal: p.port,
      external,
      protocol: p.protocol,
      tlsUpgrade: false,
      link: `${options.host.publicIp}:${external}`,
    };
  }
  const now = deps.clock.now();
  const deployment = await insertDeployment(deps.db, {
    requestId: randomBytes(6).toString('hex'),
    orgId: options.orgId,
    appId: version.appId,
    versionId: version.id,
    provider: 'docker',
    status: DeploymentStatus.deploying,
    publicIp: options.host.publicIp,
    fqdn: options.host.publicIp,
    ports,
    place: options.host.place,
    tags: options.tags ?? [],
    sockets: options.sockets ?? version.sockets ?? 1,
    socketsUsage: 0,
    requestUserCount: 0,
    webhookUrl: null,
    command: null,
    arguments: null,
    env: [],
    providerData: {},
    heartbeatTimeoutSeconds: null,
    now,
    hostId: options.host.id,
  });
  await insertJob(deps.db, {
    kind: START_DEPLOYMENT_JOB,
    payload: { deploymentId: deployment.id },
    runAt: now,
    dedupeKey: `start:${deployment.id}`,
  });
  return deployment;
}

export async function deploymentNow(deps: AppDeps, requestId: string): Promise<DeploymentRecord> {
  const deployment = await selectDeploymentByRequestIdInAnyOrg(deps.db, requestId);
  if (!deployment) throw new Error(`no deployment ${requestId}`);
  return deployment;
}

export function udpExchange(port: number, text: string, host = '127.0.0.1'): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket('udp4');
    const timer = setTimeout(() => {
      socket.close();
      reject(new Error(`no UDP answer from ${host}:${port}`));
    }, 5000);
    socket.on('message', (message) => {
      clearTimeout(timer);
      socket.close();
      resolve(message.toString());
    });
    socket.send(text, port, host);
  });
}

/** Sends `text` and collects the answer until the server stops writing for a moment. */
export function tcpExchange(port: number, text: string, host = '127.0.0.1'): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host }, () => socket.write(text));
    let received = '';
    let quiet: NodeJS.Timeout | undefined;
    socket.setTimeout(10_000, () => {
      socket.destroy();
      reject(new Error(`no TCP answer from ${host}:${port}`));
    });
    socket.on('data', (data) => {
      received += data.toString();
      clearTimeout(quiet);
      quiet = setTimeout(() => {
        socket.end();
        resolve(received);
      }, 200);
    });
    socket.on('error', reject);
  });
}
