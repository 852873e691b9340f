/**
 * Model-based test: random sequences of session operations run against the real service and
 * against an in-memory model built from the pure domain rules. After every step the service
 * must agree with the model (which deployment a session lands on, who is refused) and the
 * seat invariants must hold.
 */
import { describe, it, LONG_TEST_MS } from '../support/node-test.js';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { bestCandidate, type CandidateView } from '../../src/domain/placement.js';
import { addUsers, removeUsers, seatsFor } from '../../src/domain/session-rules.js';
import { client, registerServer, seedVersion, useTestService } from '../support/harness.js';

interface ModelDeployment extends CandidateView {
  requestId: string;
}
interface ModelSession {
  sessionId: string;
  deployment: ModelDeployment | null;
  users: string[];
}
interface Model {
  kind: 'Seat' | 'Match';
  deployments: ModelDeployment[];
  sessions: ModelSession[];
}
interface Real {
  call: ReturnType<typeof client>;
  app: string;
}

const ips = fc.uniqueArray(
  fc.integer({ min: 1, max: 12 }).map((i) => `192.0.2.${i}`),
  { minLength: 0, maxLength: 4 },
);

function pick<T>(items: T[], index: number): T | undefined {
  return items.length === 0 ? undefined : items[index % items.length];
}

async function checkInvariants(model: Model, real: Real): Promise<void> {
  for (const d of model.deployments) {
    const status = await real.call('GET', `/v1/status/${d.requestId}`);
    const held = model.sessions
      .filter((s) => s.deployment === d)
      .reduce((sum, s) => sum + seatsFor(model.kind, s.users.length), 0);
    assert.equal(d.socketsUsage, held, 'model drifted from its own sessions');
    assert.equal(status.body.sockets_usage, d.socketsUsage, `deployment ${d.requestId} usage differs from the model`);
    assert.ok(status.body.sockets_usage <= status.body.sockets);
  }
}

class Create implements fc.AsyncCommand<Model, Real> {
  constructor(readonly users: string[]) {}
  check = () => true;
  async run(model: Model, real: Real) {
    const seats = seatsFor(model.kind, this.users.length);
    const expected = bestCandidate(model.deployments, { seats, requiredTags: [], constraints: [], position: null });
    const res = await real.call('POST', '/v1/session', { app_name: real.app, ip_list: this.users });
    if (this.users.length === 0) {
      // A session must name at least one player; nothing changes.
      assert.equal(res.status, 400);
      return checkInvariants(model, real);
    }
    assert.equal(res.status, 200);
    assert.equal(res.body.deployment_request_id, expected?.requestId, 'placement differs from the rules');
    if (expected) expected.socketsUsage += seats;
    model.sessions.push({ sessionId: res.body.session_id, deployment: expected ?? null, users: [...this.users] });
    await checkInvariants(model, real);
  }
  toString = () => `create(${this.users.join(',')})`;
}

class PutUsers implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly index: number,
    readonly users: string[],
  ) {}
  check = (m: Readonly<Model>) => m.sessions.length > 0;
  async run(model: Model, real: Real) {
    const session = pick(model.sessions, this.index)!;
    const next = addUsers(
      session.users.map((ip) => ({ ip })),
      this.users.map((ip) => ({ ip })),
    ).map((u) => u.ip);
    const res = await real.call('PUT', `/v1/session/${session.sessionId}/users`, { ip_list: this.users });
    const delta = seatsFor(model.kind, next.length) - seatsFor(model.kind, session.users.length);
    const d = session.deployment;
    const fits =
      next.length === session.users.length || (d !== null && d.isJoinable && d.sockets - d.socketsUsage >= delta);
    if (d === null && next.length !== session.users.length) {
      assert.equal(res.status, 422, 'an unprocessable session took users');
    } else if (!fits) {
      assert.equal(res.status, 422, `expected 422, got ${res.status}`);
    } else {
      assert.equal(res.status, 200, `expected 200, got ${res.status} ${JSON.stringify(res.body)}`);
      if (d) d.socketsUsage += delta;
      session.users = next;
    }
    await checkInvariants(model, real);
  }
  toString = () => `put(${this.index}, ${this.users.join(',')})`;
}

class DeleteUsers implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly index: number,
    readonly users: string[],
  ) {}
  check = (m: Readonly<Model>) => m.sessions.length > 0;
  async run(model: Model, real: Real) {
    const session = pick(model.sessions, this.index)!;
    const next = removeUsers(
      session.users.map((ip) => ({ ip })),
      this.users,
    ).map((u) => u.ip);
    const res = await real.call('DELETE', `/v1/session/${session.sessionId}/users`, { ip_list: this.users });
    assert.equal(res.status, 200);
    assert.deepEqual(
      res.body.session_users.map((u: { ip: string }) => u.ip),
      next,
    );
    if (session.deployment)
      session.deployment.socketsUsage += seatsFor(model.kind, next.length) - seatsFor(model.kind, session.users.length);
    session.users = next;
    await checkInvariants(model, real);
  }
  toString = () => `removeUsers(${this.index}, ${this.users.join(',')})`;
}

class DeleteSession implements fc.AsyncCommand<Model, Real> {
  constructor(readonly index: number) {}
  check = (m: Readonly<Model>) => m.sessions.length > 0;
  async run(model: Model, real: Real) {
    const session = pick(model.sessions, this.index)!;
    const res = await real.call('DELETE', `/v1/session/${session.sessionId}`);
    assert.equal(res.status, 200);
    if (session.deployment) session.deployment.socketsUsage -= seatsFor(model.kind, session.users.length);
    model.sessions = model.sessions.filter((s) => s !== session);
    assert.equal((await real.call('GET', `/v1/session/${session.sessionId}`)).status, 404);
    await checkInvariants(model, real);
  }
  toString = () => `delete(${this.index})`;
}

class SetJoinable implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly index: number,
    readonly isJoinable: boolean,
  ) {}
  check = () => true;
  async run(model: Model, real: Real) {
    const d = pick(model.deployments, this.index)!;
    const res = await real.call('PATCH', `/v1/deployments/${d.requestId}`, { is_joinable_by_session: this.isJoinable });
    assert.equal(res.status, 200);
    d.isJoinable = this.isJoinable;
  }
  toString = () => `joinable(${this.index}, ${this.isJoinable})`;
}

const commands = [
  ips.map((u) => new Create(u)),
  fc.tuple(fc.nat(), ips).map(([i, u]) => new PutUsers(i, u)),
  fc.tuple(fc.nat(), ips).map(([i, u]) => new DeleteUsers(i, u)),
  fc.nat().map((i) => new DeleteSession(i)),
  fc.tuple(fc.nat(), fc.boolean()).map(([i, b]) => new SetJoinable(i, b)),
];

describe('service against the domain model', () => {
  const { call } = useTestService();

  for (const kind of ['Seat', 'Match'] as const) {
    it(
      `${kind}: random operation sequences agree with the rules and keep seats exact`,
      { timeout: LONG_TEST_MS },
      async () => {
        await fc.assert(
          fc.asyncProperty(
            fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 3 }),
            fc.commands(commands, { maxCommands: 25 }),
            async (capacities, cmds) => {
              const { app, version } = await seedVersion(call, { kind, sockets: 6 });
              const deployments: ModelDeployment[] = [];
              for (const [i, sockets] of capacities.entries()) {
                const requestId = await registerServer(call, { app, version, sockets });
                deployments.push({
                  id: i + 1,
                  requestId,
                  status: 'Status.READY',
                  isJoinable: true,
                  sockets,
                  socketsUsage: 0,
                  tags: [],
                  place: {
                    city: 'Montreal',
                    country: 'Canada',
                    continent: 'North America',
                    administrative_division: 'Quebec',
                    region: '',
                    latitude: 45.5017,
                    longitude: -73.5673,
                  },
                });
              }
              await fc.asyncModelRun(() => ({ model: { kind, deployments, sessions: [] }, real: { call, app } }), cmds);
            },
          ),
          { numRuns: Number(process.env['MODEL_RUNS'] ?? 25) },
        );
      },
    );
  }
});
