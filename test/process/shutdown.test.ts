/**
 * A real `node dist/src/main.js` process: graceful shutdown on SIGTERM, and the API key printed
 * once on the very first start. The shutdown case runs on a test database (its connections are
 * counted); the key case on the embedded PostgreSQL in a temporary directory, as a newcomer's start.
 */
import { after, describe, eventually, it } from '../support/node-test.js';
import assert from 'node:assert/strict';
import { request, Agent } from 'node:http';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { client, createTestDatabase } from '../support/harness.js';
import { spawnServer, stopAll, type ServerProcess } from '../support/processes.js';

const started: ServerProcess[] = [];
const tempDirs: string[] = [];
after(async () => {
  await stopAll(started);
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

/** A data directory whose parent does not exist yet, as on a fresh checkout (./data/rallypoint). */
function tempDataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'rallypoint-proc-'));
  chmodSync(dir, 0o755); // as root, the embedded server runs as `postgres`, which must enter it
  tempDirs.push(dir);
  return join(dir, 'data', 'rallypoint');
}

async function start(options: Parameters<typeof spawnServer>[0]): Promise<ServerProcess> {
  const server = await spawnServer(options);
  started.push(server);
  return server;
}

interface SlowRequest {
  /** Resolves when the server has read the headers (its `100 Continue`): the request is in flight. */
  accepted: Promise<void>;
  /** Sends the rest of the body; the response arrives after this. */
  finish(): void;
  response: Promise<{ status: number; body: any }>;
}

/**
 * A POST sent in parts: headers with `Expect: 100-continue` now, half of the body once the server
 * answers `100 Continue` (so it has certainly accepted the request), the rest on `finish()`.
 */
function slowPost(url: string, path: string, key: string, body: unknown, agent: Agent): SlowRequest {
  const text = JSON.stringify(body);
  const half = Math.floor(text.length / 2);
  let req!: ReturnType<typeof request>;
  const response = new Promise<{ status: number; body: any }>((resolve, reject) => {
    req = request(
      `${url}${path}`,
      {
        method: 'POST',
        agent,
        headers: {
          authorization: `token ${key}`,
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(text),
          expect: '100-continue',
        },
      },
      (res) => {
        let data = '';
        res
          .setEncoding('utf8')
          .on('data', (chunk: string) => (data += chunk))
          .on('end', () => {
            try {
              resolve({ status: res.statusCode ?? 0, body: JSON.parse(data) });
            } catch (error) {
              reject(new Error(`not JSON (${res.statusCode}): ${data}`, { cause: error }));
            }
          });
      },
    );
    req.on('error', reject);
  });
  const accepted = new Promise<void>((resolve) =>
    req.once('continue', () => {
      req.write(text.slice(0, half));
      resolve();
    }),
  );
  req.flushHeaders();
  return { accepted, finish: () => req.end(text.slice(half)), response };
}

/** Resolves once the server no longer accepts connections: it has begun draining. */
async function untilRefusingConnections(url: string, exited: Promise<unknown>): Promise<void> {
  let hasExited = false;
  void exited.then(() => (hasExited = true));
  for (;;) {
    try {
      const response = await fetch(`${url}/healthz`, { headers: { connection: 'close' } });
      await response.arrayBuffer();
    } catch {
      return;
    }
    if (hasExited) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function openConnections(databaseUrl: string): Promise<number> {
  const sql = new pg.Client({ connectionString: databaseUrl });
  await sql.connect();
  try {
    const name = new URL(databaseUrl).pathname.slice(1);
    const { rows } = await sql.query<{ n: string }>(
      'SELECT count(*) AS n FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
      [name],
    );
    return Number(rows[0]!.n);
  } finally {
    await sql.end();
  }
}

describe('graceful shutdown', () => {
  it('SIGTERM lets in-flight requests finish with 200, then exits 0 with its database closed', async () => {
    const databaseUrl = await createTestDatabase();
    const server = await start({ databaseUrl });
    const key = server.key!;
    assert.ok((await openConnections(databaseUrl)) > 0, 'the server holds connections while running');

    const agent = new Agent({ keepAlive: true });
    const names = Array.from({ length: 8 }, (_, i) => `drain-app-${i}`);
    const inFlight = names.map((name) =>
      slowPost(server.url, '/v1/app', key, { name, is_active: true, image: '' }, agent),
    );

    await Promise.all(inFlight.map((r) => r.accepted));
    server.kill('SIGTERM');
    await untilRefusingConnections(server.url, server.exited);
    for (const r of inFlight) r.finish();
    const answers = await Promise.all(inFlight.map((r) => r.response));
    agent.destroy();

    for (const [i, answer] of answers.entries()) {
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      assert.equal(answer.body.name, names[i]);
      assert.equal(answer.body.is_active, true);
    }
    const exit = await server.exited;
    assert.deepEqual(exit, { code: 0, signal: null }, server.stderr());
    // A backend leaves pg_stat_activity a moment after its client's Terminate message or closed
    // socket, not at once: wait for it, within a bound, rather than count at the exit.
    await eventually('every database connection closed', async () => (await openConnections(databaseUrl)) === 0, {
      withinMs: 10_000,
    });

    // What the drained requests wrote was committed: a new process on the same database sees it.
    const again = await start({ databaseUrl, key });
    const listed = await client(again.url, key)('GET', '/v1/apps');
    assert.equal(listed.status, 200);
    assert.deepEqual(listed.body.applications.map((a: { name: string }) => a.name).sort(), [...names].sort());
  });
});

describe('first start without RALLYPOINT_API_KEY', () => {
  it('prints a working key once; a second start on the same database prints none', async () => {
    const dataDir = tempDataDir();
    const first = await start({ key: null, env: { RALLYPOINT_DATA_DIR: dataDir } });
    const printed = /Your API key[^\n]*\n\s*\n\s+(\S+)\s*\n/.exec(first.stdout())?.[1];
    assert.ok(printed, `no key on stdout: ${JSON.stringify(first.stdout())}`);
    assert.equal(first.stdout().split(printed).length - 1, 2, 'the key itself and the curl example, nothing more');

    const apps = await client(first.url, printed)('GET', '/v1/apps');
    assert.equal(apps.status, 200, JSON.stringify(apps.body));
    assert.deepEqual(apps.body, { applications: [] });
    const wrong = await client(first.url, `${printed}x`)('GET', '/v1/apps');
    assert.equal(wrong.status, 401);
    assert.equal(typeof wrong.body.message, 'string');
    first.kill('SIGTERM');
    assert.deepEqual(await first.exited, { code: 0, signal: null }, first.stderr());

    const second = await start({ key: null, env: { RALLYPOINT_DATA_DIR: dataDir } });
    assert.ok(!second.stdout().includes(printed), 'the key is shown only once');
    assert.doesNotMatch(second.stdout(), /API key/);
    const still = await client(second.url, printed)('GET', '/v1/apps');
    assert.equal(still.status, 200, 'the printed key keeps working after a restart');
  });
});
