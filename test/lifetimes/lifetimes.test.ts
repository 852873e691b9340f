import { after, before, describe, it } from '../support/node-test.js';
import assert from 'node:assert/strict';
import { noGeo } from '../../src/app/deps.js';
import { sweepLifetimes } from '../../src/jobs/lifetimes.js';
import {
  client,
  FakeClock,
  MONTREAL,
  registerServer,
  seedVersion,
  startTestService,
  type TestService,
} from '../support/harness.js';

const MINUTE = 60_000;

describe('lifetimes on a fake clock', () => {
  let t: TestService;
  let call: ReturnType<typeof client>;
  const clock = new FakeClock();
  before(async () => {
    // Sweeps run at slot boundaries, so a deadline is seen up to one interval late: 1 s here, and
    // every step below goes at least 1 s past the deadline it checks.
    t = await startTestService({ clock, geo: noGeo, env: { LIFETIME_SWEEP_MS: '1000' } });
    call = client(t.url, t.key);
  });
  after(() => t.close());

  const statusOf = async (requestId: string) =>
    (await call('GET', `/v1/status/${requestId}`)).body.current_status as string;
  /** Runs due jobs until none is left, as the worker's poll loop would. */
  const settle = async () => {
    while ((await t.service.jobs.runDue()) > 0) {
      /* stop jobs queued by the sweep run next */
    }
  };

  it('empty_ttl stops a deployment empty for that long, not before, and never one with a session', async () => {
    const { app, version } = await seedVersion(call, {
      sockets: 4,
      extra: { session_config: { kind: 'Seat', sockets: 4, empty_ttl: 10 } },
    });
    const emptyOne = await registerServer(call, { app, version });
    const busyOne = await registerServer(call, { app, version, location: MONTREAL });
    // The session lands on one of them; use that one as the busy one.
    clock.advance(2 * MINUTE);
    const session = await call('POST', '/v1/session', {
      app_name: app,
      ip_list: ['1.2.3.4'],
      deployment_request_id: busyOne,
    });
    assert.equal(session.status, 200);
    clock.advance(7 * MINUTE + 59_000); // 9:59 after registration
    await settle();
    assert.equal(await statusOf(emptyOne), 'Status.READY', 'not before the TTL');
    clock.advance(2000); // 10:01
    await settle();
    assert.equal(await statusOf(emptyOne), 'Status.TERMINATED');
    assert.equal(await statusOf(busyOne), 'Status.READY', 'a deployment with a session stays');
    // Its session leaves at 10:01; the TTL counts from there.
    assert.equal((await call('DELETE', `/v1/session/${session.body.session_id}`)).status, 200);
    clock.advance(9 * MINUTE);
    await settle();
    assert.equal(await statusOf(busyOne), 'Status.READY');
    clock.advance(MINUTE + 1000);
    await settle();
    assert.equal(await statusOf(busyOne), 'Status.TERMINATED');
  });

  it('a version without empty_ttl keeps its empty deployments', async () => {
    const { app, version } = await seedVersion(call, { sockets: 4 });
    const requestId = await registerServer(call, { app, version });
    clock.advance(24 * 60 * MINUTE);
    await settle();
    assert.equal(await statusOf(requestId), 'Status.READY');
  });

  it('session_max_duration removes sessions that many minutes after their deployment ended', async () => {
    const { app, version } = await seedVersion(call, {
      sockets: 4,
      extra: { session_config: { kind: 'Seat', sockets: 4, session_max_duration: 90 } },
    });
    const requestId = await registerServer(call, { app, version });
    const session = await call('POST', '/v1/session', { app_name: app, ip_list: ['1.2.3.4'] });
    assert.equal(session.body.deployment_request_id, requestId);
    clock.advance(30 * MINUTE); // the session's age does not count, only the time since its deployment ended
    assert.equal((await call('DELETE', `/v1/stop/${requestId}`)).status, 200);
    clock.advance(89 * MINUTE);
    await settle();
    const kept = await call('GET', `/v1/session/${session.body.session_id}`);
    assert.equal(kept.status, 200);
    assert.equal(kept.body.status, 'Error');
    assert.equal(kept.body.ready, false);
    clock.advance(MINUTE + 1000);
    await settle();
    const removed = await call('GET', `/v1/session/${session.body.session_id}`);
    assert.equal(removed.status, 404);
    assert.equal(removed.body.code, 'SESSION_NOT_FOUND');
  });

  it('a registered server that misses its heartbeats turns Status.ERROR and its sessions Error', async () => {
    const { app, version } = await seedVersion(call, { sockets: 4 });
    const registered = await call('POST', '/v1/deployments/register', {
      app_name: app,
      version_name: version,
      public_ip: '203.0.113.20',
      ports: [{ name: 'game', external: 7777, protocol: 'UDP' }],
      location: MONTREAL,
      heartbeat_timeout_seconds: 30,
    });
    assert.equal(registered.status, 200);
    const requestId = registered.body.request_id as string;
    const session = await call('POST', '/v1/session', { app_name: app, ip_list: ['1.2.3.4'] });
    assert.equal(session.body.deployment_request_id, requestId);
    clock.advance(20_000);
    assert.equal((await call('POST', `/v1/deployments/${requestId}/heartbeat`)).status, 200);
    clock.advance(29_000); // 49 s after registration, 29 s after the heartbeat
    await settle();
    assert.equal(await statusOf(requestId), 'Status.READY', 'the heartbeat reset the timeout');
    clock.advance(2000);
    await settle();
    const status = await call('GET', `/v1/status/${requestId}`);
    assert.equal(status.body.current_status, 'Status.ERROR');
    const got = await call('GET', `/v1/session/${session.body.session_id}`);
    assert.equal(got.body.status, 'Error');
    assert.equal(got.body.ready, false);
    const late = await call('POST', `/v1/deployments/${requestId}/heartbeat`);
    assert.equal(late.status, 410, 'a server that comes back registers again');
  });
});

describe('lifetimes with two server processes on one database', () => {
  it('fires each timer exactly once when both run their due jobs at the same moment', async () => {
    const clock = new FakeClock();
    const one = await startTestService({ clock, geo: noGeo });
    const two = await startTestService({ clock, geo: noGeo, databaseUrl: one.databaseUrl! });
    try {
      const ended: string[] = [];
      for (const s of [one, two]) {
        s.service.deps.listeners.deployment.push(async (_tx, event, deployment) => {
          if (event === 'stopped') ended.push(deployment.requestId);
        });
      }
      const call = client(one.url, one.key);
      const early = await seedVersion(call, {
        version: 'early',
        sockets: 4,
        extra: { session_config: { kind: 'Match', sockets: 4, empty_ttl: 5 } },
      });
      const late = await seedVersion(call, {
        app: early.app,
        version: 'late',
        sockets: 4,
        extra: { session_config: { kind: 'Match', sockets: 4, empty_ttl: 10 } },
      });
      const earlyIds: string[] = [];
      const lateIds: string[] = [];
      for (let i = 0; i < 4; i++) earlyIds.push(await registerServer(call, early));
      for (let i = 0; i < 4; i++) lateIds.push(await registerServer(call, late));

      // Both workers race for the due sweep row: one slot, one sweep.
      clock.advance(5 * MINUTE + 20_000);
      for (let round = 0; round < 3; round++) await Promise.all([one.service.jobs.runDue(), two.service.jobs.runDue()]);
      assert.deepEqual([...ended].sort(), [...earlyIds].sort(), 'each early deployment stopped once');

      // Two sweeps really running at once (as after an expired lease): the row lock and re-check keep it once.
      ended.length = 0;
      clock.advance(5 * MINUTE);
      const [a, b] = await Promise.all([sweepLifetimes(one.service.deps), sweepLifetimes(two.service.deps)]);
      assert.equal(a.emptyStopped + b.emptyStopped, lateIds.length);
      assert.deepEqual([...ended].sort(), [...lateIds].sort(), 'each late deployment stopped once');
      for (let round = 0; round < 3; round++) await Promise.all([one.service.jobs.runDue(), two.service.jobs.runDue()]);
      for (const id of [...earlyIds, ...lateIds])
        assert.equal((await call('GET', `/v1/status/${id}`)).body.current_status, 'Status.TERMINATED');
    } finally {
      await two.close();
      await one.close();
    }
  });
});
