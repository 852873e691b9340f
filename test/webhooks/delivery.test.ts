import { after, before, describe, it } from '../support/node-test.js';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import {
  client,
  FakeClock,
  registerServer,
  seedVersion,
  startTestService,
  type TestService,
} from '../support/harness.js';
import { verifySignature } from '../../src/jobs/webhooks/signature.js';
import { ofDelivery, startReceiver, type Receiver } from './receiver.js';

/** The README's verification, written out independently of the server's code. */
function readmeVerify(secret: string, header: string, body: string): boolean {
  const fields = Object.fromEntries(header.split(',').map((kv) => kv.split('=')));
  const expected = createHmac('sha256', secret).update(`${fields.t}.${body}`).digest('hex');
  return expected === fields.v1;
}

describe('webhook delivery', () => {
  let t: TestService;
  let call: ReturnType<typeof client>;
  const clock = new FakeClock();
  const receivers: Receiver[] = [];
  let app: string;
  let version: string;
  let requestId: string;

  before(async () => {
    t = await startTestService({ clock, env: { WEBHOOK_TIMEOUT_MS: '300', WEBHOOK_MAX_AGE_MS: '60000' } });
    call = client(t.url, t.key);
    ({ app, version } = await seedVersion(call, { sockets: 100 }));
    requestId = await registerServer(call, { app, version, sockets: 100 });
  });
  after(async () => {
    await t.close();
    for (const r of receivers) await r.close();
  });

  async function receiver(answer?: Receiver['answer']): Promise<Receiver> {
    const r = await startReceiver(answer);
    receivers.push(r);
    return r;
  }
  async function deliveriesOf(sessionId: string) {
    const listed = await call('GET', `/v1/webhooks/deliveries?session_id=${sessionId}`);
    assert.equal(listed.status, 200);
    return listed.body.deliveries as any[];
  }
  async function newSession(url: string, extra: Record<string, unknown> = {}) {
    const created = await call('POST', '/v1/session', {
      app_name: app,
      ip_list: ['1.2.3.4', '5.6.7.8'],
      webhook_url: url,
      ...extra,
    });
    assert.equal(created.status, 200, JSON.stringify(created.body));
    return created.body.session_id as string;
  }

  it('delivers the SessionContext with a valid signature, once', async () => {
    const r = await receiver();
    const sessionId = await newSession(r.url, { custom_id: 'match-7' });
    const [pending] = await deliveriesOf(sessionId);
    assert.equal(pending.state, 'pending');
    assert.equal(pending.attempts, 0);
    assert.equal(r.received.length, 0, 'nothing is sent before the worker runs');

    assert.equal(await t.service.webhooks.runDue(), 1);
    assert.equal(r.received.length, 1);
    const got = r.received[0]!;
    assert.deepEqual(JSON.parse(got.body), {
      session_id: sessionId,
      status: 'Ready',
      ready: true,
      linked: true,
      kind: 'Seat',
      user_count: 2,
      deployment_request_id: requestId,
      webhook_url: r.url,
      custom_id: 'match-7',
    });
    assert.equal(got.headers['content-type'], 'application/json');
    assert.equal(got.headers['rallypoint-event'], 'session.ready');
    assert.equal(got.headers['rallypoint-delivery-id'], pending.delivery_id);
    const header = got.headers['rallypoint-signature'] as string;
    assert.match(header, /^t=\d+,v1=[0-9a-f]{64}$/);
    assert.equal(header.split(',')[0], `t=${Math.floor(clock.now().getTime() / 1000)}`);
    const secret = (await call('GET', '/v1/webhooks/secret')).body.webhook_secret as string;
    assert.ok(readmeVerify(secret, header, got.body));
    assert.ok(verifySignature({ secret, header, body: got.body, nowSeconds: clock.now().getTime() / 1000 }));
    assert.ok(
      !verifySignature({
        secret,
        header,
        body: got.body.replace('match-7', 'match-8'),
        nowSeconds: clock.now().getTime() / 1000,
      }),
    );

    const [done] = await deliveriesOf(sessionId);
    assert.equal(done.state, 'delivered');
    assert.equal(done.attempts, 1);
    assert.equal(done.last_status, 200);
    assert.equal(done.next_attempt, undefined);
    assert.equal(await t.service.webhooks.runDue(), 0, 'a delivered delivery is not sent again');
  });

  it('retries 500s with backoff on the clock and stops at the first 200', async () => {
    const r = await receiver(({ index }) => (index < 3 ? 500 : 200));
    const sessionId = await newSession(r.url);
    const expectedWaitsMs = [5_000, 10_000, 20_000];
    for (const [i, waitMs] of expectedWaitsMs.entries()) {
      assert.equal(await t.service.webhooks.runDue(), 1);
      const [d] = await deliveriesOf(sessionId);
      assert.equal(d.state, 'pending');
      assert.equal(d.attempts, i + 1);
      assert.equal(d.last_status, 500);
      assert.equal(d.last_error, 'HTTP 500');
      const dueInMs = new Date(`${d.next_attempt.replace(' ', 'T')}Z`).getTime() - clock.now().getTime();
      assert.ok(
        dueInMs >= waitMs / 2 && dueInMs <= waitMs,
        `attempt ${i + 1}: retry in ${dueInMs} ms, expected ${waitMs / 2}..${waitMs}`,
      );
      clock.advance(waitMs / 2 - 1);
      assert.equal(await t.service.webhooks.runDue(), 0, 'not retried before its time');
      clock.advance(waitMs / 2 + 1);
    }
    assert.equal(await t.service.webhooks.runDue(), 1);
    clock.advance(3_600_000);
    assert.equal(await t.service.webhooks.runDue(), 0);
    assert.deepEqual(
      r.received.map((x) => x.answered),
      [500, 500, 500, 200],
    );
    const [d] = await deliveriesOf(sessionId);
    assert.deepEqual(
      r.received.map((x) => x.headers['rallypoint-delivery-id']),
      Array(4).fill(d.delivery_id),
      'one id across retries',
    );
    assert.deepEqual(
      r.received.map((x) => x.headers['rallypoint-attempt']),
      ['1', '2', '3', '4'],
    );
    assert.equal(d.state, 'delivered');
    assert.equal(d.attempts, 4);
  });

  it('times out a receiver that never answers and retries it later', async () => {
    let hang = true;
    const r = await receiver(() => (hang ? 'hang' : 204));
    const sessionId = await newSession(r.url);
    assert.equal(await t.service.webhooks.runDue(), 1);
    const [d] = await deliveriesOf(sessionId);
    assert.equal(d.state, 'pending');
    assert.equal(d.last_error, 'timed out after 300 ms');
    assert.equal(d.last_status, undefined);
    hang = false;
    clock.advance(5_000);
    assert.equal(await t.service.webhooks.runDue(), 1);
    assert.equal((await deliveriesOf(sessionId))[0].state, 'delivered');
    assert.equal(ofDelivery(r, d.delivery_id).length, 2);
  });

  it('treats a redirect as a failure and does not follow it', async () => {
    const r = await receiver(({ index }) => (index === 0 ? 302 : 200));
    const sessionId = await newSession(r.url);
    await t.service.webhooks.runDue();
    const [d] = await deliveriesOf(sessionId);
    assert.equal(d.state, 'pending');
    assert.equal(d.last_status, 302);
    assert.match(d.last_error, /redirects are not followed/);
    assert.equal(r.received.length, 1);
    clock.advance(5_000);
    assert.equal(await t.service.webhooks.runDue(), 1);
    assert.equal((await deliveriesOf(sessionId))[0].state, 'delivered');
  });

  it("sends one session's deliveries in the order of its transitions", async () => {
    const r = await receiver(({ index }) => (index === 0 ? 500 : 200));
    const own = await registerServer(call, { app, version, sockets: 5, tags: ['ordered'] });
    const sessionId = await newSession(r.url, { deployment_request_id: own });
    const stopped = await call('DELETE', `/v1/stop/${own}`);
    assert.equal(stopped.status, 200);
    assert.equal(await t.service.webhooks.runDue(), 1, 'the error event waits behind the failed ready event');
    assert.deepEqual(
      r.received.map((x) => x.headers['rallypoint-event']),
      ['session.ready'],
    );
    clock.advance(5_000);
    assert.equal(await t.service.webhooks.runDue(), 2);
    assert.deepEqual(
      r.received.map((x) => x.headers['rallypoint-event']),
      ['session.ready', 'session.ready', 'session.error'],
    );
    const last = JSON.parse(r.received[2]!.body);
    assert.equal(last.status, 'Error');
    assert.equal(last.ready, false);
    const listed = await deliveriesOf(sessionId);
    assert.deepEqual(
      listed.map((d) => [d.event, d.state]),
      [
        ['session.error', 'delivered'],
        ['session.ready', 'delivered'],
      ],
    );
  });

  it('signs with the new secret after a rotation', async () => {
    const before = (await call('GET', '/v1/webhooks/secret')).body.webhook_secret as string;
    const rotated = await call('POST', '/v1/webhooks/secret/rotate');
    assert.equal(rotated.status, 200);
    const after = rotated.body.webhook_secret as string;
    assert.match(after, /^whsec_/);
    assert.notEqual(after, before);
    assert.equal((await call('GET', '/v1/webhooks/secret')).body.webhook_secret, after);
    const r = await receiver();
    await newSession(r.url);
    await t.service.webhooks.runDue();
    const got = r.received[0]!;
    const header = got.headers['rallypoint-signature'] as string;
    assert.ok(readmeVerify(after, header, got.body));
    assert.ok(!readmeVerify(before, header, got.body));
  });

  it('marks a delivery dead after its retry window and replays it on request', async () => {
    let status = 500;
    const r = await receiver(() => status);
    const sessionId = await newSession(r.url);
    for (let i = 0; i < 20 && (await deliveriesOf(sessionId))[0].state === 'pending'; i++) {
      await t.service.webhooks.runDue();
      clock.advance(20_000);
    }
    const [dead] = await deliveriesOf(sessionId);
    assert.equal(dead.state, 'dead');
    assert.match(dead.last_error, /^gave up after \d+ attempts; last: HTTP 500$/);
    const attemptsBefore = r.received.length;
    clock.advance(3_600_000);
    assert.equal(await t.service.webhooks.runDue(), 0, 'a dead delivery is not attempted');

    status = 200;
    const replayed = await call('POST', `/v1/webhooks/deliveries/${dead.delivery_id}/replay`);
    assert.equal(replayed.status, 200);
    assert.equal(replayed.body.state, 'pending');
    assert.equal(replayed.body.delivery_id, dead.delivery_id);
    assert.equal(await t.service.webhooks.runDue(), 1);
    assert.equal(r.received.length, attemptsBefore + 1);
    assert.equal(r.received.at(-1)!.headers['rallypoint-delivery-id'], dead.delivery_id);
    assert.equal((await deliveriesOf(sessionId))[0].state, 'delivered');

    const again = await call('POST', `/v1/webhooks/deliveries/${dead.delivery_id}/replay`);
    assert.equal(again.status, 409);
    assert.equal(again.body.code, 'DELIVERY_NOT_DEAD');
    const missing = await call('POST', '/v1/webhooks/deliveries/whd_nope/replay');
    assert.equal(missing.status, 404);
    assert.equal(missing.body.code, 'DELIVERY_NOT_FOUND');
  });

  it('refuses metadata and link-local webhook URLs with a 400', async () => {
    for (const url of [
      'http://169.254.169.254/latest/meta-data/',
      'http://metadata.google.internal/x',
      'http://[::ffff:169.254.169.254]/',
      'http://[fe80::1]/',
    ]) {
      const created = await call('POST', '/v1/session', { app_name: app, ip_list: ['1.2.3.4'], webhook_url: url });
      assert.equal(created.status, 400, url);
      assert.equal(created.body.code, 'VALIDATION_FAILED');
      assert.match(created.body.message, /not allowed/);
    }
    const deploy = await call('POST', '/v1/deploy', {
      app_name: app,
      version_name: version,
      webhook_url: 'http://169.254.169.254/',
    });
    assert.equal(deploy.status, 400);
    assert.equal(deploy.body.code, 'VALIDATION_FAILED');
  });

  it('lists and filters deliveries; unknown filters give an empty list, bad limits a 400', async () => {
    const all = await call('GET', '/v1/webhooks/deliveries?limit=2');
    assert.equal(all.status, 200);
    assert.equal(all.body.deliveries.length, 2);
    assert.ok(all.body.deliveries[0].create_time >= all.body.deliveries[1].create_time);
    assert.deepEqual((await call('GET', '/v1/webhooks/deliveries?session_id=000000000000-S')).body, { deliveries: [] });
    const bad = await call('GET', '/v1/webhooks/deliveries?limit=0');
    assert.equal(bad.status, 400);
    assert.equal(bad.body.code, 'VALIDATION_FAILED');
    assert.equal((await client(t.url, 'wrong')('GET', '/v1/webhooks/secret')).status, 401);
  });
});
