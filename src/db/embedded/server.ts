/**
 * The embedded PostgreSQL server: a real PostgreSQL from npm, started in RALLYPOINT_DATA_DIR when
 * no DATABASE_URL is given, stopped with the service.
 *
 * - First start: initdb into `pgdata/` (renamed into place only once complete, so an interrupted
 *   first start is simply redone).
 * - Every start: the server a killed run left behind (postmaster.pid of a live server) is shut
 *   down cleanly first, then started with our settings; a crashed server is recovered by
 *   PostgreSQL itself from its write-ahead log.
 * - Listens on a unix socket inside `pgdata/` (mode 0700: only this user, or root and `postgres`)
 *   and, only when a port is configured, on 127.0.0.1 with a password. Durable settings.
 */
import { chownSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import pg from 'pg';
import {
  EmbeddedPostgresError,
  findBinaries,
  runTool,
  serverUser,
  type PgBinaries,
  type ServerUser,
} from './binaries.js';
import { inspectDataDir, lockDataDir, MARKER_FILE, readMarker, writeMarker, type Marker } from './data-dir.js';

export { EmbeddedPostgresError } from './binaries.js';

export interface EmbeddedPostgresOptions {
  /** RALLYPOINT_DATA_DIR. */
  dataDir: string;
  /** Also listen on 127.0.0.1:port (RALLYPOINT_EMBEDDED_PORT); the unix socket is always there. */
  tcpPort?: number | undefined;
  /** Progress worth telling an operator (first start, a left-over server stopped). */
  log?: (message: string) => void;
}

export interface EmbeddedPostgres {
  /** Connection string for the `rallypoint` database over the unix socket. */
  url: string;
  /** Shuts the server down cleanly and releases the data directory. */
  stop(): Promise<void>;
}

const DATABASE = 'rallypoint';
/** Names the socket file `.s.PGSQL.<port>` when there is no TCP port. */
const SOCKET_ONLY_PORT = 5432;
/** Unix socket paths are limited to 104 bytes (macOS) or 108 (Linux), terminator included. */
const MAX_SOCKET_PATH = 103;

interface Cluster {
  dir: string;
  pgdata: string;
  port: number;
  tcpPort: number | undefined;
  bins: PgBinaries;
  user: ServerUser;
}

function refuseUnusable(dir: string): void {
  const state = inspectDataDir(dir);
  if (state === 'pglite') {
    throw new EmbeddedPostgresError(
      `RALLYPOINT_DATA_DIR ${dir} holds a PGlite database from an earlier Rallypoint, which this version no longer opens; see README, "Data from the PGlite default", to carry it over or move it aside`,
    );
  }
  if (state === 'foreign') {
    throw new EmbeddedPostgresError(
      `RALLYPOINT_DATA_DIR ${dir} exists and is not a Rallypoint data directory (no ${MARKER_FILE}); choose an empty or new directory`,
    );
  }
}

async function initialise(cluster: Cluster, marker: Marker): Promise<void> {
  const staging = `${cluster.pgdata}.init`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { mode: 0o700 });
  if (cluster.user.uid !== undefined) chownSync(staging, cluster.user.uid, cluster.user.gid!);
  const passwordFile = join(staging, 'initial-password');
  writeFileSync(passwordFile, `${marker.password}\n`, { mode: 0o600 });
  if (cluster.user.uid !== undefined) chownSync(passwordFile, cluster.user.uid, cluster.user.gid!);
  // initdb refuses a non-empty directory; it gets a subdirectory and we move it up afterwards.
  const result = await runTool(
    cluster.bins.initdb,
    [
      '-D',
      join(staging, 'cluster'),
      '-U',
      'postgres',
      `--pwfile=${passwordFile}`,
      '--auth-local=trust',
      '--auth-host=scram-sha-256',
      '-E',
      'UTF8',
      '--locale=C',
    ],
    cluster.user,
  );
  if (result.code !== 0) throw new EmbeddedPostgresError(`initdb failed in ${staging}: ${lastError(result.stderr)}`);
  renameSync(join(staging, 'cluster'), cluster.pgdata);
  rmSync(staging, { recursive: true, force: true });
  writeFileSync(
    join(cluster.pgdata, 'postgresql.conf'),
    "\n# Rallypoint's settings, rewritten on every start\ninclude_if_exists = 'rallypoint.conf'\n",
    { flag: 'a' },
  );
}

function quote(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

function writeSettings(cluster: Cluster): void {
  const settings = [
    `listen_addresses = ${quote(cluster.tcpPort === undefined ? '' : '127.0.0.1')}`,
    `port = ${cluster.port}`,
    `unix_socket_directories = ${quote(cluster.pgdata)}`,
    'unix_socket_permissions = 0700',
    // Durable: a commit Rallypoint acknowledged survives a power cut.
    'fsync = on',
    'synchronous_commit = on',
    'full_page_writes = on',
  ];
  const path = join(cluster.pgdata, 'rallypoint.conf');
  writeFileSync(path, `${settings.join('\n')}\n`);
  if (cluster.user.uid !== undefined) chownSync(path, cluster.user.uid, cluster.user.gid!);
}

/** The most useful line of a failed start or init: the first FATAL/ERROR, else the last line. */
function lastError(text: string): string {
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  return lines.find((l) => /FATAL|ERROR|error:/.test(l)) ?? lines.at(-1) ?? 'no output';
}

/**
 * After a reboot the PID in a stale postmaster.pid can belong to an unrelated process, even another
 * PostgreSQL; where /proc tells, only a process started on this very directory is ours to stop.
 */
function isOurPostmaster(cluster: Cluster): boolean {
  const pid = readFileSync(join(cluster.pgdata, 'postmaster.pid'), 'utf8').split('\n')[0]?.trim();
  const cmdline = `/proc/${pid}/cmdline`;
  if (!existsSync('/proc/self/cmdline')) return true;
  return existsSync(cmdline) && readFileSync(cmdline, 'utf8').split('\0').includes(cluster.pgdata);
}

/** A server still running on `pgdata` is one a killed run left behind (we hold the lock): stop it. */
async function stopLeftover(cluster: Cluster, log: (message: string) => void): Promise<void> {
  if (!existsSync(join(cluster.pgdata, 'postmaster.pid'))) return;
  const status = await runTool(cluster.bins.pgCtl, ['status', '-D', cluster.pgdata], cluster.user);
  // Not running: PostgreSQL clears a stale postmaster.pid itself.
  if (status.code !== 0 || !isOurPostmaster(cluster)) return;
  log('stopping the embedded PostgreSQL an earlier run left running');
  const stopped = await runTool(
    cluster.bins.pgCtl,
    ['stop', '-D', cluster.pgdata, '-m', 'fast', '-w', '-t', '120'],
    cluster.user,
  );
  if (stopped.code !== 0)
    throw new EmbeddedPostgresError(
      `could not stop the PostgreSQL left running in ${cluster.pgdata}: ${lastError(stopped.stderr)}`,
    );
}

function startFailure(cluster: Cluster, serverLog: string): EmbeddedPostgresError {
  const recent = serverLog.split('\n').slice(-30).join('\n');
  if (/could not bind .*Address already in use/i.test(recent)) {
    return new EmbeddedPostgresError(
      `port ${cluster.tcpPort} on 127.0.0.1 is in use; choose another RALLYPOINT_EMBEDDED_PORT or unset it (the unix socket needs no port)`,
    );
  }
  const socket = /lock file "([^"]*\.s\.PGSQL\.\d+\.lock)" already exists/.exec(recent);
  if (socket)
    return new EmbeddedPostgresError(
      `socket ${socket[1]!.replace(/\.lock$/, '')} is in use by another PostgreSQL; stop it or choose another RALLYPOINT_EMBEDDED_PORT`,
    );
  return new EmbeddedPostgresError(
    `the embedded PostgreSQL did not start: ${lastError(recent)} (log: ${join(cluster.pgdata, 'server.log')})`,
  );
}

async function startServer(cluster: Cluster): Promise<void> {
  writeSettings(cluster);
  const logFile = join(cluster.pgdata, 'server.log');
  const before = existsSync(logFile) ? readFileSync(logFile, 'utf8').length : 0;
  // Its own session (detached): Ctrl-C in a terminal reaches Rallypoint, which then drains and
  // stops the server in order, instead of reaching both at once.
  const started = await runTool(
    cluster.bins.pgCtl,
    ['start', '-D', cluster.pgdata, '-l', logFile, '-w', '-t', '120'],
    cluster.user,
    { detached: true },
  );
  if (started.code !== 0)
    throw startFailure(cluster, existsSync(logFile) ? readFileSync(logFile, 'utf8').slice(before) : started.stderr);
}

function connectionString(cluster: Cluster, database: string): string {
  return `postgres://postgres@${encodeURIComponent(cluster.pgdata)}:${cluster.port}/${database}`;
}

async function ensureDatabase(cluster: Cluster): Promise<void> {
  const client = new pg.Client({ connectionString: connectionString(cluster, 'postgres') });
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [DATABASE]);
    if (found.rowCount === 0) await client.query(`CREATE DATABASE ${DATABASE}`);
  } finally {
    await client.end();
  }
}

async function prepareCluster(options: EmbeddedPostgresOptions): Promise<Cluster> {
  const dir = resolve(options.dataDir);
  const pgdata = join(dir, 'pgdata');
  const port = options.tcpPort ?? SOCKET_ONLY_PORT;
  const socketPath = join(pgdata, `.s.PGSQL.${port}`);
  if (Buffer.byteLength(socketPath) > MAX_SOCKET_PATH) {
    throw new EmbeddedPostgresError(
      `RALLYPOINT_DATA_DIR ${dir} is too long for the server's unix socket (${socketPath} is over ${MAX_SOCKET_PATH} bytes); choose a shorter path`,
    );
  }
  refuseUnusable(dir);
  const bins = await findBinaries();
  const user = await serverUser();
  if (user.uid !== undefined) await refuseUnreachable([dir, dirname(bins.postgres)], user);
  return { dir, pgdata, port, tcpPort: options.tcpPort, bins, user };
}

/** As root the server runs as `postgres`, which must be able to enter these directories (not /root/...). */
async function refuseUnreachable(paths: string[], user: ServerUser): Promise<void> {
  for (const path of paths) {
    mkdirSync(path, { recursive: true });
    if ((await runTool('test', ['-x', path], user)).code !== 0) {
      throw new EmbeddedPostgresError(
        `running as root, the embedded PostgreSQL runs as the "postgres" user, which cannot enter ${path}; make it and its parents searchable (chmod o+x), run Rallypoint as another user, or set DATABASE_URL`,
      );
    }
  }
}

/**
 * Starts (initialising on first use) the embedded server in `options.dataDir`.
 * @example const server = await startEmbeddedPostgres({ dataDir: './data/rallypoint' }); // server.url
 */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const log = options.log ?? (() => undefined);
  const cluster = await prepareCluster(options);
  mkdirSync(cluster.dir, { recursive: true });
  const unlock = lockDataDir(cluster.dir);
  let isRunning = false;
  try {
    refuseUnusable(cluster.dir); // again under the lock: another process may have just written it
    const marker = inspectDataDir(cluster.dir) === 'ours' ? readMarker(cluster.dir) : writeMarker(cluster.dir);
    if (!existsSync(join(cluster.pgdata, 'PG_VERSION'))) {
      log(`initialising the embedded PostgreSQL in ${cluster.pgdata}`);
      await initialise(cluster, marker);
    }
    await stopLeftover(cluster, log);
    await startServer(cluster);
    isRunning = true;
    await ensureDatabase(cluster);
    // The URL a second process, psql or pg_dump can use while this process runs.
    log(`embedded PostgreSQL ready at ${connectionString(cluster, DATABASE)}`);
  } catch (error) {
    if (isRunning) await stopServer(cluster).catch(() => undefined);
    unlock();
    throw error;
  }
  return {
    url: connectionString(cluster, DATABASE),
    async stop() {
      try {
        await stopServer(cluster);
      } finally {
        unlock();
      }
    },
  };
}

async function stopServer(cluster: Cluster): Promise<void> {
  const stopped = await runTool(
    cluster.bins.pgCtl,
    ['stop', '-D', cluster.pgdata, '-m', 'fast', '-w', '-t', '120'],
    cluster.user,
  );
  // Already stopped (by hand, or by a signal to its process group) is fine.
  if (stopped.code !== 0 && !/Is server running\?/.test(stopped.stderr)) {
    throw new EmbeddedPostgresError(`could not stop the embedded PostgreSQL: ${lastError(stopped.stderr)}`);
  }
}
