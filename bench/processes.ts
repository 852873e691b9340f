/**
 * The processes a benchmark run starts, and their cleanup: a throwaway PostgreSQL cluster,
 * Rallypoint servers (`node dist/src/main.js`, the same way the process tests start them) and the
 * bare Fastify server. Everything registered here is stopped by `stopEverything`, also on Ctrl-C.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnServer, stopAll, type ServerProcess } from '../test/support/processes.js';

export interface Postgres { url: string; stop(): void }

const cleanups: Array<() => Promise<void> | void> = [];

export function onCleanup(step: () => Promise<void> | void): void {
  cleanups.unshift(step);
}

/** Runs every cleanup step once, newest first; a failing step does not stop the others. */
export async function stopEverything(): Promise<void> {
  while (cleanups.length > 0) {
    const step = cleanups.shift()!;
    try { await step(); } catch (error) { process.stderr.write(`cleanup: ${(error as Error).message}\n`); }
  }
}

/** Durable settings (fsync, synchronous_commit on): honest commit costs. */
export async function startPostgres(): Promise<Postgres> {
  // scripts/ is plain ESM outside the compiled tree: dist/bench/ -> ../../scripts/.
  const script = new URL('../../scripts/throwaway-postgres.mjs', import.meta.url).href;
  const { startThrowawayPostgres } = (await import(script)) as { startThrowawayPostgres(o: { durable: boolean }): Promise<Postgres> };
  const pg = await startThrowawayPostgres({ durable: true });
  onCleanup(() => pg.stop());
  return pg;
}

export interface RallypointOptions {
  databaseUrl?: string;
  key: string;
  env?: Record<string, string>;
}

/** A Rallypoint server process: on PostgreSQL when databaseUrl is given, else on its embedded PostgreSQL in a temp dir. */
export async function startRallypoint(options: RallypointOptions): Promise<ServerProcess> {
  let dataDir: string | undefined;
  if (!options.databaseUrl) dataDir = mkdtempSync(join(tmpdir(), 'rallypoint-bench-embedded-'));
  const server = await spawnServer({
    key: options.key,
    ...(options.databaseUrl ? { databaseUrl: options.databaseUrl } : {}),
    // The defaults an operator gets: info logging (per-request logging is off in the server).
    env: { LOG_LEVEL: 'info', JOB_POLL_MS: '500', ...(dataDir ? { RALLYPOINT_DATA_DIR: dataDir } : {}), ...options.env },
  });
  const stop = async () => {
    await stopAll([server]);
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  };
  onCleanup(stop);
  return server;
}

export async function stopRallypoint(server: ServerProcess): Promise<void> {
  await stopAll([server]);
}

export interface BareHttp { url: string; pid: number; stop(): Promise<void> }

export async function startBareHttp(): Promise<BareHttp> {
  const script = fileURLToPath(new URL('./bare-http.js', import.meta.url));
  const child = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'inherit'] });
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

/** Resident set size of a process in MB (VmRSS from /proc), or null where /proc is missing. */
export function rssMb(pid: number): number | null {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Math.round(Number(match[1]) / 1024) : null;
  } catch {
    return null;
  }
}
