/**
 * The delivery worker of a server with default settings does not poll: a committed delivery wakes
 * it, and a retry wakes it when due. Polling is set to a minute and the fallback to an hour here, so a
 * webhook that arrives at all arrived because something woke the worker.
 */
import { after, before, describe, eventually, it } from '../support/node-test.js';
import assert from 'node:assert/strict';
import { client, registerServer, seedVersion, startTestService, type TestService } from '../support/harness.js';
import { startReceiver, type Receiver } from './receiver.js';

describe('webhook worker wakes instead of polling', () => {
  let t: TestService;
  let call: ReturnType<typeof client>;
  let receiver: Receiver;
  let app: string;

  before(async () => {
    t = await startTestService({
      env: {
        JOB_WAKE_ON_INSERT: 'true',
        JOB_POLL_MS: '60000',
        JOB_FALLBACK_POLL_MS: '3600000',
        WEBHOOK_RETRY_BASE_MS: '1000',
        WEBHOOK_TIMEOUT_MS: '2000',
      },
    });
    call = client(t.url, t.key);
    let version: string;
    ({ app, version } = await seedVersion(call, { sockets: 100 }));
    await registerServer(call, { app, version, sockets: 100 });
    // The first answer of each delivery is a 500, the second a 200.
    const seen = new Map<string, number>();
    receiver = await startReceiver(({ headers }) => {
      const id = String(headers['rallypoint-delivery-id']);
      const n = (seen.get(id) ?? 0) + 1;
      seen.set(id, n);
      return n === 1 ? 500 : 200;
    });
  });
  after(async () => {
    await t?.close();
    await receiver?.close();
  });

  it('sends a committed delivery at once and its retry when it is due', async () => {
    const created = await call('POST', '/v1/session', {
      app_name: app,
      ip_list: ['1.2.3.4'],
      webhook_url: receiver.url,
    });
    assert.equal(created.status, 200, JSON.stringify(created.body));
    const sessionId = created.body.session_id as string;

    await eventually('the first attempt', () => receiver.received.length >= 1, { withinMs: 30_000 });
    assert.equal(receiver.received[0]!.answered, 500);
    const delivered = await eventually('the retry delivered', async () => {
      const listed = await call('GET', `/v1/webhooks/deliveries?session_id=${sessionId}`);
      const [delivery] = listed.body.deliveries as Array<{ state: string; attempts: number }>;
      return delivery?.state === 'delivered' ? delivery : undefined;
    });
    assert.equal(delivered.attempts, 2);
    assert.deepEqual(
      receiver.received.map((r) => r.answered),
      [500, 200],
    );
  });
});
