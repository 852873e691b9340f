/**
 * A real container engine for tests: Podman's Docker-compatible service on a socket in a
 * temporary directory, with its own store (--root/--runroot), so nothing here touches the
 * machine's containers or /etc. Settings come from scripts/podman/containers.conf. Images are
 * built locally (no registry is reachable): the Node.js base from this machine's node binary,
 * then the example echo game server FROM it.
 *
 * Podman missing is a failure, never a skip: .ci/run installs it.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Docker from 'dockerode';

/** The repository root, from dist/test/support. */
const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
export const containersConf = join(repoRoot, 'scripts/podman/containers.conf');
export const ECHO_IMAGE = 'localhost/rallypoint-echo:test';

export interface TestPodman {
  socketPath: string;
  /** A dockerode client on the service (what the provider uses too). */
  docker: Docker;
  /** Runs the podman CLI on this store; throws with its stderr on failure. */
  cli(args: string[]): string;
  /** Containers (running or not) carrying this label (`key` or `key=value`). */
  containersLabelled(label: string): Promise<Docker.ContainerInfo[]>;
  /** Stops the service, removes every container it ran and deletes its store. */
  close(): Promise<void>;
}

export function requirePodman(): void {
  const found = spawnSync('podman', ['--version'], { encoding: 'utf8' });
  if (found.error || found.status !== 0) {
    throw new Error(
      'podman is not installed (the docker provider tests need a real engine): run `apt-get install podman runc`, as .ci/run does',
    );
  }
}

async function waitForPing(docker: Docker, service: ChildProcess, log: () => string, withinMs: number): Promise<void> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    if (service.exitCode !== null) throw new Error(`podman system service exited (${service.exitCode}): ${log()}`);
    try {
      await docker.ping();
      return;
    } catch {
      if (Date.now() > deadline)
        throw new Error(`podman system service did not answer within ${withinMs} ms: ${log()}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

/** Starts a Podman service with the echo game server image built in its store. */
export async function startPodman(options: { buildEcho?: boolean } = {}): Promise<TestPodman> {
  requirePodman();
  const dir = mkdtempSync(join(tmpdir(), 'rp-podman-'));
  const globals = ['--root', join(dir, 'root'), '--runroot', join(dir, 'run'), '--storage-driver', 'overlay'];
  const env = { ...process.env, CONTAINERS_CONF: containersConf };
  const cli = (args: string[]): string => {
    const result = spawnSync('podman', [...globals, ...args], { env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    if (result.status !== 0) throw new Error(`podman ${args.join(' ')} failed (${result.status}): ${result.stderr}`);
    return result.stdout;
  };
  const socketPath = join(dir, 'podman.sock');
  let output = '';
  const service = spawn('podman', [...globals, 'system', 'service', '--time=0', `unix://${socketPath}`], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  service.stdout!.on('data', (d) => (output += d));
  service.stderr!.on('data', (d) => (output = (output + d).slice(-4000)));
  const docker = new Docker({ socketPath });
  const close = async () => {
    try {
      cli(['rm', '--all', '--force', '--time', '0']);
    } finally {
      service.kill('SIGTERM');
      if (service.exitCode === null) await new Promise((resolve) => service.once('exit', resolve));
      rmSync(dir, { recursive: true, force: true });
    }
  };
  try {
    await waitForPing(docker, service, () => output, 30_000);
    if (options.buildEcho !== false) buildEchoImage(cli, globals, env);
  } catch (error) {
    await close().catch(() => undefined);
    throw error;
  }
  return {
    socketPath,
    docker,
    cli,
    close,
    containersLabelled: (label) => docker.listContainers({ all: true, filters: { label: [label] } }),
  };
}

function buildEchoImage(cli: (args: string[]) => string, globals: string[], env: NodeJS.ProcessEnv): void {
  const base = spawnSync(process.execPath, [join(repoRoot, 'scripts/node-base-image.mjs'), '--', ...globals], {
    env,
    encoding: 'utf8',
  });
  if (base.status !== 0) throw new Error(`node-base-image failed: ${base.stderr}`);
  cli([
    'build',
    '--quiet',
    '--build-arg',
    `BASE=${base.stdout.trim()}`,
    '-t',
    ECHO_IMAGE,
    join(repoRoot, 'examples/echo-server'),
  ]);
}
