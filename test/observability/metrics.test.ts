import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { client, FakeClock, registerServer, seedVersion, startTestService, type TestService } from '../support/harness.js';

/** The value of one sample line, e.g. metric('rallypoint_placements_total{outcome="linked"}'). */
function sample(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? 0 : Number(line.slice(series.length + 1));
}

describe('GET /metrics', () => {
  let t: TestService;
  let call: ReturnType<typeof client>;
  const clock = new FakeClock(new Date());
  before(async () => {
    t = await startTestService({ clock });
    call = client(t.url, t.key);
  });
  after(() => t.close());

  it('moves the counters by exactly the workload', async () => {
    const { app, version } = await seedVersion(call, { sockets: 2 });
    await registerServer(call, { app, version, sockets: 2 });
    const before = await (await fetch(`${t.url}/metrics`)).text();

    const linked = await call('POST', '/v1/session', { app_name: app, ip_list: ['1.1.1.1', '2.2.2.2'] });
    const refused = await call('POST', '/v1/session', { app_name: app, ip_list: ['3.3.3.3'] });
    const missing = await call('GET', '/v1/session/000000000000-S');
    assert.equal(linked.status, 200);
    assert.equal(refused.status, 200);
    assert.equal(missing.status, 404);

    const res = await fetch(`${t.url}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /text\/plain/);
    const text = await res.text();
    const delta = (series: string) => sample(text, series) - sample(before, series);
    assert.equal(delta('rallypoint_placements_total{outcome="linked"}'), 1);
    assert.equal(delta('rallypoint_placements_total{outcome="unprocessable"}'), 1);
    assert.equal(delta('rallypoint_http_requests_total{method="POST",route="/v1/session",status="200"}'), 2);
    assert.equal(delta('rallypoint_http_requests_total{method="GET",route="/v1/session/:session_id",status="404"}'), 1);
    assert.equal(delta('rallypoint_placement_duration_seconds_count{outcome="linked"}'), 1);
    assert.equal(sample(text, 'rallypoint_sessions{status="Ready",kind="Seat"}'), 1);
    assert.equal(sample(text, 'rallypoint_sessions{status="Unprocessable",kind="Seat"}'), 1);
    assert.equal(sample(text, `rallypoint_seats_used{app="${app}",version="${version}",city="Montreal"}`), 2);
    assert.equal(sample(text, `rallypoint_seats_total{app="${app}",version="${version}",city="Montreal"}`), 2);
    assert.ok(text.includes('rallypoint_db_pool_connections{state="total"}'));
    assert.ok(text.includes('rallypoint_process_resident_memory_bytes'));
    // No ids as labels: neither session nor deployment ids appear anywhere.
    assert.ok(!text.includes(linked.body.session_id));
    assert.ok(!text.includes(linked.body.deployment_request_id));
  });

  it('counts webhook attempts by outcome', async () => {
    let answers = [500, 200];
    const receiver = createServer((req, res) => req.resume().on('end', () => res.writeHead(answers.shift() ?? 200).end()));
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = receiver.address() as { port: number };
      const { app, version } = await seedVersion(call, { sockets: 2 });
      await registerServer(call, { app, version, sockets: 2 });
      const before = await (await fetch(`${t.url}/metrics`)).text();
      await call('POST', '/v1/session', { app_name: app, ip_list: ['4.4.4.4'], webhook_url: `http://127.0.0.1:${port}/hook` });
      await t.service.webhooks.runDue();
      clock.advance(60_000);
      await t.service.webhooks.runDue();
      const text = await (await fetch(`${t.url}/metrics`)).text();
      const delta = (series: string) => sample(text, series) - sample(before, series);
      assert.equal(delta('rallypoint_webhook_deliveries_total{outcome="failed"}'), 1);
      assert.equal(delta('rallypoint_webhook_deliveries_total{outcome="delivered"}'), 1);
      assert.equal(delta('rallypoint_webhook_delivery_duration_seconds_count{outcome="delivered"}'), 1);
      assert.deepEqual(answers, []);
    } finally {
      answers = [];
      await new Promise((resolve) => receiver.close(resolve));
    }
  });

  it('requires the token when METRICS_TOKEN is set', async () => {
    const guarded = await startTestService({ env: { METRICS_TOKEN: 'sekret' } });
    try {
      assert.equal((await fetch(`${guarded.url}/metrics`)).status, 401);
      const ok = await fetch(`${guarded.url}/metrics`, { headers: { authorization: 'Bearer sekret' } });
      assert.equal(ok.status, 200);
    } finally {
      await guarded.close();
    }
  });
});
