import { after, before, describe, eventually, it, LONG_TEST_MS } from '../support/node-test.js';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { client, registerServer, seedVersion } from '../support/harness.js';
import { spawnServer, stopAll, type ServerProcess } from '../support/processes.js';

interface Cluster {
  url: string;
  pause(): void;
  resume(): void;
  stop(): void;
}

/** A cluster of our own: stopping the suite's shared one would break the other tests. */
async function ownCluster(): Promise<Cluster> {
  const module = await import(new URL('../../../scripts/throwaway-postgres.mjs', import.meta.url).href);
  return module.startThrowawayPostgres();
}

async function seatDrift(url: string): Promise<unknown[]> {
  const db = new pg.Client({ connectionString: url });
  await db.connect();
  try {
    const { rows } = await db.query(
      'SELECT d.request_id FROM deployments d WHERE d.sockets_usage <> (SELECT COALESCE(sum(seats), 0) FROM sessions WHERE deployment_id = d.id)',
    );
    return rows;
  } finally {
    await db.end();
  }
}

/** Creates sessions in a loop until stopped, counting answers by status (-1: no answer). */
function startLoad(server: ServerProcess, app: string) {
  const seen = new Map<number, number>();
  const errorBodies: string[] = [];
  let running = true;
  const loop = async () => {
    while (running) {
      const res = await fetch(`${server.url}/v1/session`, {
        method: 'POST',
        headers: { authorization: `token ${server.key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ app_name: app, ip_list: ['192.0.2.1'] }),
        signal: AbortSignal.timeout(20_000),
      }).catch(() => undefined);
      const status = res?.status ?? -1;
      seen.set(status, (seen.get(status) ?? 0) + 1);
      if (res && status !== 200) errorBodies.push(await res.text());
      else await res?.arrayBuffer();
      if (status !== 200) await sleep(20);
    }
  };
  const loops = Array.from({ length: 4 }, loop);
  return {
    seen,
    errorBodies,
    async stop() {
      running = false;
      await Promise.all(loops);
    },
  };
}

describe('database outage', () => {
  let cluster: Cluster;
  let server: ServerProcess;
  before(async () => {
    cluster = await ownCluster();
    server = await spawnServer({ databaseUrl: cluster.url });
  });
  after(async () => {
    await stopAll([server]);
    cluster.stop();
  });

  it(
    'answers 503 {message} while PostgreSQL is down, never crashes, and recovers without a restart',
    { timeout: LONG_TEST_MS },
    async () => {
      const call = client(server.url, server.key);
      const { app } = await seedVersion(call, { sockets: 100_000 });
      await registerServer(call, { app, version: 'v1', sockets: 100_000 });

      const load = startLoad(server, app);
      let readyDuring: { status: number; body: { message?: string } } | undefined;
      let recovered: boolean;
      let okBeforeRecovery: number;
      try {
        await eventually('creates succeeding before the outage', () => (load.seen.get(200) ?? 0) >= 5, {
          withinMs: 60_000,
        });
        cluster.pause();
        const res = await fetch(`${server.url}/readyz`, { signal: AbortSignal.timeout(10_000) }).catch(() => undefined);
        if (res) readyDuring = { status: res.status, body: (await res.json()) as { message?: string } };
        // The outage lasts at least 3 s, and until the load has met it.
        await sleep(3_000);
        await eventually('a 503 during the outage', () => (load.seen.get(503) ?? 0) > 0, { withinMs: 60_000 }).catch(
          () => undefined,
        );
        cluster.resume();
        recovered = await eventually(
          'readiness back',
          async () =>
            (await fetch(`${server.url}/readyz`, { signal: AbortSignal.timeout(5_000) }).catch(() => undefined))
              ?.status === 200,
          { withinMs: 60_000, everyMs: 200 },
        ).catch(() => false);
        okBeforeRecovery = load.seen.get(200) ?? 0;
        await eventually('a create succeeding after recovery', () => (load.seen.get(200) ?? 0) > okBeforeRecovery, {
          withinMs: 60_000,
        }).catch(() => undefined);
      } finally {
        await load.stop();
      }

      const summary = JSON.stringify(Object.fromEntries(load.seen));
      assert.doesNotThrow(
        () => process.kill(server.pid, 0),
        `the server process died:\n${server.stderr().slice(-3000)}`,
      );
      assert.equal(readyDuring?.status, 503);
      assert.equal(typeof readyDuring?.body.message, 'string');
      assert.ok(recovered, 'readiness did not come back');
      assert.ok((load.seen.get(503) ?? 0) > 0, `no 503 during the outage: ${summary}`);
      assert.ok((load.seen.get(200) ?? 0) > okBeforeRecovery, `no successful create after recovery: ${summary}`);
      // A 500 says only "it has been logged": name the server's logged error, to find its path.
      const unhandled = () =>
        `${server.stdout()}${server.stderr()}`
          .split('\n')
          .filter((line) => line.includes('unhandled error'))
          .slice(0, 3)
          .join('\n');
      for (const status of load.seen.keys())
        assert.ok(status === 200 || status === 503, `unexpected status ${status}: ${summary}\n${unhandled()}`);
      for (const body of load.errorBodies) assert.equal(typeof JSON.parse(body).message, 'string');
      assert.ok(
        !load.errorBodies.some((b) => /ECONNREFUSED|terminat|pg_|postgres/i.test(b)),
        'a driver message reached a client',
      );
      assert.deepEqual(await seatDrift(cluster.url), []);
      console.log(`outage: answers by status ${summary}`);
    },
  );
});
