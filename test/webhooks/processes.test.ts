import { after, before, describe, it } from '../support/node-test.js';
import assert from 'node:assert/strict';
import {
  client,
  FakeClock,
  registerServer,
  seedVersion,
  startTestService,
  type TestService,
} from '../support/harness.js';
import { claimDueWebhookDeliveries } from '../../src/db/queries/webhooks.js';
import { startReceiver, type Receiver } from './receiver.js';

describe('webhook delivery across server processes', () => {
  let r: Receiver;
  const open: TestService[] = [];

  before(async () => {
    // A 4xx on the first attempt: retried per delivery, without backing the receiver off as a whole
    // (40 failures in a row would), so every retry is due in the second round.
    r = await startReceiver(({ headers }) => (headers['rallypoint-attempt'] === '1' ? 409 : 200));
  });
  after(async () => {
    for (const s of open) await s.close().catch(() => {});
    await r.close();
  });

  async function start(clock: FakeClock, first?: TestService): Promise<TestService> {
    const s = await startTestService({ clock, ...(first ? { databaseUrl: first.databaseUrl } : {}) });
    open.push(s);
    return s;
  }

  it('delivers what was due when the process died, from the next process', async () => {
    const clock = new FakeClock();
    const a = await start(clock);
    const call = client(a.url, a.key);
    const { app, version } = await seedVersion(call);
    await registerServer(call, { app, version });
    const created = await call('POST', '/v1/session', { app_name: app, ip_list: ['1.2.3.4'], webhook_url: r.url });
    assert.equal(created.status, 200);
    await a.close(); // dies without its worker having run

    const b = await start(clock, a);
    const before = r.received.length;
    assert.equal(await b.service.webhooks.runDue(), 1);
    clock.advance(5_000);
    assert.equal(await b.service.webhooks.runDue(), 1);
    const got = r.received.slice(before);
    assert.deepEqual(
      got.map((x) => x.answered),
      [409, 200],
    );
    assert.equal(JSON.parse(got[1]!.body).session_id, created.body.session_id);

    // A process that claimed an attempt and died mid-POST: the lease runs out and another process retries.
    const second = await client(b.url, b.key)('POST', '/v1/session', {
      app_name: app,
      ip_list: ['1.2.3.5'],
      webhook_url: r.url,
    });
    const now = clock.now();
    const claimed = await claimDueWebhookDeliveries(b.service.deps.db, now, new Date(now.getTime() + 40_000), 10);
    assert.equal(claimed.length, 1);
    assert.equal(claimed[0]!.sessionId, second.body.session_id);
    assert.equal(await b.service.webhooks.runDue(), 0, 'leased by the dead process');
    clock.advance(40_000);
    assert.equal(await b.service.webhooks.runDue(), 1);
    const retried = r.received.at(-1)!;
    assert.equal(retried.headers['rallypoint-attempt'], '2');
    assert.equal(retried.answered, 200);
  });

  it('two processes on one PostgreSQL database never send one attempt twice', async () => {
    const clock = new FakeClock();
    const a = await start(clock);
    const b = await start(clock, a);
    const call = client(a.url, a.key);
    const { app, version } = await seedVersion(call, { sockets: 1000 });
    await registerServer(call, { app, version, sockets: 1000 });
    const sessionIds = new Set<string>();
    for (let i = 0; i < 40; i++) {
      const created = await call('POST', '/v1/session', {
        app_name: app,
        ip_list: [`10.0.${i}.1`],
        webhook_url: r.url,
      });
      assert.equal(created.status, 200);
      sessionIds.add(created.body.session_id);
    }
    const before = r.received.length;
    for (let round = 0; round < 2; round++) {
      const [x, y] = await Promise.all([a.service.webhooks.runDue(), b.service.webhooks.runDue()]);
      assert.equal(x + y, 40, `round ${round + 1}: every delivery attempted once in all`);
      clock.advance(5_000);
    }
    const got = r.received.slice(before);
    const attempts = got.map((x) => `${x.headers['rallypoint-delivery-id']}#${x.headers['rallypoint-attempt']}`);
    assert.equal(new Set(attempts).size, attempts.length, 'no attempt was sent twice');
    assert.equal(attempts.length, 80);
    const accepted = got.filter((x) => x.answered === 200).map((x) => JSON.parse(x.body).session_id as string);
    assert.deepEqual(new Set(accepted), sessionIds);
    assert.equal(accepted.length, 40, 'exactly one accepted delivery per session');
    assert.equal(
      (await Promise.all([a.service.webhooks.runDue(), b.service.webhooks.runDue()])).reduce((m, n) => m + n),
      0,
    );
  });
});
