import { after, before, describe, eventually, it } from '../support/node-test.js';
import assert from 'node:assert/strict';
import { authenticate, createOrganisation } from '../../src/app/keys.js';
import {
  insertEvents,
  lockEventSequencer,
  selectEventsAfter,
  selectLatestEventId,
} from '../../src/db/queries/events.js';
import {
  client,
  FakeClock,
  registerServer,
  seedVersion,
  startTestService,
  type TestService,
} from '../support/harness.js';
import { openSse, type SseEvent, type SseStream } from './sse-client.js';

type Call = ReturnType<typeof client>;

const typesOf = (events: SseEvent[]) => events.map((e) => e.event);

function stream(t: TestService, query = '', headers: Record<string, string> = {}, key = t.key): Promise<SseStream> {
  return openSse(`${t.url}/v1/events${query}`, { authorization: `token ${key}`, ...headers });
}

/** Creates a session of two players, adds one, deletes it: 10 events in a known order. */
async function lifecycle(call: Call, app: string): Promise<string> {
  const created = await call('POST', '/v1/session', { app_name: app, ip_list: ['1.2.3.4', '5.6.7.8'] });
  assert.equal(created.status, 200, JSON.stringify(created.body));
  const id = created.body.session_id as string;
  assert.equal((await call('PUT', `/v1/session/${id}/users`, { ip_list: ['9.9.9.9'] })).status, 200);
  assert.equal((await call('DELETE', `/v1/session/${id}`)).status, 200);
  return id;
}

const LIFECYCLE = [
  'session.created',
  'session.linked',
  'session.ready',
  'deployment.usage_changed',
  'session.users_changed',
  'deployment.usage_changed',
  'session.deleted',
  'deployment.usage_changed',
];

function assertLifecycle(events: SseEvent[], sessionId: string, requestId: string): void {
  assert.deepEqual(typesOf(events), LIFECYCLE);
  const ids = events.map((e) => Number(e.id));
  assert.deepEqual(
    [...ids].sort((a, b) => a - b),
    ids,
    'ids increase along the stream',
  );
  for (const e of events) assert.equal(e.data.id, Number(e.id));
  const ready = events[2]!;
  assert.equal(ready.data.type, 'session.ready');
  assert.equal(ready.data.session_id, sessionId);
  assert.deepEqual(
    { ...ready.data.data },
    {
      session_id: sessionId,
      status: 'Ready',
      ready: true,
      linked: true,
      kind: 'Seat',
      user_count: 2,
      deployment_request_id: requestId,
    },
  );
  assert.equal(events[4]!.data.data.user_count, 3);
  assert.deepEqual(
    events.filter((e) => e.event === 'deployment.usage_changed').map((e) => e.data.data.sockets_usage),
    [2, 3, 0],
  );
  assert.deepEqual(events[3]!.data.data, {
    request_id: requestId,
    status: 'Status.READY',
    sockets: 8,
    sockets_usage: 2,
    is_joinable_by_session: true,
  });
  assert.equal(events[6]!.data.data.status, 'Terminating');
}

describe('live events on one service', () => {
  let t: TestService;
  let call: Call;
  const clock = new FakeClock();
  let closed = false;
  before(async () => {
    t = await startTestService({ clock });
    call = client(t.url, t.key);
  });
  after(async () => {
    if (!closed) await t.close();
  });

  it("streams a session's changes in order, with their snapshots", async () => {
    const { app, version } = await seedVersion(call, { sockets: 8 });
    const all = await stream(t);
    assert.equal(all.status, 200);
    assert.match(all.headers.get('content-type') ?? '', /^text\/event-stream/);
    const requestId = await registerServer(call, { app, version, sockets: 8 });
    const registered = await all.take(2);
    assert.deepEqual(typesOf(registered), ['deployment.created', 'deployment.ready']);
    assert.equal(registered[0]!.data.request_id, requestId);
    const id = await lifecycle(call, app);
    assertLifecycle(await all.take(LIFECYCLE.length), id, requestId);
    all.close();
  });

  it('filters to one session and replays the gap after Last-Event-ID without duplicates', async () => {
    const { app, version } = await seedVersion(call, { sockets: 8 });
    const requestId = await registerServer(call, { app, version, sockets: 8 });
    const created = await call('POST', '/v1/session', { app_name: app, ip_list: ['1.2.3.4', '5.6.7.8'] });
    const id = created.body.session_id as string;
    const other = await call('POST', '/v1/session', { app_name: app, ip_list: ['4.4.4.4'] });
    assert.equal(other.status, 200);

    // From the start of the log, filtered: this session's three creation events only.
    const first = await stream(t, `?session_id=${id}`, { 'last-event-id': '0' });
    const opening = await first.take(3);
    assert.deepEqual(typesOf(opening), ['session.created', 'session.linked', 'session.ready']);
    assert.ok(opening.every((e) => e.data.session_id === id));
    first.close();
    await first.ended;

    // Changes while disconnected, then a reconnect from the last id seen.
    assert.equal((await call('PUT', `/v1/session/${id}/users`, { ip_list: ['9.9.9.9'] })).status, 200);
    assert.equal((await call('DELETE', `/v1/session/${other.body.session_id}`)).status, 200);
    const again = await stream(t, `?session_id=${id}`, { 'last-event-id': opening[2]!.id! });
    const gap = await again.next();
    assert.equal(gap.event, 'session.users_changed');
    assert.equal(gap.data.data.user_count, 3);
    assert.equal((await call('DELETE', `/v1/session/${id}`)).status, 200);
    const live = await again.next();
    assert.equal(live.event, 'session.deleted');
    assert.ok(Number(live.id) > Number(gap.id));
    again.close();

    // ?last_event_id= works like the header, for the whole organisation.
    const query = await stream(t, `?last_event_id=${gap.id}`);
    const orgWide = await query.take(4);
    assert.deepEqual(typesOf(orgWide), [
      'deployment.usage_changed',
      'session.deleted',
      'deployment.usage_changed',
      'session.deleted',
    ]);
    assert.deepEqual(
      orgWide.filter((e) => e.event === 'session.deleted').map((e) => e.data.session_id),
      [other.body.session_id, id],
    );
    query.close();
    assert.ok(requestId);
  });

  it('keeps events for the retention window only', async () => {
    const { app, version } = await seedVersion(call, { sockets: 8 });
    await registerServer(call, { app, version, sockets: 8 });
    // Numbered now: a sequencer numbering them later would hold their rows while the create
    // below prunes, and the prune skips locked rows (they would go on a later prune).
    await t.service.eventSequencer.runDue();
    const orgId = (await authenticate(t.service.deps.db, t.key))!;
    const highestBefore = await selectLatestEventId(t.service.deps.db, orgId);
    clock.advance(2 * 60 * 60 * 1000);
    const created = await call('POST', '/v1/session', { app_name: app, ip_list: ['1.2.3.4'] });
    await t.service.eventSequencer.runDue();
    // Events after 0 were pruned: the client is told to resync, and the stream goes on from the
    // latest id (a reload of its state covers everything up to there).
    const fromZero = await stream(t, '', { 'last-event-id': '0' });
    const resync = await fromZero.next();
    assert.equal(resync.event, 'resync');
    assert.equal(resync.data.data.reason, 'expired');
    assert.ok(Number(resync.id) > highestBefore);
    fromZero.close();
    const expired = await stream(t, '', { 'last-event-id': String(highestBefore - 1) });
    assert.equal((await expired.next()).data.data?.reason, 'expired');
    expired.close();
    // Nothing after highestBefore was pruned: that one still replays.
    const replay = await stream(t, '', { 'last-event-id': String(highestBefore) });
    const first = await replay.next();
    // Everything logged two hours ago is gone; the log starts with the new session.
    assert.equal(first.event, 'session.created');
    assert.equal(first.data.session_id, created.body.session_id);
    // An emptied log must not hand out ids again: a client holding one would skip new events.
    assert.ok(Number(first.id) > highestBefore, `id ${first.id} reused (highest before: ${highestBefore})`);
    replay.close();
  });

  it("never shows another organisation's events", async () => {
    const stranger = await createOrganisation(t.service.deps, 'stranger');
    const theirs = await stream(t, '', { 'last-event-id': '0' }, stranger.key);
    const strangerCall = client(t.url, stranger.key);
    const { app, version } = await seedVersion(strangerCall, { sockets: 8 });
    await registerServer(strangerCall, { app, version, sockets: 8 });
    await seedVersion(call, { app: `${app}-mine`, sockets: 8 }).then((v) => registerServer(call, { ...v, sockets: 8 }));
    const seen = await theirs.take(2);
    assert.deepEqual(typesOf(seen), ['deployment.created', 'deployment.ready']);
    const mine = await stream(t, '', { 'last-event-id': seen[1]!.id! });
    const next = await mine.next();
    assert.notEqual(next.data.request_id, seen[1]!.data.request_id);
    theirs.close();
    mine.close();
  });

  it('rejects a bad Last-Event-ID and a missing key with JSON errors', async () => {
    const bad = await call('GET', '/v1/events', undefined, { 'last-event-id': 'yesterday' });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.code, 'VALIDATION_FAILED');
    const badQuery = await call('GET', '/v1/events?last_event_id=-1');
    assert.equal(badQuery.status, 400);
    assert.equal(badQuery.body.code, 'VALIDATION_FAILED');
    const anonymous = await client(t.url, undefined)('GET', '/v1/events');
    assert.equal(anonymous.status, 401);
    assert.equal(anonymous.body.code, 'UNAUTHORIZED');
  });

  // Last: it shuts the service down. Without ending open streams, close() would hang here.
  it('shutting the service down ends open streams', async () => {
    const open = await stream(t);
    assert.equal(open.status, 200);
    await t.close();
    closed = true;
    await open.ended;
    await assert.rejects(open.next(1), /stream ended/);
  });
});

describe('live events across two server processes (PostgreSQL LISTEN/NOTIFY)', () => {
  let a: TestService;
  let b: TestService;
  before(async () => {
    a = await startTestService();
    b = await startTestService({ databaseUrl: a.databaseUrl! });
  });
  after(async () => {
    await b?.close();
    await a?.close();
  });

  it('numbers only committed events, so a reconnect after position N has seen everything below N', async () => {
    const db = a.service.deps.db;
    // Its own organisation, so the other tests' streams never see these events.
    const org = await createOrganisation(a.service.deps, 'ordering');
    const orgId = (await authenticate(db, org.key))!;
    const onB = await stream(b, '?session_id=order-test', {}, org.key);
    const event = (type: string) => ({
      orgId,
      type,
      sessionId: 'order-test',
      requestId: null,
      data: {},
      createdAt: new Date(),
    });
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let inserted!: () => void;
    const firstInserted = new Promise<void>((resolve) => (inserted = resolve));
    // Inserted first, committed last.
    const first = db.transaction(async (tx) => {
      await insertEvents(tx, [event('test.inserted_first')]);
      inserted();
      await gate;
    });
    // Released whatever happens: an open transaction would keep its connection, and closing the
    // pool after a failed assertion would then wait for it forever.
    try {
      await firstInserted;
      await db.transaction((tx) => insertEvents(tx, [event('test.inserted_second')]));
      // The sequencer numbers what is committed: the second event now, the first once it commits.
      await a.service.eventSequencer.runDue();
      const beforeFirstCommits = await selectEventsAfter(db, { orgId, afterId: 0, sessionId: 'order-test', limit: 10 });
      assert.deepEqual(
        beforeFirstCommits.map((e) => e.type),
        ['test.inserted_second'],
      );
    } finally {
      release();
      await first;
    }
    await a.service.eventSequencer.runDue();
    const logged = await selectEventsAfter(db, { orgId, afterId: 0, sessionId: 'order-test', limit: 10 });
    assert.deepEqual(
      logged.map((e) => e.type),
      ['test.inserted_second', 'test.inserted_first'],
    );
    assert.ok(logged[0]!.id < logged[1]!.id);
    assert.deepEqual(typesOf(await onB.take(2)), ['test.inserted_second', 'test.inserted_first']);
    onB.close();
  });

  it('runDue waits for a sequencer that holds the lock instead of returning with nothing numbered', async () => {
    const db = a.service.deps.db;
    const org = await createOrganisation(a.service.deps, 'waiting');
    const orgId = (await authenticate(db, org.key))!;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let locked!: () => void;
    const lockTaken = new Promise<void>((resolve) => (locked = resolve));
    // Stands for another process's sequencer, busy when this one is asked to run.
    const other = db.transaction(async (tx) => {
      await lockEventSequencer(tx, true);
      locked();
      await gate;
    });
    try {
      await lockTaken;
      await db.transaction((tx) =>
        insertEvents(tx, [
          { orgId, type: 'test.waited', sessionId: null, requestId: null, data: {}, createdAt: new Date() },
        ]),
      );
      const running = a.service.eventSequencer.runDue();
      await eventually(
        'runDue queued for the sequencer lock',
        async () =>
          (
            await db.query<{ n: number }>(
              "SELECT count(*) AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
            )
          ).rows[0]!.n > 0,
      );
      release();
      await running;
    } finally {
      release();
      await other;
    }
    const logged = await selectEventsAfter(db, { orgId, afterId: 0, limit: 10 });
    assert.deepEqual(
      logged.map((e) => e.type),
      ['test.waited'],
    );
  });

  it('delivers changes made by another process in order, and the gap after a reconnect', async () => {
    const callB = client(b.url, a.key);
    const { app, version } = await seedVersion(callB, { sockets: 8 });
    const requestId = await registerServer(callB, { app, version, sockets: 8 });
    const onA = await stream(a, '', { 'last-event-id': '0' });
    assert.deepEqual(typesOf(await onA.take(2)), ['deployment.created', 'deployment.ready']);
    const id = await lifecycle(callB, app);
    const events = await onA.take(LIFECYCLE.length);
    assertLifecycle(events, id, requestId);
    onA.close();
    await onA.ended;

    const missed = await lifecycle(callB, app);
    const back = await stream(a, '', { 'last-event-id': events.at(-1)!.id! });
    const gap = await back.take(LIFECYCLE.length);
    assertLifecycle(gap, missed, requestId);
    const live = await lifecycle(callB, app);
    assertLifecycle(await back.take(LIFECYCLE.length), live, requestId);
    back.close();
  });

  // Last: it leaves events in the log that a replay from 0 would show.
  it('keeps delivering after the LISTEN connection is killed, without losing changes made meanwhile', async () => {
    const callB = client(b.url, a.key);
    const { app, version } = await seedVersion(callB, { sockets: 8 });
    const onA = await stream(a);
    const killed = await a.service.deps.db.query<{ ok: boolean }>(
      `SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity
       WHERE datname = current_database() AND query LIKE 'LISTEN %' AND pid <> pg_backend_pid()`,
    );
    assert.equal(killed.rows.length, 2, 'one listening connection per process');
    // Committed while neither process is listening: only the catch-up from the log can deliver it.
    const requestId = await registerServer(callB, { app, version, sockets: 8 });
    const events = await onA.take(2);
    assert.deepEqual(typesOf(events), ['deployment.created', 'deployment.ready']);
    assert.equal(events[0]!.data.request_id, requestId);
    const id = await lifecycle(callB, app);
    assertLifecycle(await onA.take(LIFECYCLE.length), id, requestId);
    onA.close();
  });
});
