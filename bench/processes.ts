/**
 * The processes a benchmark run starts, and their cleanup: a throwaway PostgreSQL cluster,
 * Rallypoint servers (`node dist/src/main.js`, the same way the process tests start them) and the
 * bare Fastify server. Everything registered here is stopped by `stopEverything`, also on Ctrl-C.
 */
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnServer, stopAll, type ServerProcess } from '../test/support/processes.js';

export interface Postgres {
  url: string;
  /** The same server through its unix socket, as Rallypoint reaches its embedded PostgreSQL. */
  socketUrl: string;
  stop(): void;
  /** CPU time the server has used so far, its exited backends included (ms), or null without /proc. */
  cpuMs(): number | null;
}

const cleanups: Array<() => Promise<void> | void> = [];

export function onCleanup(step: () => Promise<void> | void): void {
  cleanups.unshift(step);
}

/** Runs every cleanup step once, newest first; a failing step does not stop the others. */
export async function stopEverything(): Promise<void> {
  while (cleanups.length > 0) {
    const step = cleanups.shift()!;
    try {
      await step();
    } catch (error) {
      process.stderr.write(`cleanup: ${(error as Error).message}\n`);
    }
  }
}

/** Durable settings (fsync, synchronous_commit on): honest commit costs. */
export async function startPostgres(): Promise<Postgres> {
  // scripts/ is plain ESM outside the compiled tree: dist/bench/ -> ../../scripts/.
  const script = new URL('../../scripts/throwaway-postgres.mjs', import.meta.url).href;
  const { startThrowawayPostgres } = (await import(script)) as {
    startThrowawayPostgres(o: {
      durable: boolean;
    }): Promise<Omit<Postgres, 'cpuMs' | 'socketUrl'> & { data: string; dir: string; port: number }>;
  };
  const pg = await startThrowawayPostgres({ durable: true });
  onCleanup(() => pg.stop());
  const socketUrl = `postgres://postgres@localhost:${pg.port}/postgres?host=${encodeURIComponent(pg.dir)}`;
  return { ...pg, socketUrl, cpuMs: () => serverTreeCpuMs(postmasterPid(pg.data)) };
}

/** utime, stime, cutime, cstime of /proc/<pid>/stat, in clock ticks. */
function cpuTicks(pid: number): number[] | null {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return fields.slice(11, 15).map(Number);
  } catch {
    return null;
  }
}

// Linux reports CPU times in ticks of 1/100 s (USER_HZ) on every architecture Node supports.
const MS_PER_TICK = 10;

/** CPU a process has used (ms), or null where /proc is missing. */
export function processCpuMs(pid: number): number | null {
  const ticks = cpuTicks(pid);
  return ticks ? (ticks[0]! + ticks[1]!) * MS_PER_TICK : null;
}

function childrenOf(pid: number): number[] {
  return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
}

/** CPU of a server and its children, live ones and those it has waited for (PostgreSQL's backends). */
export function serverTreeCpuMs(pid: number | null): number | null {
  if (pid === null) return null;
  const own = cpuTicks(pid);
  if (!own) return null;
  let ticks = own.reduce((sum, t) => sum + t, 0);
  for (const child of childrenOf(pid)) ticks += (cpuTicks(child) ?? [0, 0]).slice(0, 2).reduce((sum, t) => sum + t, 0);
  return ticks * MS_PER_TICK;
}

export interface RallypointOptions {
  databaseUrl?: string;
  key: string;
  env?: Record<string, string>;
  /** Another build's dist/src/main.js (bench/ab.ts); default this tree's. */
  mainScript?: string;
}

/** A Rallypoint server process: on PostgreSQL when databaseUrl is given, else on its embedded PostgreSQL in a temp dir. */
export async function startRallypoint(
  options: RallypointOptions,
): Promise<ServerProcess & { embeddedPid(): number | null }> {
  let dataDir: string | undefined;
  if (!options.databaseUrl) {
    dataDir = mkdtempSync(join(tmpdir(), 'rallypoint-bench-embedded-'));
    // Run as root, the embedded server runs as the `postgres` user, which must reach the directory.
    chmodSync(dataDir, 0o755);
  }
  const server = await spawnServer({
    key: options.key,
    ...(options.databaseUrl ? { databaseUrl: options.databaseUrl } : {}),
    ...(options.mainScript ? { mainScript: options.mainScript } : {}),
    // The defaults an operator gets: info logging, one line per request.
    env: {
      LOG_LEVEL: 'info',
      JOB_POLL_MS: '500',
      ...(dataDir ? { RALLYPOINT_DATA_DIR: dataDir } : {}),
      ...options.env,
    },
  });
  const stop = async () => {
    await stopAll([server]);
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  };
  onCleanup(stop);
  return { ...server, embeddedPid: () => (dataDir ? postmasterPid(join(dataDir, 'pgdata')) : null) };
}

/** The PostgreSQL server running on a cluster directory, from its postmaster.pid. */
function postmasterPid(pgdata: string): number | null {
  try {
    return Number(readFileSync(join(pgdata, 'postmaster.pid'), 'utf8').split('\n')[0]);
  } catch {
    return null;
  }
}

export async function stopRallypoint(server: ServerProcess): Promise<void> {
  await stopAll([server]);
}

export interface BareHttp {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

/** With `database`, the server also answers `/row/:id` with one statement (bare-http.ts). */
export async function startBareHttp(database?: { url: string; poolSize: number }): Promise<BareHttp> {
  const script = fileURLToPath(new URL('./bare-http.js', import.meta.url));
  const args = database ? [database.url, String(database.poolSize)] : [];
  const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      if (out.includes('\n')) resolve(Number(out.trim()));
    });
    child.once('exit', (code) => reject(new Error(`bare HTTP server exited (${code})`)));
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  onCleanup(stop);
  return { url: `http://127.0.0.1:${port}`, pid: child.pid!, stop };
}

/**
 * Memory of a server and its children in MB, as proportional set sizes (Pss: pages shared by
 * several processes, such as PostgreSQL's shared buffers, are split between them, not counted
 * in each), or null where /proc is missing.
 */
export function serverTreePssMb(pid: number | null): number | null {
  if (pid === null) return null;
  try {
    let kb = 0;
    for (const p of [pid, ...childrenOf(pid)])
      kb += Number(/Pss:\s+(\d+) kB/.exec(readFileSync(`/proc/${p}/smaps_rollup`, 'utf8'))?.[1] ?? 0);
    return Math.round(kb / 1024);
  } catch {
    return null;
  }
}

/** Resident set size of a process in MB (VmRSS from /proc), or null where /proc is missing. */
export function rssMb(pid: number): number | null {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Math.round(Number(match[1]) / 1024) : null;
  } catch {
    return null;
  }
}
