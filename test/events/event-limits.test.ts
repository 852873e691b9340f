import { after, before, describe, eventually, it } from '../support/node-test.js';
import assert from 'node:assert/strict';
import http from 'node:http';
import { createKeyForOrganisation } from '../../src/app/organisations.js';
import { authenticate, createOrganisation } from '../../src/app/keys.js';
import { openDb } from '../../src/db/open-db.js';
import { loadMigrations, migrate } from '../../src/db/migrate.js';
import { insertEvents, selectLatestEventId } from '../../src/db/queries/events.js';
import { startEventSequencer } from '../../src/events/event-sequencer.js';
import {
  client,
  createTestDatabase,
  registerServer,
  seedVersion,
  startTestService,
  type TestService,
} from '../support/harness.js';
import { openSse, type SseStream } from './sse-client.js';

function stream(t: TestService, key: string, headers: Record<string, string> = {}, query = ''): Promise<SseStream> {
  return openSse(`${t.url}/v1/events${query}`, { authorization: `token ${key}`, ...headers });
}

/** A session created, given a player and deleted: several events. */
async function churn(call: ReturnType<typeof client>, app: string): Promise<void> {
  const created = await call('POST', '/v1/session', { app_name: app, ip_list: ['1.2.3.4'] });
  assert.equal(created.status, 200, JSON.stringify(created.body));
  assert.equal(
    (await call('PUT', `/v1/session/${created.body.session_id}/users`, { ip_list: ['9.9.9.9'] })).status,
    200,
  );
  assert.equal((await call('DELETE', `/v1/session/${created.body.session_id}`)).status, 200);
}

describe('event ids are per organisation', () => {
  let t: TestService;
  before(async () => {
    t = await startTestService();
  });
  after(() => t.close());

  it("a new organisation starts at 1, and another organisation's volume never shows in its ids", async () => {
    const callA = client(t.url, t.key);
    const a = await seedVersion(callA, { sockets: 100 });
    await registerServer(callA, { ...a, sockets: 100 });
    for (let i = 0; i < 10; i++) await churn(callA, a.app);
    await t.service.eventSequencer.runDue();
    const aStream = await stream(t, t.key);

    const b = await createOrganisation(t.service.deps, 'newcomer');
    const callB = client(t.url, b.key);
    const bStream = await stream(t, b.key, { 'last-event-id': '0' });
    const bApp = await seedVersion(callB, { sockets: 100 });
    await registerServer(callB, { ...bApp, sockets: 100 });
    const bFirst = await bStream.take(2);
    assert.deepEqual(
      bFirst.map((e) => Number(e.id)),
      [1, 2],
      "the newcomer's first ids say nothing of the other organisation",
    );
    assert.deepEqual(
      bFirst.map((e) => e.data.id),
      [1, 2],
    );

    // B's activity does not move A's numbering: A's next event follows A's own last one.
    const aLatest = await selectLatestEventId(t.service.deps.db, (await authenticate(t.service.deps.db, t.key))!);
    assert.ok(aLatest > 30, `A has made many events (${aLatest})`);
    for (let i = 0; i < 5; i++) await churn(callB, bApp.app);
    const created = await callA('POST', '/v1/session', { app_name: a.app, ip_list: ['5.5.5.5'] });
    assert.equal(created.status, 200);
    const next = await aStream.next();
    assert.equal(next.event, 'session.created');
    assert.equal(Number(next.id), aLatest + 1);
    const state = await callB('GET', '/v1/dashboard/state');
    assert.equal(state.status, 200);
    const bCount = (
      await t.service.deps.db.query<{ n: number }>('SELECT count(*) AS n FROM events WHERE org_id = $1', [b.orgId])
    ).rows[0]!.n;
    assert.equal(state.body.latest_event_id, bCount, "B's latest id counts B's events only");
    aStream.close();
    bStream.close();
  });

  it('a Last-Event-ID never given to the organisation (from another one, or from before the renumbering) gets a resync', async () => {
    const c = await createOrganisation(t.service.deps, 'fresh');
    const s = await stream(t, c.key, { 'last-event-id': '5000' });
    const resync = await s.next();
    assert.equal(resync.event, 'resync');
    assert.equal(resync.data.data.reason, 'unknown_id');
    assert.equal(resync.id, '0');
    // The stream goes on with the organisation's own ids.
    const call = client(t.url, c.key);
    const v = await seedVersion(call, { sockets: 8 });
    await registerServer(call, { ...v, sockets: 8 });
    assert.equal((await s.next()).id, '1');
    s.close();
  });

  it('migration 010 renumbers existing events per organisation, keeping their order', async () => {
    const url = await createTestDatabase();
    const db = await openDb({ databaseUrl: url, dataDir: '', poolSize: 2 });
    try {
      const all = await loadMigrations();
      await migrate(
        db,
        all.filter((m) => m.id < 10),
      );
      const orgs = (
        await db.query<{ id: number }>(
          "INSERT INTO organisations (name, webhook_secret) VALUES ('one', 's'), ('two', 's'), ('three', 's') RETURNING id",
        )
      ).rows.map((r) => r.id);
      // Global positions as the old sequencer gave them; the last row is not numbered yet.
      const rows: Array<[number, number | null]> = [
        [orgs[0]!, 1],
        [orgs[1]!, 2],
        [orgs[0]!, 3],
        [orgs[0]!, 7],
        [orgs[1]!, 9],
        [orgs[2]!, null],
      ];
      for (const [org, position] of rows) {
        await db.query(
          "INSERT INTO events (org_id, position, type, data, created_at) VALUES ($1, $2, 'test.old', '{}', now())",
          [org, position],
        );
      }
      await migrate(db, all);
      const after = await db.query<{ org_id: number; position: number | null }>(
        'SELECT org_id, position FROM events ORDER BY id',
      );
      assert.deepEqual(
        after.rows.map((r) => [r.org_id, r.position]),
        [
          [orgs[0], 1],
          [orgs[1], 1],
          [orgs[0], 2],
          [orgs[0], 3],
          [orgs[1], 2],
          [orgs[2], null],
        ],
      );
      assert.equal(await selectLatestEventId(db, orgs[0]!), 3);
      assert.equal(await selectLatestEventId(db, orgs[1]!), 2);
      assert.equal(await selectLatestEventId(db, orgs[2]!), 0);
      const sequencer = startEventSequencer({ db, minGapMs: 1, fallbackMs: 0, onError: () => undefined });
      await insertEvents(db, [
        { orgId: orgs[0]!, type: 'test.new', sessionId: null, requestId: null, data: {}, createdAt: new Date() },
      ]);
      assert.equal(await sequencer.runDue(), 2);
      await sequencer.stop();
      const numbered = await db.query<{ org_id: number; position: number }>(
        "SELECT org_id, position FROM events WHERE type = 'test.new' OR org_id = $1",
        [orgs[2]],
      );
      assert.deepEqual(
        numbered.rows.map((r) => [r.org_id, r.position]).sort(),
        [
          [orgs[0], 4],
          [orgs[2], 1],
        ].sort(),
      );
    } finally {
      await db.close();
    }
  });
});

describe('event stream limits', () => {
  let t: TestService;
  before(async () => {
    t = await startTestService({
      env: {
        EVENT_STREAMS_PER_KEY: '2',
        EVENT_STREAMS_PER_ORG: '3',
        EVENT_REPLAY_MAX_EVENTS: '12',
        EVENT_STREAM_QUEUE_MAX: '5',
      },
    });
  });
  after(() => t.close());

  it('caps open streams per key and per organisation with 429 TOO_MANY_STREAMS', async () => {
    const org = await createOrganisation(t.service.deps, 'capped');
    const second = await createKeyForOrganisation(t.service.deps, 'capped', 'second');
    assert.ok(second.ok);
    const call = client(t.url, org.key);
    const open = [await stream(t, org.key), await stream(t, org.key)];
    assert.deepEqual(
      open.map((s) => s.status),
      [200, 200],
    );
    const third = await call('GET', '/v1/events');
    assert.equal(third.status, 429);
    assert.equal(third.body.code, 'TOO_MANY_STREAMS');
    assert.match(third.body.message, /2 per API key/);
    // Another key of the organisation has its own budget, up to the organisation's.
    const other = await stream(t, second.value.key);
    assert.equal(other.status, 200);
    const overOrg = await client(t.url, second.value.key)('GET', '/v1/events');
    assert.equal(overOrg.status, 429);
    assert.equal(overOrg.body.code, 'TOO_MANY_STREAMS');
    assert.match(overOrg.body.message, /3 per organisation/);
    // Another organisation is not affected.
    const stranger = await stream(t, t.key);
    assert.equal(stranger.status, 200);
    stranger.close();
    // A closed stream gives its slot back.
    open[0]!.close();
    await eventually("the closed stream's slot is free", async () => {
      const again = await stream(t, org.key);
      if (again.status === 200) {
        again.close();
        return true;
      }
      return false;
    });
    open[1]!.close();
    other.close();
  });

  it('a Last-Event-ID further behind than EVENT_REPLAY_MAX_EVENTS gets a resync, then live events', async () => {
    const org = await createOrganisation(t.service.deps, 'behind');
    const call = client(t.url, org.key);
    const v = await seedVersion(call, { sockets: 100 });
    await registerServer(call, { ...v, sockets: 100 });
    for (let i = 0; i < 5; i++) await churn(call, v.app);
    await t.service.eventSequencer.runDue();
    const latest = await selectLatestEventId(t.service.deps.db, org.orgId);
    assert.ok(latest > 13, `enough events (${latest})`);

    const far = await stream(t, org.key, { 'last-event-id': '1' });
    const resync = await far.next();
    assert.equal(resync.event, 'resync');
    assert.deepEqual(resync.data.data, { reason: 'too_far_behind' });
    assert.equal(Number(resync.id), latest);
    await churn(call, v.app);
    const live = await far.next();
    assert.equal(live.event, 'session.created');
    assert.equal(Number(live.id), latest + 1);
    far.close();

    // Within the bound: a plain replay, no resync.
    await t.service.eventSequencer.runDue();
    const now = await selectLatestEventId(t.service.deps.db, org.orgId);
    const near = await stream(t, org.key, { 'last-event-id': String(now - 12) });
    const replayed = await near.take(12);
    assert.deepEqual(
      replayed.map((e) => Number(e.id)),
      Array.from({ length: 12 }, (_, i) => now - 11 + i),
    );
    near.close();
  });

  it('ends the stream with a resync when a client that stopped reading falls EVENT_STREAM_QUEUE_MAX events behind', async () => {
    const org = await createOrganisation(t.service.deps, 'slow');
    const subscribersBefore = t.service.events.subscriberCount();
    const url = new URL(`${t.url}/v1/events`);
    const chunks: Buffer[] = [];
    const response = await new Promise<http.IncomingMessage>((resolve, reject) => {
      http
        .get(url, { headers: { authorization: `token ${org.key}`, accept: 'text/event-stream' } }, resolve)
        .on('error', reject);
    });
    assert.equal(response.statusCode, 200);
    // Reads nothing more: the server's socket fills up, then its queue.
    response.pause();
    const ended = new Promise<void>((resolve) => response.on('end', resolve));
    response.on('data', (chunk: Buffer) => chunks.push(chunk));
    // Big events fill the socket buffers quickly.
    const padding = 'x'.repeat(6_000);
    for (let batch = 0; batch < 40; batch++) {
      await t.service.deps.db.transaction((tx) =>
        insertEvents(
          tx,
          Array.from({ length: 50 }, () => ({
            orgId: org.orgId,
            type: 'test.big',
            sessionId: null,
            requestId: null,
            data: { padding },
            createdAt: new Date(),
          })),
        ),
      );
      await t.service.eventSequencer.runDue();
      if (t.service.events.subscriberCount() === subscribersBefore) break;
    }
    await eventually(
      'the server gave up on the slow stream',
      async () => t.service.events.subscriberCount() === subscribersBefore,
    );
    response.resume();
    await ended;
    const text = Buffer.concat(chunks).toString('utf8');
    const blocks = text.trim().split('\n\n');
    const last = blocks.at(-1)!;
    assert.match(last, /^event: resync\ndata: /);
    assert.equal(JSON.parse(last.split('data: ')[1]!).data.reason, 'slow_consumer');
    assert.ok(
      blocks.filter((b) => b.includes('event: test.big')).length < 2_000,
      'events past the queue were not held',
    );
  });
});

describe('a commit wakes the sequencer', () => {
  let t: TestService;
  before(async () => {
    // No fallback poll worth the name: only the wake can number these events in time.
    t = await startTestService({ env: { EVENT_SEQUENCE_FALLBACK_MS: '3600000' } });
  });
  after(() => t.close());

  it('live events arrive without a poll', async () => {
    const call = client(t.url, t.key);
    const v = await seedVersion(call, { sockets: 8 });
    const live = await stream(t, t.key);
    await registerServer(call, { ...v, sockets: 8 });
    const events = await live.take(2, 20_000);
    assert.deepEqual(
      events.map((e) => e.event),
      ['deployment.created', 'deployment.ready'],
    );
    live.close();
  });
});
