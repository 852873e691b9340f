import { after, before, describe, it } from '../support/node-test.js';
import assert from 'node:assert/strict';
import { client, FakeClock, MONTREAL, seedVersion, startTestService, type TestService } from '../support/harness.js';
import { markDeploymentReady } from '../../src/app/deployment-lifecycle.js';
import type { Provider } from '../../src/providers/provider.js';
import { startReceiver, type Receiver } from './receiver.js';
import { checkWebhookUrl, createWebhookDenyList } from '../../src/app/webhook-url.js';

/** A provider whose deployments start (or fail to) when the test says. */
function scriptedProvider(failWith: () => string | undefined): Provider {
  return {
    name: 'scripted',
    locations: () => [
      {
        provider: 'scripted',
        city: MONTREAL.city,
        country: MONTREAL.country,
        continent: MONTREAL.continent,
        administrativeDivision: MONTREAL.administrative_division,
        region: '',
        timezone: MONTREAL.timezone,
        latitude: MONTREAL.latitude,
        longitude: MONTREAL.longitude,
      },
    ],
    async start() {
      const error = failWith();
      if (error) throw new Error(error);
      return { publicIp: '203.0.113.50', fqdn: 'game.example', ports: {}, providerData: {} };
    },
    async stop() {},
  };
}

describe('webhook targets: deployments and the deny-list', () => {
  let t: TestService;
  let call: ReturnType<typeof client>;
  let r: Receiver;
  let failure: string | undefined;
  const clock = new FakeClock();

  before(async () => {
    r = await startReceiver();
    t = await startTestService({
      clock,
      providers: [scriptedProvider(() => failure)],
      // Loopback denied on top of the defaults: the receiver is reachable only under its name.
      env: { WEBHOOK_DENY_CIDRS: '169.254.0.0/16,fe80::/10,127.0.0.0/8,::1/128' },
    });
    call = client(t.url, t.key);
  });
  after(async () => {
    await t.close();
    await r.close();
  });

  it('canonicalises hosts before the deny-list at create: trailing dots, case, IPv4 carried in IPv6', async () => {
    const { app } = await seedVersion(call);
    const denied = [
      'http://metadata.google.internal./hook',
      'http://METADATA.Google.Internal../hook',
      'http://169.254.169.254./hook',
      'http://[::a9fe:a9fe]/hook',
      'http://[::169.254.169.254]/hook',
      'http://[64:ff9b::a9fe:a9fe]/hook',
      'http://[64:ff9b:1::a9fe:a9fe]/hook',
      'http://[::ffff:a9fe:a9fe]/hook',
      'http://[2002:a9fe:a9fe::1]/hook',
      'http://[FE80::1]/hook',
      'http://0xa9fea9fe/hook',
    ];
    for (const webhook_url of denied) {
      const r = await call('POST', '/v1/session', { app_name: app, ip_list: ['1.1.1.1'], webhook_url });
      assert.equal(r.status, 400, `${webhook_url}: ${JSON.stringify(r.body)}`);
      assert.match(r.body.message, /not allowed/, webhook_url);
    }
    // Checked without a session: a session would owe a delivery the next tests would count.
    for (const url of [
      'http://[64:ff9b::808:808]/hook',
      'http://hooks.example./hook',
      'http://[2001:db8::a9fe:a9fe]/hook',
      'http://[::1]/hook',
    ]) {
      assert.equal(checkWebhookUrl(url, createWebhookDenyList()).ok, true, url);
    }
  });

  it('refuses a configured CIDR at create (400) and a name resolving into it at delivery (dead)', async () => {
    const { app } = await seedVersion(call, { autodeploy: false });
    const literal = await call('POST', '/v1/session', {
      app_name: app,
      ip_list: ['1.2.3.4'],
      webhook_url: `http://127.0.0.1:${r.port}/hook`,
    });
    assert.equal(literal.status, 400);
    assert.equal(literal.body.code, 'VALIDATION_FAILED');

    const named = await call('POST', '/v1/session', {
      app_name: app,
      ip_list: ['1.2.3.4'],
      webhook_url: `http://localhost:${r.port}/hook`,
    });
    assert.equal(named.status, 200);
    assert.equal(await t.service.webhooks.runDue(), 1);
    const [d] = (await call('GET', `/v1/webhooks/deliveries?session_id=${named.body.session_id}`)).body.deliveries;
    assert.equal(d.event, 'session.unprocessable');
    assert.equal(d.body.status, 'Unprocessable');
    assert.equal(d.state, 'dead');
    assert.match(
      d.last_error,
      /^refused: localhost resolves to (127\.0\.0\.1|::1), which the webhook deny-list \(WEBHOOK_DENY_CIDRS\) refuses$/,
    );
    assert.equal(r.received.length, 0, 'nothing reached the denied address');
  });

  it('sends the deployment webhook of POST /v1/deploy when it becomes ready and when it fails', async () => {
    // This service denies loopback, so the receiver is reached through a second service below.
    const open = await startTestService({ clock, providers: [scriptedProvider(() => failure)] });
    try {
      const c = client(open.url, open.key);
      const { app, version } = await seedVersion(c, { kind: 'Match' });
      const deployed = await c('POST', '/v1/deploy', { app_name: app, version_name: version, webhook_url: r.url });
      assert.equal(deployed.status, 200, JSON.stringify(deployed.body));
      const requestId = deployed.body.request_id as string;
      await open.service.jobs.runDue();
      assert.equal(await open.service.webhooks.runDue(), 0, 'deploying is not an event');
      const { rows } = await open.service.deps.db.query<{ id: number }>(
        'SELECT id FROM deployments WHERE request_id = $1',
        [requestId],
      );
      await markDeploymentReady(open.service.deps, rows[0]!.id);
      assert.equal(await open.service.webhooks.runDue(), 1);
      const ready = r.received.at(-1)!;
      assert.equal(ready.headers['rallypoint-event'], 'deployment.ready');
      const status = (await c('GET', `/v1/status/${requestId}`)).body;
      const sent = JSON.parse(ready.body);
      assert.equal(sent.request_id, requestId);
      assert.equal(sent.current_status, 'Status.READY');
      assert.equal(sent.running, true);
      assert.deepEqual(Object.keys(sent).sort(), Object.keys(status).sort(), 'the body is the status view');

      failure = 'out of capacity';
      const failing = await c('POST', '/v1/deploy', { app_name: app, version_name: version, webhook_url: r.url });
      await open.service.jobs.runDue();
      assert.equal(await open.service.webhooks.runDue(), 1);
      const failed = r.received.at(-1)!;
      assert.equal(failed.headers['rallypoint-event'], 'deployment.error');
      const body = JSON.parse(failed.body);
      assert.equal(body.request_id, failing.body.request_id);
      assert.equal(body.current_status, 'Status.ERROR');
      assert.equal(body.error, true);
      assert.match(body.error_detail, /out of capacity/);
      const listed = await c('GET', `/v1/webhooks/deliveries?request_id=${failing.body.request_id}`);
      assert.deepEqual(
        listed.body.deliveries.map((d: any) => [d.event, d.state]),
        [['deployment.error', 'delivered']],
      );
    } finally {
      failure = undefined;
      await open.close();
    }
  });
});
