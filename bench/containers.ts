/**
 * Containers on one host: how long a deployment takes from POST /v1/deploy to Status.READY, and
 * how many deploys one host takes per second when they arrive together, beside the time the
 * engine alone needs to create and start the same container until its TCP port answers.
 *
 *   node dist/bench/containers.js        (also part of `npm run bench`; BENCH_CONTAINERS=off skips it)
 *   BENCH_CONTAINER_RUNS=20 BENCH_CONTAINER_BURST=10
 *
 * Runs a Podman service of its own (as the tests do), a throwaway PostgreSQL, and Rallypoint in
 * this process. Figures only: nothing here passes or fails on time.
 */
import { realpathSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import type Docker from 'dockerode';
import { loadConfig } from '../src/config.js';
import { insertHost } from '../src/db/queries/hosts.js';
import { acceptsTcp } from '../src/providers/process/ports.js';
import { startService } from '../src/service.js';
import { ECHO_IMAGE, startPodman, type TestPodman } from '../test/support/podman.js';
import { startPostgres } from './processes.js';

const RUNS = Number(process.env['BENCH_CONTAINER_RUNS'] ?? 10);
const BURST = Number(process.env['BENCH_CONTAINER_BURST'] ?? 10);
const KEY = 'rp_bench_containers_0123456789abcdef';

export interface ContainerFigures {
  runs: number;
  engineAlone: { p50Ms: number; p99Ms: number };
  deployToReady: { p50Ms: number; p99Ms: number };
  burst: { deploys: number; seconds: number; deploysPerSecond: number };
}

const log = (line: string) => process.stderr.write(`bench: containers: ${line}\n`);

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return Math.round(sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!);
}

async function until(what: string, check: () => Promise<boolean>, withinMs = 120_000): Promise<void> {
  const deadline = Date.now() + withinMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** A TCP port nothing on this machine listens on right now. */
function freeTcpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
      .once('error', reject)
      .listen(0, '127.0.0.1', () => {
        const { port } = server.address() as AddressInfo;
        server.close(() => resolve(port));
      });
  });
}

/** The same container the provider would run, started by the engine alone, until its TCP port answers. */
async function engineAloneMs(docker: Docker, port: number): Promise<number> {
  const started = performance.now();
  const container = await docker.createContainer({
    Image: ECHO_IMAGE,
    Env: [
      `ARBITRIUM_PORTS_MAPPING=${JSON.stringify({ ports: { control: { name: 'control', internal: 7778, external: port, protocol: 'TCP' } } })}`,
    ],
    ExposedPorts: { '7778/tcp': {} },
    HostConfig: { PortBindings: { '7778/tcp': [{ HostIp: '127.0.0.1', HostPort: String(port) }] } },
  });
  await container.start();
  await until('the engine-started container', () => acceptsTcp(port, 500));
  const elapsed = performance.now() - started;
  await container.remove({ force: true });
  return elapsed;
}

export async function measureContainers(): Promise<ContainerFigures> {
  log('starting a Podman service and building the echo image');
  const podman: TestPodman = await startPodman();
  const postgres = await startPostgres();
  const config = loadConfig({
    HOST: '0.0.0.0',
    PORT: '0',
    LOG_LEVEL: 'warn',
    RALLYPOINT_API_KEY: KEY,
    DATABASE_URL: postgres.url,
    JOB_POLL_MS: '20',
    PROVIDERS: 'registered,docker',
    DOCKER_CALLBACK_URL: 'http://host.containers.internal:0',
  });
  const service = await startService({ config });
  try {
    const listening = await service.app.listen({ host: '0.0.0.0', port: 0 });
    const url = `http://127.0.0.1:${new URL(listening).port}`;
    const call = async (method: string, path: string, body?: unknown) => {
      const response = await fetch(`${url}${path}`, {
        method,
        headers: { authorization: `token ${KEY}`, ...(body ? { 'content-type': 'application/json' } : {}) },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
      return { status: response.status, body: (await response.json()) as Record<string, any> };
    };
    await insertHost(service.deps.db, {
      name: 'bench-host',
      endpoint: { kind: 'socket', path: podman.socketPath },
      publicIp: '127.0.0.1',
      place: {
        city: 'Local',
        country: 'Local',
        continent: 'Local',
        administrativeDivision: '',
        region: '',
        timezone: 'UTC',
        latitude: null,
        longitude: null,
      },
      cpuUnits: 1024 * 64,
      memoryMb: 64 * 1024,
      portMin: 44000,
      portMax: 44999,
      tags: [],
      now: new Date(),
    });
    await call('POST', '/v1/app', { name: 'bench-echo', is_active: true, image: '' });
    const version = await call('POST', '/v1/app/bench-echo/version', {
      name: 'v1',
      docker_repository: 'localhost',
      docker_image: 'rallypoint-echo',
      docker_tag: 'test',
      req_cpu: 128,
      req_memory: 128,
      ports: [{ port: 7778, protocol: 'TCP', name: 'control' }],
      session_config: { kind: 'Match', sockets: 2 },
    });
    if (version.status !== 200) throw new Error(`version: ${JSON.stringify(version.body)}`);
    const deployAndWait = async () => {
      const deployed = await call('POST', '/v1/deploy', { app_name: 'bench-echo' });
      if (deployed.status !== 200) throw new Error(`deploy: ${deployed.status} ${JSON.stringify(deployed.body)}`);
      const requestId = deployed.body['request_id'] as string;
      await until(
        `${requestId} ready`,
        async () => (await call('GET', `/v1/status/${requestId}`)).body['current_status'] === 'Status.READY',
      );
      return requestId;
    };
    const stopAll = async (ids: string[]) => {
      for (const id of ids) await call('DELETE', `/v1/stop/${id}`);
      await until(
        'containers removed',
        async () => (await podman.containersLabelled('io.rallypoint.managed=true')).length === 0,
      );
    };

    log(`engine alone, ${RUNS} runs`);
    const alone: number[] = [];
    for (let i = 0; i < RUNS; i++) alone.push(await engineAloneMs(podman.docker, await freeTcpPort()));
    log(`deploy to ready, ${RUNS} runs`);
    const viaRallypoint: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const started = performance.now();
      const id = await deployAndWait();
      viaRallypoint.push(performance.now() - started);
      await stopAll([id]);
    }
    log(`${BURST} deploys at once`);
    const burstStarted = performance.now();
    const ids = await Promise.all(Array.from({ length: BURST }, deployAndWait));
    const seconds = (performance.now() - burstStarted) / 1000;
    await stopAll(ids);
    return {
      runs: RUNS,
      engineAlone: { p50Ms: percentile(alone, 50), p99Ms: percentile(alone, 99) },
      deployToReady: { p50Ms: percentile(viaRallypoint, 50), p99Ms: percentile(viaRallypoint, 99) },
      burst: {
        deploys: BURST,
        seconds: Math.round(seconds * 100) / 100,
        deploysPerSecond: Math.round((BURST / seconds) * 100) / 100,
      },
    };
  } finally {
    // Each step runs even when an earlier one fails, so no engine, store or cluster is left behind.
    await service.close().catch((error) => log(`closing the service: ${String(error)}`));
    await podman.close().catch((error) => log(`closing Podman: ${String(error)}`));
    postgres.stop();
  }
}

export function renderContainers(f: ContainerFigures): string {
  return [
    `containers on one host (${f.runs} runs each, Podman):`,
    `| measure | p50 ms | p99 ms |`,
    `|---|---|---|`,
    `| engine alone: create + start until the TCP port answers | ${f.engineAlone.p50Ms} | ${f.engineAlone.p99Ms} |`,
    `| Rallypoint: POST /v1/deploy until Status.READY | ${f.deployToReady.p50Ms} | ${f.deployToReady.p99Ms} |`,
    `${f.burst.deploys} deploys at once: all READY in ${f.burst.seconds} s, ${f.burst.deploysPerSecond} deploys/s`,
  ].join('\n');
}

if (process.argv[1] && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  measureContainers().then(
    (figures) => process.stdout.write(`${renderContainers(figures)}\n`),
    (error) => {
      process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
