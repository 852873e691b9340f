/**
 * The docker provider: each deployment is one container on one of the fleet's hosts, run through
 * the host's engine (Docker Engine, or Podman's Docker-compatible service). The fleet has already
 * chosen the host and reserved its ports when start() is called; this runs the version's image
 * there with exactly those bindings and watches it.
 *
 * What must survive a restart is on the engine and in the database: containers carry labels
 * (LABELS) naming their host and deployment, and the container id is in provider_data. The
 * reconciler (./reconciler.ts) compares the two on a timer and after restarts.
 */
import type Docker from 'dockerode';
import type { DockerProviderConfig } from '../../config.js';
import type { DeploymentRecord, HostRecord, VersionRecord } from '../../domain/records.js';
import {
  accessFromEnv,
  gameServerEnv,
  specNumber,
  storedAccess,
  versionEnvs,
  type GameServerAccess,
} from '../game-server-env.js';
import type { DeploymentLogs, DeploymentMetricsSample, Provider, StartedDeployment } from '../provider.js';
import { containerName, containerSpec, imageReference, publicPorts, registryAuth } from './container-spec.js';
import { demuxLogs, engineClient, engineReason, engineStatus, ensureImage, readStats } from './engine-client.js';
import { watchReadiness, type ReadinessWatch } from '../readiness.js';
import { createReconciler } from './reconciler.js';

export const DOCKER_PROVIDER = 'docker';
/** The container-logs route shows at most this many of the last lines. */
const LOG_TAIL_LINES = 2000;

/** How the provider tells the rest of the service what its containers and hosts do. */
export interface DockerReporter {
  /** Every TCP port accepts connections (or a UDP-only server stayed up). */
  ready(requestId: string, started: StartedDeployment): Promise<void>;
  /** The container failed, exited, was OOM-killed or vanished; ignored for a deployment already ended. */
  failed(requestId: string, detail: string): Promise<void>;
  hostAnswered(host: HostRecord): Promise<void>;
  hostUnanswered(host: HostRecord, detail: string): Promise<void>;
  log(message: string, error?: unknown): void;
}

export interface DockerProviderOptions {
  config: DockerProviderConfig;
  /** Base URL for ARBITRIUM_CONTEXT_URL / ARBITRIUM_DELETE_URL (read at each start). */
  callbackUrl: () => string;
  reporter: DockerReporter;
  hostById(id: number): Promise<HostRecord | undefined>;
  hosts(): Promise<HostRecord[]>;
  /** This provider's deployments the database says are live. */
  liveDeployments(): Promise<DeploymentRecord[]>;
  /** Status of each existing deployment among these request ids. */
  deploymentStatuses(requestIds: string[]): Promise<Map<string, string>>;
  now(): Date;
}

export interface DockerProvider extends Provider {
  /** Compares every host's containers with the database and acts on the differences. */
  reconcileHosts(): Promise<void>;
}

export function createDockerProvider(options: DockerProviderOptions): DockerProvider {
  const { config, reporter } = options;
  const clients = new Map<number, { key: string; docker: Docker }>();
  const watches = new Map<string, ReadinessWatch>();
  let isClosing = false;

  function clientFor(host: HostRecord): Docker {
    const key = JSON.stringify(host.endpoint);
    const cached = clients.get(host.id);
    if (cached?.key === key) return cached.docker;
    const docker = engineClient(host.endpoint);
    clients.set(host.id, { key, docker });
    return docker;
  }

  async function hostOf(deployment: DeploymentRecord): Promise<HostRecord> {
    const host = deployment.hostId === null ? undefined : await options.hostById(deployment.hostId);
    if (!host)
      throw new Error(
        `deployment ${deployment.requestId} has no host (it was removed, or the fleet did not schedule it)`,
      );
    return host;
  }

  const containerOf = (docker: Docker, deployment: DeploymentRecord) => {
    const id = deployment.providerData['containerId'];
    return docker.getContainer(typeof id === 'string' ? id : containerName(deployment.requestId));
  };

  function watch(requestId: string, host: HostRecord, started: StartedDeployment, container: Docker.Container): void {
    watches.get(requestId)?.cancel();
    const done = () => watches.delete(requestId);
    watches.set(
      requestId,
      watchReadiness({
        address: host.publicIp,
        ports: started.ports,
        udpReadyMs: config.udpReadyMs,
        readyTimeoutMs: config.readyTimeoutMs,
        isRunning: async () => (await container.inspect()).State.Running === true,
        ready: () => {
          done();
          reporter.ready(requestId, started).catch((error) => reporter.log('could not mark a container ready', error));
        },
        failed: (detail) => {
          done();
          reporter
            .failed(requestId, detail)
            .catch((error) => reporter.log('could not record a failed container', error));
        },
      }),
    );
  }

  /** `access`: the credentials the container holds, when known, so their hashes are the ones stored. */
  function startedOf(
    deployment: DeploymentRecord,
    host: HostRecord,
    version: VersionRecord | undefined,
    containerId: string,
    access?: GameServerAccess,
  ): StartedDeployment {
    const grace = version?.spec['termination_grace_period_seconds'];
    return {
      publicIp: host.publicIp,
      fqdn: host.publicIp,
      ports: publicPorts(deployment.ports, host.publicIp),
      providerData: {
        containerId,
        containerName: containerName(deployment.requestId),
        hostName: host.name,
        graceSeconds:
          typeof grace === 'number' ? grace : (deployment.providerData['graceSeconds'] ?? config.stopGraceSeconds),
        ...(access ? storedAccess(access) : {}),
      },
    };
  }

  /**
   * Takes over the container an earlier attempt of this start job created (its lease ran out, or
   * it crashed). This attempt stored new credentials' hashes, but the container holds the
   * earlier ones: those, read from its environment, are what start() returns to be stored.
   */
  function adopt(
    deployment: DeploymentRecord,
    host: HostRecord,
    version: VersionRecord,
    docker: Docker,
    info: Docker.ContainerInspectInfo,
  ): StartedDeployment {
    const env = Object.fromEntries(
      (info.Config.Env ?? []).map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]),
    );
    const adopted = startedOf(deployment, host, version, info.Id, accessFromEnv(env));
    watch(deployment.requestId, host, adopted, docker.getContainer(info.Id));
    return adopted;
  }

  async function start(
    deployment: DeploymentRecord,
    version: VersionRecord,
    env: Array<{ key: string; value: string }>,
    access: GameServerAccess,
  ): Promise<StartedDeployment> {
    const host = await hostOf(deployment);
    reconciler.monitor(host);
    const image = imageReference(version.spec);
    if (!image) throw new Error(`version ${version.name} names no container image (docker_image)`);
    const docker = clientFor(host);
    const name = containerName(deployment.requestId);
    const existing = await docker
      .getContainer(name)
      .inspect()
      .catch((error) => {
        if (engineStatus(error) === 404) return undefined;
        throw new Error(`the engine of host ${host.name} did not answer: ${engineReason(error)}`);
      });
    if (existing?.State.Running) return adopt(deployment, host, version, docker, existing);
    if (existing) await docker.getContainer(existing.Id).remove({ force: true });
    await ensureImage(docker, image, registryAuth(version.spec), config.pullTimeoutMs);
    const ports = publicPorts(deployment.ports, host.publicIp);
    const containerEnv = gameServerEnv({
      deployment,
      publicIp: host.publicIp,
      ports,
      access,
      callbackUrl: options.callbackUrl(),
      vcpuUnits: specNumber(version.spec, 'req_cpu'),
      memoryMb: specNumber(version.spec, 'req_memory'),
      userEnv: [...versionEnvs(version.spec), ...env],
    });
    const spec = containerSpec({
      deployment: { ...deployment, ports },
      version,
      host,
      image,
      env: containerEnv,
      bindAddress: config.bindAllInterfaces ? '0.0.0.0' : host.publicIp,
    });
    let container: Docker.Container;
    try {
      container = await docker.createContainer(spec);
    } catch (error) {
      // 409: another attempt of this start job (a slow pull outlived its lease) created it first.
      if (engineStatus(error) === 409)
        return adopt(deployment, host, version, docker, await docker.getContainer(name).inspect());
      throw new Error(`the engine of host ${host.name} refused to create the container: ${engineReason(error)}`);
    }
    try {
      await container.start();
    } catch (error) {
      await container
        .remove({ force: true })
        .catch((e) => reporter.log(`could not remove container ${name} that failed to start`, e));
      throw new Error(`the container could not start on host ${host.name}: ${engineReason(error)}`);
    }
    const started = startedOf(deployment, host, version, container.id, access);
    watch(deployment.requestId, host, started, container);
    return started;
  }

  /** Stops with the grace period, then removes; a container already gone is fine. */
  async function stop(deployment: DeploymentRecord): Promise<void> {
    watches.get(deployment.requestId)?.cancel();
    watches.delete(deployment.requestId);
    if (deployment.hostId === null) return;
    const host = await options.hostById(deployment.hostId);
    if (!host) return; // the host was removed: nothing left to reach
    const container = containerOf(clientFor(host), deployment);
    const grace = deployment.providerData['graceSeconds'];
    try {
      await container.stop({ t: typeof grace === 'number' ? grace : config.stopGraceSeconds });
    } catch (error) {
      const status = engineStatus(error);
      if (status === 404) return;
      if (status !== 304) throw new Error(`could not stop container on host ${host.name}: ${engineReason(error)}`);
    }
    try {
      await container.remove({ force: true });
    } catch (error) {
      if (engineStatus(error) !== 404)
        throw new Error(`could not remove container on host ${host.name}: ${engineReason(error)}`);
    }
  }

  async function logs(deployment: DeploymentRecord): Promise<DeploymentLogs> {
    const container = containerOf(clientFor(await hostOf(deployment)), deployment);
    const raw = await container.logs({ stdout: true, stderr: true, tail: LOG_TAIL_LINES, follow: false });
    const info = await container.inspect();
    const exited = !info.State.Running;
    return {
      logs: demuxLogs(Buffer.isBuffer(raw) ? raw : Buffer.from(String(raw))),
      ...(exited ? { exitCode: info.State.ExitCode, message: exitReason(info) } : {}),
      restartCount: info.RestartCount ?? 0,
    };
  }

  async function metrics(deployment: DeploymentRecord): Promise<DeploymentMetricsSample[]> {
    const container = containerOf(clientFor(await hostOf(deployment)), deployment);
    return [await readStats(container, options.now)];
  }

  const reconciler = createReconciler({
    config,
    reporter,
    clientFor,
    hosts: options.hosts,
    liveDeployments: options.liveDeployments,
    deploymentStatuses: options.deploymentStatuses,
    isWatched: (requestId) => watches.has(requestId),
    adopt: (deployment, host, container) =>
      watch(deployment.requestId, host, startedOf(deployment, host, undefined, container.id), container),
    isClosing: () => isClosing,
  });

  return {
    name: DOCKER_PROVIDER,
    runsOnHosts: true,
    locations: () => [],
    accepts: (version) => imageReference(version.spec) !== undefined,
    start,
    stop,
    logs,
    metrics,
    // At start-up an unreachable host must not stop the service from starting; the job retries.
    reconcile: (live) =>
      reconciler.reconcileHosts(live).catch((error) => reporter.log('reconciling the hosts failed', error)),
    reconcileHosts: () => reconciler.reconcileHosts(),
    async close() {
      isClosing = true;
      for (const w of watches.values()) w.cancel();
      watches.clear();
      reconciler.close();
    },
  };
}

/** Why a container is not running, in words an operator can act on. */
export function exitReason(info: Docker.ContainerInspectInfo): string {
  if (info.State.OOMKilled)
    return `The game server was killed for running out of memory (OOM; its version's req_memory is the limit), exit code ${info.State.ExitCode}.`;
  const detail = info.State.Error ? `: ${info.State.Error}` : '';
  return `The game server's container exited with code ${info.State.ExitCode}${detail}.`;
}
