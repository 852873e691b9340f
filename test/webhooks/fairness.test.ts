import { after, before, describe, eventually, it } from '../support/node-test.js';
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import {
  client,
  FakeClock,
  registerServer,
  seedVersion,
  startTestService,
  type TestService,
} from '../support/harness.js';
import { createOrganisation } from '../../src/app/keys.js';
import type { Queryable } from '../../src/db/db.js';
import {
  claimDueWebhookDeliveries,
  insertWebhookDelivery,
  rescheduleWebhookDelivery,
  selectWebhookTarget,
} from '../../src/db/queries/webhooks.js';
import {
  DELIVERY_CONCURRENCY,
  TARGET_FAILURES_BEFORE_BACKOFF,
  webhookTarget,
} from '../../src/domain/webhook-targets.js';
import { newDeliveryId } from '../../src/jobs/webhooks/outbox.js';
import { startBlackHole, startReceiver, type BlackHole, type Receiver } from './receiver.js';

/** Pending deliveries as the outbox writes them, without going through a thousand session creates. */
async function insertPending(
  db: Queryable,
  orgId: number,
  url: string,
  count: number,
  now: Date,
  prefix: string,
): Promise<void> {
  for (let i = 0; i < count; i++) {
    await insertWebhookDelivery(db, {
      deliveryId: newDeliveryId(),
      orgId,
      subject: `session:${prefix}-${i}`,
      sessionId: null,
      requestId: null,
      event: 'session.ready',
      url,
      target: webhookTarget(url),
      body: '{}',
      now,
      retryUntil: new Date(now.getTime() + 3_600_000),
    });
  }
}

/** Nearest-rank percentile of `values` (ms). */
function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

describe("one organisation's dead receiver does not delay another's webhooks", () => {
  let t: TestService;
  let hole: BlackHole;
  let a: Receiver;
  const arrivals = new Map<string, number>();
  const holes: BlackHole[] = [];

  before(async () => {
    // The real clock and a 50 ms poll: the worker runs on its own, as in production.
    t = await startTestService({ env: { WEBHOOK_TIMEOUT_MS: '500', JOB_POLL_MS: '50' } });
    hole = await startBlackHole();
    a = await startReceiver(({ body }) => {
      arrivals.set(JSON.parse(body).session_id as string, performance.now());
      return 200;
    });
  });
  after(async () => {
    await t.close();
    await hole.close();
    await a.close();
    for (const h of holes) await h.close();
  });

  /** Creates `count` of A's sessions 50 ms apart and returns each webhook's latency (ms), from before the create to arrival. */
  async function measureA(count: number): Promise<number[]> {
    const call = client(t.url, t.key);
    const { app, version } = await seedVersion(call, { sockets: 100 });
    await registerServer(call, { app, version, sockets: 100 });
    const sent = new Map<string, number>();
    for (let i = 0; i < count; i++) {
      const startedAt = performance.now();
      const created = await call('POST', '/v1/session', {
        app_name: app,
        ip_list: [`10.1.${i}.1`],
        webhook_url: a.url,
      });
      assert.equal(created.status, 200, JSON.stringify(created.body));
      sent.set(created.body.session_id as string, startedAt);
      await delay(50); // pacing: A's events spread over seconds of the other organisation's timeouts and back-offs
    }
    await eventually("all of A's webhooks", () => [...sent.keys()].every((id) => arrivals.has(id)), {
      withinMs: 120_000,
    });
    return [...sent].map(([id, at]) => arrivals.get(id)! - at);
  }

  // 100 webhooks, so the p99 is the second slowest: one hiccup of a loaded machine is not the result.
  it("delivers A's webhooks with p99 under 1 s while B has 1,000 pending deliveries to a black-holed receiver", async () => {
    const b = await createOrganisation(t.service.deps, 'black-holed studio');
    await t.service.deps.db.transaction((tx) => insertPending(tx, b.orgId, hole.url, 1000, new Date(), 'b'));
    // As autovacuum would soon: the figures are about scheduling, not about a plan made on stale statistics.
    await t.service.deps.db.query('ANALYZE webhook_deliveries');
    await eventually("B's receiver holding connections", () => hole.connections.open > 0, { withinMs: 120_000 });

    const latencies = await measureA(100);
    const figures =
      `A: ${latencies.length} webhooks, p50 ${percentile(latencies, 50).toFixed(0)} ms, p99 ${percentile(latencies, 99).toFixed(0)} ms; ` +
      `B's receiver: ${hole.connections.total} connections, at most ${hole.connections.max} at once`;
    console.log(`# webhook fairness, one dead receiver: ${figures}`);
    assert.ok(percentile(latencies, 99) < 1000, figures);
    assert.ok(hole.connections.max <= DELIVERY_CONCURRENCY.perTarget, `per-target cap exceeded: ${figures}`);
    assert.equal(hole.connections.max, DELIVERY_CONCURRENCY.perTarget, `the cap is what bounds B: ${figures}`);
  });

  it("keeps A's p99 under 1 s when C spreads 1,000 deliveries over 250 dead origins (no target backs off: the organisation cap holds C)", async () => {
    const c = await createOrganisation(t.service.deps, 'many-ports studio');
    const connections = { open: 0, max: 0, total: 0 };
    for (let i = 0; i < 250; i++) holes.push(await startBlackHole(connections));
    await t.service.deps.db.transaction(async (tx) => {
      for (const [i, h] of holes.entries()) await insertPending(tx, c.orgId, h.url, 4, new Date(), `c${i}`);
    });
    await t.service.deps.db.query('ANALYZE webhook_deliveries');
    await eventually("C's receivers holding connections", () => connections.open >= DELIVERY_CONCURRENCY.perOrg, {
      withinMs: 120_000,
    });

    const latencies = await measureA(100);
    const figures =
      `A: ${latencies.length} webhooks, p50 ${percentile(latencies, 50).toFixed(0)} ms, p99 ${percentile(latencies, 99).toFixed(0)} ms; ` +
      `C's receivers: ${connections.total} connections, at most ${connections.max} at once`;
    console.log(`# webhook fairness, 250 dead origins: ${figures}`);
    assert.ok(percentile(latencies, 99) < 1000, figures);
    assert.equal(connections.max, DELIVERY_CONCURRENCY.perOrg, `the organisation cap bounds C: ${figures}`);
  });
});

describe('the claim skips targets and organisations at their cap', () => {
  let t: TestService;
  const clock = new FakeClock();
  before(async () => {
    t = await startTestService({ clock });
  });
  after(() => t.close());

  it('takes a few of 1,000 deliveries to one target at the head of the queue and serves the others', async () => {
    const db = t.service.deps.db;
    const b = await createOrganisation(t.service.deps, 'b');
    const c = await createOrganisation(t.service.deps, 'c');
    const limits = { perTarget: 4, perOrg: 16, workerId: 'test' };
    await insertPending(db, b.orgId, 'http://hole.example/hook', 1000, clock.now(), 'b');
    for (let port = 1; port <= 10; port++)
      await insertPending(db, b.orgId, `http://b.example:${port}/hook`, 4, clock.now(), `b${port}`);
    clock.advance(1);
    await insertPending(db, c.orgId, 'http://c.example/hook', 3, clock.now(), 'c');

    const lease = new Date(clock.now().getTime() + 60_000);
    const first = await claimDueWebhookDeliveries(db, clock.now(), lease, 32, limits);
    const byTarget = new Map<string, number>();
    for (const d of first) byTarget.set(d.target, (byTarget.get(d.target) ?? 0) + 1);
    assert.equal(byTarget.get('http://hole.example'), 4, 'the head target gets its cap, no more');
    assert.ok(
      [...byTarget.values()].every((n) => n <= 4),
      JSON.stringify([...byTarget]),
    );
    assert.equal(first.filter((d) => d.orgId === b.orgId).length, 16, "B gets its organisation's cap, no more");
    assert.equal(first.filter((d) => d.orgId === c.orgId).length, 3, 'C is served beside B, in the same claim');

    assert.deepEqual(
      await claimDueWebhookDeliveries(db, clock.now(), lease, 32, limits),
      [],
      'everyone at the cap: nothing more',
    );
    const done = first.find((d) => d.target === 'http://hole.example')!;
    await rescheduleWebhookDelivery(db, {
      id: done.id,
      attempts: done.attempts,
      status: null,
      error: 'x',
      nextAttemptAt: lease,
    });
    const refill = await claimDueWebhookDeliveries(db, clock.now(), lease, 32, limits);
    assert.equal(refill.length, 1, 'a freed slot is taken again at once');
    assert.equal(refill[0]!.orgId, b.orgId);

    clock.advance(60_000);
    const afterLease = await claimDueWebhookDeliveries(
      db,
      clock.now(),
      new Date(clock.now().getTime() + 60_000),
      32,
      limits,
    );
    assert.equal(
      afterLease.filter((d) => d.orgId === b.orgId).length,
      16,
      'expired leases (a dead process) hold no slot',
    );
  });
});

describe('a target that stops answering waits as a whole', () => {
  let t: TestService;
  let call: ReturnType<typeof client>;
  let r: Receiver;
  let down = true;
  const clock = new FakeClock();
  let app: string;

  before(async () => {
    t = await startTestService({ clock, env: { WEBHOOK_TIMEOUT_MS: '300' } });
    call = client(t.url, t.key);
    let version: string;
    ({ app, version } = await seedVersion(call, { sockets: 100 }));
    await registerServer(call, { app, version, sockets: 100 });
    r = await startReceiver(() => (down ? 'hang' : 200));
  });
  after(async () => {
    await t.close();
    await r.close();
  });

  async function newSessions(n: number): Promise<void> {
    for (let i = 0; i < n; i++) {
      const created = await call('POST', '/v1/session', { app_name: app, ip_list: ['1.2.3.4'], webhook_url: r.url });
      assert.equal(created.status, 200);
    }
  }
  const target = () => selectWebhookTarget(t.service.deps.db, webhookTarget(r.url)).then((x) => x!);

  it('gets no attempt until its wait passes, is probed one attempt at a time, and a success resets it', async () => {
    await newSessions(6);
    assert.equal(await t.service.webhooks.runDue(), 6);
    assert.ok(
      r.connections.max <= DELIVERY_CONCURRENCY.perTarget,
      `at most ${DELIVERY_CONCURRENCY.perTarget} at once, saw ${r.connections.max}`,
    );
    let state = await target();
    assert.equal(state.consecutiveFailures, 6);
    assert.equal(state.backoffs, 1, 'attempts already in flight when it started waiting do not deepen the wait');
    assert.equal(state.lastError, 'timed out after 300 ms');
    const waitMs = state.blockedUntil!.getTime() - clock.now().getTime();
    assert.ok(
      waitMs >= 2_500 && waitMs <= 5_000,
      `first wait ${waitMs} ms, expected 2500..5000 (WEBHOOK_RETRY_BASE_MS, equal jitter)`,
    );

    down = false;
    await newSessions(1); // due now, but its target waits
    const seen = r.received.length;
    assert.equal(await t.service.webhooks.runDue(), 0, 'nothing is attempted while the target waits');
    clock.advance(waitMs - 1);
    assert.equal(await t.service.webhooks.runDue(), 0, 'not a millisecond early');
    assert.equal(r.received.length, seen);

    // Past the wait, still down: one probe, which fails and doubles the wait.
    down = true;
    clock.advance(1);
    const connectionsBefore = r.connections.total;
    assert.equal(await t.service.webhooks.runDue(), 1, 'one probe at a time');
    assert.equal(r.connections.total, connectionsBefore + 1);
    state = await target();
    assert.equal(state.backoffs, 2);
    const secondWaitMs = state.blockedUntil!.getTime() - clock.now().getTime();
    assert.ok(secondWaitMs >= 5_000 && secondWaitMs <= 10_000, `second wait ${secondWaitMs} ms, expected 5000..10000`);

    // Past the second wait, answering again: the probe succeeds and the rest follow.
    down = false;
    clock.advance(secondWaitMs + 10_000);
    assert.equal(await t.service.webhooks.runDue(), 7);
    state = await target();
    assert.deepEqual(
      [state.consecutiveFailures, state.backoffs, state.blockedUntil],
      [0, 0, null],
      'a success resets the target',
    );
    assert.ok(state.lastSuccessAt);
    const listed = (await call('GET', '/v1/webhooks/deliveries?limit=7')).body.deliveries as Array<{ state: string }>;
    assert.deepEqual(new Set(listed.map((d) => d.state)), new Set(['delivered']));

    // Counting starts again from zero: fewer failures than the threshold do not make it wait.
    down = true;
    await newSessions(TARGET_FAILURES_BEFORE_BACKOFF - 1);
    assert.equal(await t.service.webhooks.runDue(), TARGET_FAILURES_BEFORE_BACKOFF - 1);
    state = await target();
    assert.equal(state.consecutiveFailures, TARGET_FAILURES_BEFORE_BACKOFF - 1);
    assert.equal(state.blockedUntil, null);
  });
});

describe('a receiver answering 5xx or 429 waits as a whole; one answering 4xx does not', () => {
  let t: TestService;
  let call: ReturnType<typeof client>;
  const clock = new FakeClock();
  const receivers: Receiver[] = [];
  let app: string;

  before(async () => {
    t = await startTestService({ clock, env: { WEBHOOK_TIMEOUT_MS: '2000' } });
    call = client(t.url, t.key);
    let version: string;
    ({ app, version } = await seedVersion(call, { sockets: 100 }));
    await registerServer(call, { app, version, sockets: 100 });
  });
  after(async () => {
    await t.close();
    for (const r of receivers) await r.close();
  });

  for (const [status, waits] of [
    [503, true],
    [429, true],
    [400, false],
  ] as const) {
    it(`${status}: ${waits ? 'backed off' : 'not backed off'} after ${TARGET_FAILURES_BEFORE_BACKOFF} in a row`, async () => {
      const r = await startReceiver(() => status);
      receivers.push(r);
      for (let i = 0; i < TARGET_FAILURES_BEFORE_BACKOFF; i++) {
        const created = await call('POST', '/v1/session', {
          app_name: app,
          ip_list: ['1.2.3.4'],
          webhook_url: r.url,
        });
        assert.equal(created.status, 200);
      }
      assert.equal(await t.service.webhooks.runDue(), TARGET_FAILURES_BEFORE_BACKOFF);
      const state = await selectWebhookTarget(t.service.deps.db, webhookTarget(r.url));
      if (waits) {
        assert.equal(state?.consecutiveFailures, TARGET_FAILURES_BEFORE_BACKOFF);
        assert.ok(state?.blockedUntil && state.blockedUntil > clock.now(), 'the target waits');
      } else {
        assert.ok(!state?.blockedUntil, 'a 4xx is about the delivery, not the receiver');
      }
    });
  }
});
