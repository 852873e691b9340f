/**
 * Real server processes (`node dist/src/main.js`) for tests that need more than one process on
 * one database, or need to watch a process start and stop. The harness's in-process service
 * cannot show what a second process, a signal or a first start on an empty database does.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

/** dist/src/main.js, next to the compiled test tree this file lives in. */
export const mainScript = fileURLToPath(new URL('../../src/main.js', import.meta.url));

/** A port nothing listens on right now; PORT=0 would hide the port from the parent. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface ServerProcess {
  url: string;
  pid: number;
  /** The key the process was started with (undefined when none was configured). */
  key: string | undefined;
  /** Everything the process wrote to stdout so far. */
  stdout(): string;
  stderr(): string;
  kill(signal?: NodeJS.Signals): void;
  /** Resolves when the process has exited, with its exit code or the signal that ended it. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export interface SpawnServerOptions {
  /** Omit for the embedded PostgreSQL (then set RALLYPOINT_DATA_DIR in env). */
  databaseUrl?: string;
  /** API key to configure; `null` starts without RALLYPOINT_API_KEY (first-start key printing). */
  key?: string | null;
  env?: Record<string, string>;
  /** How long to wait for GET /readyz to answer 200. */
  readyTimeoutMs?: number;
  /** The server entry to run; default this tree's dist/src/main.js (benchmarks compare builds). */
  mainScript?: string;
}

async function isReady(url: string): Promise<boolean> {
  try {
    const response = await fetch(`${url}/readyz`);
    await response.arrayBuffer();
    return response.status === 200;
  } catch {
    return false;
  }
}

/**
 * Starts `node dist/src/main.js` and resolves once GET /readyz answers 200. Rejects (and kills
 * the process) if it exits first or is not ready in time, with its stderr in the message.
 */
export async function spawnServer(options: SpawnServerOptions = {}): Promise<ServerProcess> {
  const port = await freePort();
  const key = options.key === null ? undefined : (options.key ?? `rp_proc_${randomBytes(16).toString('hex')}`);
  const env: Record<string, string> = {
    PATH: process.env['PATH'] ?? '',
    HOST: '127.0.0.1',
    PORT: String(port),
    LOG_LEVEL: 'warn',
    JOB_POLL_MS: '200',
    ...(options.databaseUrl ? { DATABASE_URL: options.databaseUrl } : {}),
    ...(key ? { RALLYPOINT_API_KEY: key } : {}),
    ...options.env,
  };
  const child = spawn(process.execPath, [options.mainScript ?? mainScript], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
  let hasExited = false;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      hasExited = true;
      resolve({ code, signal });
    });
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + (options.readyTimeoutMs ?? 120_000);
  while (!(await isReady(url))) {
    if (hasExited) throw new Error(`server exited before it was ready: ${(await exited).code}\n${err}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`server not ready after ${options.readyTimeoutMs ?? 120_000} ms\n${err}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    url,
    pid: child.pid!,
    key,
    stdout: () => out,
    stderr: () => err,
    kill: (signal = 'SIGTERM') => void (hasExited || child.kill(signal)),
    exited,
  };
}

/** Stops processes a test started, SIGKILL if SIGTERM did not end them in time. */
export async function stopAll(processes: readonly ServerProcess[], timeoutMs = 15_000): Promise<void> {
  await Promise.all(
    processes.map(async (server) => {
      server.kill('SIGTERM');
      const timer = setTimeout(() => server.kill('SIGKILL'), timeoutMs);
      await server.exited;
      clearTimeout(timer);
    }),
  );
}
