/**
 * Two real server processes on one PostgreSQL database, far more demand than capacity.
 * docs/wire-contract.md#placement-atomic: a deployment never holds more than `sockets`, and a
 * session never fails while a qualifying deployment has room, across any number of server
 * processes. Checked on the wire (samples of GET /v1/deployments during the race) and in the
 * database afterwards.
 */
import { after, before, describe, it, LONG_TEST_MS } from '../support/node-test.js';
import assert from 'node:assert/strict';
import type { Db } from '../../src/db/db.js';
import { createPgDb } from '../../src/db/pg-adapter.js';
import { selectSeatDrift } from '../../src/db/queries/deployments.js';
import { client, createTestDatabase, registerServer, seedVersion, type ApiResponse } from '../support/harness.js';
import { spawnServer, stopAll, type ServerProcess } from '../support/processes.js';

const CLIENTS = 64;
const DEPLOYMENTS = 3;
const SOCKETS = 4;
/** Create / add / remove / maybe delete rounds per client in the mixed race. */
const ROUNDS = 3;

type Call = ReturnType<typeof client>;

/** Unique IPs across the whole test, so every add really adds a user. */
let ipCounter = 0;
const nextIp = () => {
  ipCounter += 1;
  return `10.${(ipCounter >> 16) & 255}.${(ipCounter >> 8) & 255}.${ipCounter & 255}`;
};
const ips = (count: number) => Array.from({ length: count }, nextIp);

interface Outcome {
  sessionId: string;
  seats: number;
  requestId: string | undefined;
  /** Users the client believes the session has at the end (what the server answered last). */
  users: string[];
  deleted: boolean;
  /** 422 answers to adding one user to the linked deployment. */
  refusedAdds: number;
}

/** Fails the test on any answer outside `allowed`, showing the body (a 5xx is always a bug). */
function expectStatus(response: ApiResponse, allowed: number[], what: string): void {
  assert.ok(allowed.includes(response.status), `${what}: ${response.status} ${JSON.stringify(response.body)}`);
}

async function createOne(call: Call, app: string, seats: number): Promise<Outcome> {
  const users = ips(seats);
  const created = await call('POST', '/v1/session', { app_name: app, ip_list: users });
  expectStatus(created, [200], 'create');
  assert.match(created.body.session_id, /^[0-9a-f]{12}-S$/);
  return {
    sessionId: created.body.session_id,
    seats,
    requestId: created.body.deployment_request_id,
    users,
    deleted: false,
    refusedAdds: 0,
  };
}

async function addOne(call: Call, outcome: Outcome): Promise<string | undefined> {
  const ip = nextIp();
  const added = await call('PUT', `/v1/session/${outcome.sessionId}/users`, { ip_list: [ip] });
  expectStatus(added, [200, 422], 'add user');
  if (added.status === 422) {
    assert.equal(added.body.code, 'NOT_ENOUGH_SEATS', JSON.stringify(added.body));
    outcome.refusedAdds += 1;
    return undefined;
  }
  assert.deepEqual(added.body.session_users.map((u: { ip: string }) => u.ip).sort(), [...outcome.users, ip].sort());
  outcome.users = [...outcome.users, ip];
  return ip;
}

describe('two server processes on one PostgreSQL database', () => {
  let servers: ServerProcess[] = [];
  let calls: Call[] = [];
  let db: Db;
  let app: string;
  let requestIds: string[];
  const samples: Array<{ request_id: string; sockets: number; sockets_usage: number }> = [];

  before(async () => {
    const databaseUrl = await createTestDatabase();
    const first = await spawnServer({ databaseUrl });
    const second = await spawnServer({ databaseUrl, key: first.key! });
    servers = [first, second];
    calls = servers.map((s) => client(s.url, s.key));
    db = createPgDb({ connectionString: databaseUrl, poolSize: 2 });
    ({ app } = await seedVersion(calls[0]!, { sockets: SOCKETS }));
    requestIds = [];
    for (let i = 0; i < DEPLOYMENTS; i += 1) {
      requestIds.push(
        await registerServer(calls[0]!, { app, version: 'v1', sockets: SOCKETS, ip: `203.0.113.${10 + i}` }),
      );
    }
  });
  after(async () => {
    await stopAll(servers);
    await db?.close();
    // A 500 in the race says only "logged": show what the processes logged.
    for (const s of servers)
      if (s.stdout().includes('"level":50')) process.stderr.write(`server ${s.pid} log:\n${s.stdout()}\n`);
  });

  /** Runs `race` while polling GET /v1/deployments on both processes; keeps every sample. */
  async function whileSampling<T>(race: () => Promise<T>): Promise<T> {
    let running = true;
    const sample = async (call: Call) => {
      while (running) {
        const listed = await call('GET', '/v1/deployments?limit=1000');
        expectStatus(listed, [200], 'list deployments');
        samples.push(...listed.body.data);
      }
    };
    const samplers = calls.map(sample);
    try {
      return await race();
    } finally {
      running = false;
      await Promise.all(samplers);
    }
  }

  async function assertDatabaseConsistent(): Promise<void> {
    assert.deepEqual(
      await selectSeatDrift(db),
      [],
      'sockets_usage must equal the seats its sessions hold and stay within sockets',
    );
    const { rows } = await db.query<{ n: number }>(
      'SELECT count(*) AS n FROM deployments WHERE sockets_usage > sockets',
    );
    assert.equal(rows[0]!.n, 0);
  }

  /** Every linked, undeleted session exists on the deployment it was given, with its users. */
  async function assertLinkedSessionsExist(outcomes: Outcome[]): Promise<void> {
    for (const [i, o] of outcomes.entries()) {
      const got = await calls[(i + 1) % calls.length]!('GET', `/v1/session/${o.sessionId}`);
      if (o.deleted) {
        assert.equal(got.status, 404, JSON.stringify(got.body));
        continue;
      }
      expectStatus(got, [200], 'get session');
      if (o.requestId) {
        assert.equal(got.body.status, 'Ready');
        assert.equal(got.body.deployment.request_id, o.requestId);
        assert.deepEqual(got.body.session_ips.map((u: { ip: string }) => u.ip).sort(), [...o.users].sort());
      } else {
        assert.equal(got.body.status, 'Unprocessable');
        assert.equal(got.body.linked, false);
        assert.equal(got.body.deployment, undefined);
      }
    }
  }

  it('mixed creates, user changes and deletes never overbook and never drift', { timeout: LONG_TEST_MS }, async (t) => {
    const started = performance.now();
    const outcomes = await whileSampling(async () => {
      const perClient = await Promise.all(
        Array.from({ length: CLIENTS }, async (_, i): Promise<Outcome[]> => {
          const call = calls[i % calls.length]!;
          const other = calls[(i + 1) % calls.length]!;
          const mine: Outcome[] = [];
          // Several rounds per client, so seats freed by deletes are fought over again mid-race.
          for (let round = 0; round < ROUNDS; round += 1) {
            const outcome = await createOne(call, app, 1 + ((i + round) % 3));
            mine.push(outcome);
            if (!outcome.requestId) continue;
            // Add then remove one user, through the other process: seats go up and back down.
            const ip = await addOne(other, outcome);
            if (ip) {
              const removed = await call('DELETE', `/v1/session/${outcome.sessionId}/users`, { ip_list: [ip] });
              expectStatus(removed, [200], 'remove user');
              outcome.users = outcome.users.filter((u) => u !== ip);
              assert.deepEqual(
                removed.body.session_users.map((u: { ip: string }) => u.ip).sort(),
                [...outcome.users].sort(),
              );
            }
            if ((i + round) % 2 === 0) {
              const deleted = await other('DELETE', `/v1/session/${outcome.sessionId}`);
              expectStatus(deleted, [200], 'delete session');
              outcome.deleted = true;
            }
          }
          return mine;
        }),
      );
      return perClient.flat();
    });
    const wallMs = performance.now() - started;

    assert.ok(samples.length > 0, 'the samplers saw the race');
    for (const s of samples) assert.ok(s.sockets_usage <= s.sockets, `sample ${JSON.stringify(s)}`);
    await assertDatabaseConsistent();
    await assertLinkedSessionsExist(outcomes);

    const linked = outcomes.filter((o) => o.requestId);
    const demand = outcomes.reduce((sum, o) => sum + o.seats, 0);
    assert.ok(demand > DEPLOYMENTS * SOCKETS * 4, 'demand far exceeds capacity');
    assert.ok(linked.length > 0 && linked.length < outcomes.length, `some linked (${linked.length}), some refused`);
    t.diagnostic(
      `phase 1: ${outcomes.length} creates in ${wallMs.toFixed(0)} ms: ${linked.length} linked, ` +
        `${outcomes.length - linked.length} unprocessable, ${outcomes.reduce((s, o) => s + o.refusedAdds, 0)} adds refused, ` +
        `${outcomes.filter((o) => o.deleted).length} deleted, ${samples.length} deployment samples`,
    );
  });

  it('refuses a session only when no deployment has room (no false "full")', { timeout: LONG_TEST_MS }, async (t) => {
    // Only seats taken in this phase, never freed: room can only shrink, so a session refused at
    // any moment must still find no deployment with that much room at the end.
    const leftovers = await db.query<{ session_id: string }>(
      'SELECT session_id FROM sessions WHERE seats > 0 AND deleted_at IS NULL',
    );
    for (const row of leftovers.rows)
      expectStatus(await calls[0]!('DELETE', `/v1/session/${row.session_id}`), [200], 'delete leftover');
    const emptied = await db.query<{ used: number }>('SELECT sum(sockets_usage)::int AS used FROM deployments');
    assert.equal(emptied.rows[0]!.used, 0, 'phase 2 starts with every seat free');

    const started = performance.now();
    const sampledBefore = samples.length;
    const outcomes = await whileSampling(() =>
      Promise.all(
        Array.from({ length: CLIENTS }, async (_, i): Promise<Outcome> => {
          const outcome = await createOne(calls[i % calls.length]!, app, 1 + ((i * 7) % 3));
          if (outcome.requestId) await addOne(calls[(i + 1) % calls.length]!, outcome);
          return outcome;
        }),
      ),
    );
    const wallMs = performance.now() - started;

    for (const s of samples.slice(sampledBefore))
      assert.ok(s.sockets_usage <= s.sockets, `sample ${JSON.stringify(s)}`);
    await assertDatabaseConsistent();
    await assertLinkedSessionsExist(outcomes);

    const { rows } = await db.query<{ request_id: string; free: number }>(
      'SELECT request_id, sockets - sockets_usage AS free FROM deployments ORDER BY id',
    );
    assert.deepEqual(
      rows.map((r) => r.request_id),
      requestIds,
    );
    const maxFree = Math.max(...rows.map((r) => r.free));
    const refused = outcomes.filter((o) => !o.requestId);
    assert.ok(refused.length > 0, 'demand exceeded capacity');
    for (const o of refused) {
      assert.ok(
        maxFree < o.seats,
        `session ${o.sessionId} (${o.seats} seats) was refused, yet a deployment has ${maxFree} free`,
      );
    }
    if (refused.some((o) => o.seats === 1))
      assert.equal(maxFree, 0, 'a 1-seat session was refused: every deployment must be full');
    for (const o of outcomes.filter((x) => x.refusedAdds > 0)) {
      assert.equal(
        rows.find((r) => r.request_id === o.requestId)!.free,
        0,
        `an add on ${o.requestId} was refused while it had room`,
      );
    }
    t.diagnostic(
      `phase 2: ${outcomes.length} creates in ${wallMs.toFixed(0)} ms: ${outcomes.length - refused.length} linked, ` +
        `${refused.length} unprocessable, ${outcomes.reduce((s, o) => s + o.refusedAdds, 0)} adds refused; ` +
        `free sockets at the end: ${rows.map((r) => r.free).join(', ')}`,
    );
  });
});
