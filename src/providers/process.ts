/**
 * The process provider: each deployment is a real child process on this machine, running the
 * version's `command` with its `arguments` (split as in ./process/arguments.ts), given a free
 * host port for each of the version's ports and the environment an Edgegap game server reads.
 *
 * Readiness and death are watched in memory, because only this machine can see its processes;
 * what must survive a restart is in the database: the pid (provider_data.pid) and ports. At
 * start, reconcile() fails deployments whose process is gone and adopts the ones still running.
 * Stopping is a durable job (deployment.stop) that may run in any server process on this host,
 * so stop() works from the pid alone, not from a ChildProcess handle.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { ProcessProviderConfig } from '../config.js';
import { isAlive } from '../process-liveness.js';
import type { DeploymentRecord, VersionRecord } from '../domain/records.js';
import { DeploymentStatus } from '../domain/session-rules.js';
import type { DeploymentLogs, Provider, ProviderLocation, StartedDeployment } from './provider.js';
import { splitArguments } from './process/arguments.js';
import { allocatePorts, type VersionPort } from './process/ports.js';
import { watchReadiness, type ReadinessWatch } from './readiness.js';
import { gameServerEnv, specNumber, storedAccess, versionEnvs, type GameServerAccess } from './game-server-env.js';

export const PROCESS_PROVIDER = 'process';
/** Close of this server never waits longer than this per game server, whatever its grace period. */
const CLOSE_GRACE_MS = 3000;
/** The container-logs route shows at most this much of the end of a process's output. */
const LOG_TAIL_BYTES = 256 * 1024;

/** How the provider tells the rest of the service what its processes do. */
export interface ProcessReporter {
  /** All TCP ports accept connections (or a UDP-only server stayed up): record ports, mark ready. */
  ready(deploymentId: number, started: StartedDeployment): Promise<void>;
  /** The process died (or never became ready) without being asked to stop. */
  failed(deploymentId: number, detail: string): Promise<void>;
  log(message: string, error?: unknown): void;
}

export interface ProcessProviderOptions {
  config: ProcessProviderConfig;
  /** Base URL of this service, for ARBITRIUM_DELETE_URL (read at each start: the port may be chosen at listen time). */
  publicUrl: () => string;
  reporter: ProcessReporter;
}

interface Watched {
  deploymentId: number;
  pid: number;
  /** Absent for a process adopted after a restart: only its pid is known. */
  child: ChildProcess | undefined;
  started: StartedDeployment;
  isStopping: boolean;
  timers: Set<NodeJS.Timeout>;
  readiness?: ReadinessWatch;
}

/** Signals the process group first (a `sh -c` wrapper's children too), else the process. */
function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(-pid, name);
  } catch {
    try {
      process.kill(pid, name);
    } catch {
      /* already gone */
    }
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitGone(pid: number, withinMs: number): Promise<boolean> {
  const deadline = Date.now() + withinMs;
  while (isAlive(pid)) {
    if (Date.now() >= deadline) return false;
    await sleep(50);
  }
  return true;
}

/** SIGTERM, then SIGKILL once the grace period is over. Resolves when the process is gone. */
async function terminate(pid: number, graceMs: number): Promise<void> {
  signal(pid, 'SIGTERM');
  if (await waitGone(pid, graceMs)) return;
  signal(pid, 'SIGKILL');
  await waitGone(pid, 5000);
}

export function createProcessProvider(options: ProcessProviderOptions): Provider {
  const { config, reporter } = options;
  const host = hostname();
  const watched = new Map<number, Watched>();
  let isClosing = false;

  const later = (w: Watched, ms: number, fn: () => void) => {
    const timer = setTimeout(() => {
      w.timers.delete(timer);
      fn();
    }, ms);
    timer.unref();
    w.timers.add(timer);
  };

  function forget(w: Watched): void {
    w.readiness?.cancel();
    for (const timer of w.timers) clearTimeout(timer);
    w.timers.clear();
    watched.delete(w.deploymentId);
  }

  function died(w: Watched, detail: string): void {
    const wasExpected = w.isStopping || isClosing;
    forget(w);
    if (wasExpected) return;
    reporter
      .failed(w.deploymentId, detail)
      .catch((error) => reporter.log('could not record a dead game server', error));
  }

  /** Watches until every TCP port accepts a connection on this machine, or (no TCP port) the process stayed up. */
  function probeReadiness(w: Watched): void {
    w.readiness = watchReadiness({
      address: '127.0.0.1',
      ports: w.started.ports,
      udpReadyMs: config.udpReadyMs,
      readyTimeoutMs: config.readyTimeoutMs,
      isRunning: async () => isAlive(w.pid),
      ready: () => {
        if (watched.get(w.deploymentId) !== w || w.isStopping) return;
        reporter
          .ready(w.deploymentId, w.started)
          .catch((error) => reporter.log('could not mark a game server ready', error));
      },
      failed: (detail) => died(w, detail),
    });
  }

  /** A process this server did not spawn (adopted after a restart): its death is seen by polling. */
  function pollLiveness(w: Watched): void {
    later(w, 500, () => {
      if (watched.get(w.deploymentId) !== w) return;
      if (isAlive(w.pid)) pollLiveness(w);
      else died(w, `The game server process (pid ${w.pid}) exited.`);
    });
  }

  async function spawnChild(
    command: string,
    args: string[],
    env: Record<string, string>,
    logFile: string,
  ): Promise<ChildProcess> {
    mkdirSync(config.logDir, { recursive: true });
    const fd = openSync(logFile, 'a');
    try {
      // detached: its own process group, so a Ctrl-C on this server does not reach game servers
      // and stop() can signal the whole group; output goes to a file, not a pipe that dies with us.
      const child = spawn(command, args, { cwd: config.workDir, env, detached: true, stdio: ['ignore', fd, fd] });
      await new Promise<void>((resolve, reject) => {
        child.once('spawn', resolve);
        child.once('error', reject);
      });
      return child;
    } finally {
      closeSync(fd);
    }
  }

  async function start(
    deployment: DeploymentRecord,
    version: VersionRecord,
    env: Array<{ key: string; value: string }>,
    access: GameServerAccess,
  ): Promise<StartedDeployment> {
    const existing = watched.get(deployment.id);
    if (existing) return existing.started; // the start job ran twice in this process
    const command =
      deployment.command ?? (typeof version.spec['command'] === 'string' ? (version.spec['command'] as string) : '');
    if (command.trim() === '')
      throw new Error(`version ${version.name} has no command for the process provider to run`);
    const args = splitArguments(deployment.arguments ?? (version.spec['arguments'] as string | undefined));
    const ports = await allocatePorts((version.spec['ports'] as VersionPort[] | undefined) ?? [], config.publicIp);
    const childEnv: Record<string, string> = {
      ...config.inheritedEnv,
      ...gameServerEnv({
        deployment,
        publicIp: config.publicIp,
        ports,
        access,
        callbackUrl: options.publicUrl(),
        vcpuUnits: specNumber(version.spec, 'req_cpu'),
        memoryMb: specNumber(version.spec, 'req_memory'),
        userEnv: [...versionEnvs(version.spec), ...env],
      }),
    };
    const logFile = join(config.logDir, `${deployment.requestId}.log`);
    const child = await spawnChild(command, args, childEnv, logFile);
    const grace = version.spec['termination_grace_period_seconds'];
    const started: StartedDeployment = {
      publicIp: config.publicIp,
      fqdn: config.publicIp,
      ports,
      providerData: {
        pid: child.pid,
        hostname: host,
        logFile,
        graceSeconds: typeof grace === 'number' ? grace : config.stopGraceSeconds,
        // A second run of the start job returns this again: its hashes must be this child's.
        ...storedAccess(access),
      },
    };
    const w: Watched = {
      deploymentId: deployment.id,
      pid: child.pid!,
      child,
      started,
      isStopping: false,
      timers: new Set(),
    };
    watched.set(deployment.id, w);
    child.once('exit', (code, sig) =>
      died(w, `The game server process exited (${sig ? `signal ${sig}` : `code ${code}`}).`),
    );
    probeReadiness(w);
    return started;
  }

  async function stop(deployment: DeploymentRecord): Promise<void> {
    const pid = deployment.providerData['pid'];
    if (typeof pid !== 'number') return; // never started
    if (deployment.providerData['hostname'] !== host) {
      reporter.log(
        `deployment ${deployment.requestId} runs on host ${String(deployment.providerData['hostname'])}, not here; cannot signal it`,
      );
      return;
    }
    const w = watched.get(deployment.id);
    if (w) w.isStopping = true;
    const graceSeconds = deployment.providerData['graceSeconds'];
    await terminate(pid, (typeof graceSeconds === 'number' ? graceSeconds : config.stopGraceSeconds) * 1000);
    if (w) forget(w);
  }

  async function reconcile(live: DeploymentRecord[]): Promise<void> {
    for (const deployment of live) {
      const pid = deployment.providerData['pid'];
      // No pid yet: its start job has not run and will start (or fail) it.
      if (typeof pid !== 'number' || deployment.providerData['hostname'] !== host || watched.has(deployment.id))
        continue;
      if (!isAlive(pid)) {
        await reporter.failed(
          deployment.id,
          `The game server process (pid ${pid}) was gone when Rallypoint restarted.`,
        );
        continue;
      }
      const started: StartedDeployment = {
        publicIp: deployment.publicIp,
        fqdn: deployment.fqdn,
        ports: deployment.ports,
        providerData: deployment.providerData,
      };
      const w: Watched = {
        deploymentId: deployment.id,
        pid,
        child: undefined,
        started,
        isStopping: false,
        timers: new Set(),
      };
      watched.set(deployment.id, w);
      pollLiveness(w);
      if (deployment.status !== DeploymentStatus.ready) probeReadiness(w);
    }
  }

  /** The tail of the process's output file, when it ran on this machine. */
  async function logs(deployment: DeploymentRecord): Promise<DeploymentLogs> {
    const logFile = deployment.providerData['logFile'];
    if (typeof logFile !== 'string' || deployment.providerData['hostname'] !== host) {
      throw new Error(
        `its output is on host ${String(deployment.providerData['hostname'] ?? 'unknown')}, not on this server`,
      );
    }
    const handle = await open(logFile, 'r');
    try {
      const { size } = await handle.stat();
      const length = Math.min(size, LOG_TAIL_BYTES);
      const buffer = Buffer.alloc(length);
      await handle.read(buffer, 0, length, size - length);
      return { logs: buffer.toString('utf8') };
    } finally {
      await handle.close();
    }
  }

  async function close(): Promise<void> {
    isClosing = true;
    const all = [...watched.values()];
    for (const w of all) forget(w);
    if (config.keepOnShutdown) {
      for (const w of all) w.child?.unref();
      return;
    }
    await Promise.all(all.map((w) => terminate(w.pid, CLOSE_GRACE_MS)));
  }

  const location: ProviderLocation = { provider: PROCESS_PROVIDER, ...config.location };
  // A version without a command has nothing to run here: autodeploy then answers NO_PROVIDER
  // instead of starting a deployment that can only fail.
  const accepts = (version: VersionRecord) =>
    typeof version.spec['command'] === 'string' && version.spec['command'].trim() !== '';
  return { name: PROCESS_PROVIDER, locations: () => [location], accepts, start, stop, reconcile, logs, close };
}
