/**
 * Keeps the database and the hosts' engines telling the same story:
 * - each host's event stream reports a container that dies or is OOM-killed at once;
 * - reconcileHosts(), run after a restart and on a timer (a durable job), compares every host's
 *   labelled containers with the deployments the database says live there: containers no live
 *   deployment owns are removed, deployments whose container vanished or exited fail, running
 *   containers of deployments not yet ready are watched again (adopted), and a host whose engine
 *   does not answer is reported (the wiring marks it down after a while).
 * The stream is only the fast path: anything it misses (reconnects, another process's
 * containers) the next reconciliation finds.
 */
import type Docker from 'dockerode';
import type { DockerProviderConfig } from '../../config.js';
import type { DeploymentRecord, HostRecord } from '../../domain/records.js';
import { DeploymentStatus } from '../../domain/session-rules.js';
import { LABELS } from './container-spec.js';
import type { DockerReporter } from './docker-provider.js';
import { exitReason } from './docker-provider.js';
import { engineReason, engineStatus, withTimeout } from './engine-client.js';

/** A stream that ended is reopened after this long (the reconcile timer covers the gap). */
const RECONNECT_MS = 2000;

export interface ReconcilerOptions {
  config: DockerProviderConfig;
  reporter: DockerReporter;
  clientFor(host: HostRecord): Docker;
  hosts(): Promise<HostRecord[]>;
  liveDeployments(): Promise<DeploymentRecord[]>;
  deploymentStatuses(requestIds: string[]): Promise<Map<string, string>>;
  isWatched(requestId: string): boolean;
  adopt(deployment: DeploymentRecord, host: HostRecord, container: Docker.Container): void;
  isClosing(): boolean;
}

interface Monitor {
  endpointKey: string;
  stream: NodeJS.ReadableStream | undefined;
  timer: NodeJS.Timeout | undefined;
  isClosed: boolean;
}

/** Containers whose deployment ended for good (or never existed here) are removed; TERMINATING ones are left to the stop job's grace. */
function isOrphan(status: string | undefined): boolean {
  return status === undefined || status === DeploymentStatus.terminated || status === DeploymentStatus.error;
}

export function createReconciler(options: ReconcilerOptions) {
  const { config, reporter } = options;
  const monitors = new Map<number, Monitor>();

  async function reportExit(host: HostRecord, requestId: string, containerId: string): Promise<void> {
    let detail: string;
    try {
      const info = await options.clientFor(host).getContainer(containerId).inspect();
      if (info.State.Running) return;
      detail = exitReason(info);
    } catch (error) {
      if (engineStatus(error) !== 404) throw error;
      detail = "The game server's container was removed from its host.";
    }
    await reporter.failed(requestId, `${detail} (host ${host.name})`);
  }

  function onEvent(host: HostRecord, line: string): void {
    let event: {
      Type?: string;
      Action?: string;
      status?: string;
      id?: string;
      Actor?: { ID?: string; Attributes?: Record<string, string> };
    };
    try {
      event = JSON.parse(line);
    } catch {
      return;
    }
    const action = event.Action ?? event.status;
    const attributes = event.Actor?.Attributes ?? {};
    // The engine's own label filter is not reliable on every engine: filter here.
    if (event.Type !== 'container' || (action !== 'die' && action !== 'oom')) return;
    if (attributes[LABELS.marker] !== 'true' || attributes[LABELS.host] !== host.name) return;
    const requestId = attributes[LABELS.requestId];
    const containerId = event.Actor?.ID ?? event.id;
    if (!requestId || !containerId) return;
    reportExit(host, requestId, containerId).catch((error) =>
      reporter.log(`could not read why a container on host ${host.name} stopped`, error),
    );
  }

  function monitor(host: HostRecord): void {
    const endpointKey = JSON.stringify(host.endpoint);
    const existing = monitors.get(host.id);
    if (existing && existing.endpointKey === endpointKey && !existing.isClosed) return;
    if (existing) closeMonitor(existing);
    const m: Monitor = { endpointKey, stream: undefined, timer: undefined, isClosed: false };
    monitors.set(host.id, m);
    const reopen = () => {
      m.stream = undefined;
      if (m.isClosed || options.isClosing()) return;
      m.timer = setTimeout(open, RECONNECT_MS);
      m.timer.unref();
    };
    const open = () => {
      options
        .clientFor(host)
        .getEvents({ filters: { type: ['container'] } })
        .then((stream) => {
          if (m.isClosed) return (stream as unknown as { destroy?: () => void }).destroy?.();
          m.stream = stream;
          let pending = '';
          stream.on('data', (chunk: Buffer) => {
            pending += chunk.toString('utf8');
            const lines = pending.split('\n');
            pending = lines.pop() ?? '';
            for (const line of lines) if (line.trim() !== '') onEvent(host, line);
          });
          stream.on('error', () => undefined);
          stream.on('close', reopen);
          stream.on('end', reopen);
        }, reopen);
    };
    open();
  }

  function closeMonitor(m: Monitor): void {
    m.isClosed = true;
    if (m.timer) clearTimeout(m.timer);
    (m.stream as unknown as { destroy?: () => void } | undefined)?.destroy?.();
  }

  async function reconcileHost(host: HostRecord, live: DeploymentRecord[]): Promise<void> {
    const docker = options.clientFor(host);
    let containers: Docker.ContainerInfo[];
    try {
      containers = await withTimeout(
        docker.listContainers({
          all: true,
          filters: { label: [`${LABELS.marker}=true`, `${LABELS.host}=${host.name}`] },
        }),
        config.engineTimeoutMs,
        `the engine of host ${host.name}`,
      );
    } catch (error) {
      await reporter.hostUnanswered(host, engineReason(error));
      return;
    }
    await reporter.hostAnswered(host);
    monitor(host);
    const liveByRequest = new Map(live.map((d) => [d.requestId, d]));
    const others = containers
      .map((c) => c.Labels[LABELS.requestId])
      .filter((id): id is string => !!id && !liveByRequest.has(id));
    const statuses = await options.deploymentStatuses(others);
    const byRequest = new Map<string, Docker.ContainerInfo>();
    for (const c of containers) {
      const requestId = c.Labels[LABELS.requestId];
      if (!requestId) continue;
      byRequest.set(requestId, c);
      if (liveByRequest.has(requestId) || !isOrphan(statuses.get(requestId))) continue;
      await docker
        .getContainer(c.Id)
        .remove({ force: true })
        .catch((error) => {
          if (engineStatus(error) !== 404)
            reporter.log(`could not remove orphan container ${c.Id} on host ${host.name}`, error);
        });
    }
    for (const deployment of live) await reconcileDeployment(host, deployment, byRequest.get(deployment.requestId));
  }

  async function reconcileDeployment(
    host: HostRecord,
    deployment: DeploymentRecord,
    container: Docker.ContainerInfo | undefined,
  ): Promise<void> {
    if (!container) {
      // No container id yet: its start job has not run (or is running) and will start or fail it.
      if (typeof deployment.providerData['containerId'] === 'string') {
        await reporter.failed(deployment.requestId, `The game server's container vanished from host ${host.name}.`);
      }
      return;
    }
    if (container.State !== 'running') {
      await reportExit(host, deployment.requestId, container.Id);
      return;
    }
    if (
      deployment.status !== DeploymentStatus.ready &&
      !options.isWatched(deployment.requestId) &&
      deployment.providerData['containerId']
    ) {
      options.adopt(deployment, host, options.clientFor(host).getContainer(container.Id));
    }
  }

  /** `given`: the live deployments when the caller has just read them (start-up), else they are read here. */
  async function reconcileHosts(given?: DeploymentRecord[]): Promise<void> {
    const [hosts, live] = await Promise.all([options.hosts(), given ?? options.liveDeployments()]);
    // Hosts side by side: each engine that does not answer costs engineTimeoutMs, and this runs
    // at start-up too, so silent hosts must not add up.
    const outcomes = await Promise.allSettled(
      hosts.map((host) =>
        reconcileHost(
          host,
          live.filter((d) => d.hostId === host.id),
        ),
      ),
    );
    const failures = outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason as unknown] : []));
    for (const [id, m] of monitors) {
      if (!hosts.some((h) => h.id === id)) {
        closeMonitor(m);
        monitors.delete(id);
      }
    }
    if (failures.length > 0) throw failures[0];
  }

  return {
    reconcileHosts,
    /** Watches the host's event stream (once per host and endpoint). */
    monitor,
    close() {
      for (const m of monitors.values()) closeMonitor(m);
      monitors.clear();
    },
  };
}
