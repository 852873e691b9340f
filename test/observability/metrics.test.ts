import { after, before, describe, it } from '../support/node-test.js';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import {
  client,
  FakeClock,
  registerServer,
  seedVersion,
  startTestService,
  type TestService,
} from '../support/harness.js';
import { newTenant } from '../http/wire-shapes.js';

const TOKEN = 'metrics-token-for-tests';
const scrape = (url: string) => fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });

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
    t = await startTestService({ clock, env: { METRICS_TOKEN: TOKEN } });
    call = client(t.url, t.key);
  });
  after(() => t.close());

  it('moves the counters by exactly the workload', async () => {
    const { app, version } = await seedVersion(call, { sockets: 2 });
    await registerServer(call, { app, version, sockets: 2 });
    const before = await (await scrape(t.url)).text();

    const linked = await call('POST', '/v1/session', { app_name: app, ip_list: ['1.1.1.1', '2.2.2.2'] });
    const refused = await call('POST', '/v1/session', { app_name: app, ip_list: ['3.3.3.3'] });
    const missing = await call('GET', '/v1/session/000000000000-S');
    assert.equal(linked.status, 200);
    assert.equal(refused.status, 200);
    assert.equal(missing.status, 404);

    const res = await scrape(t.url);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /text\/plain/);
    const text = await res.text();
    const delta = (series: string) => sample(text, series) - sample(before, series);
    const { rows } = await t.service.deps.db.query<{ id: string }>('SELECT min(id)::text AS id FROM organisations');
    const org = rows[0]!.id;
    assert.equal(delta(`rallypoint_placements_total{org="${org}",outcome="linked"}`), 1);
    assert.equal(delta(`rallypoint_placements_total{org="${org}",outcome="unprocessable"}`), 1);
    assert.equal(
      delta(`rallypoint_http_requests_total{org="${org}",method="POST",route="/v1/session",status="200"}`),
      2,
    );
    assert.equal(
      delta(`rallypoint_http_requests_total{org="${org}",method="GET",route="/v1/session/:session_id",status="404"}`),
      1,
    );
    assert.equal(delta('rallypoint_placement_duration_seconds_count{outcome="linked"}'), 1);
    assert.equal(sample(text, `rallypoint_sessions{org="${org}",status="Ready",kind="Seat"}`), 1);
    assert.equal(sample(text, `rallypoint_sessions{org="${org}",status="Unprocessable",kind="Seat"}`), 1);
    assert.equal(
      sample(text, `rallypoint_seats_used{org="${org}",app="${app}",version="${version}",city="Montreal"}`),
      2,
    );
    assert.equal(
      sample(text, `rallypoint_seats_capacity{org="${org}",app="${app}",version="${version}",city="Montreal"}`),
      2,
    );
    assert.ok(text.includes('rallypoint_db_pool_connections{state="total"}'));
    // No ids as labels: neither session nor deployment ids appear anywhere.
    assert.ok(!text.includes(linked.body.session_id));
    assert.ok(!text.includes(linked.body.deployment_request_id));
  });

  it('counts webhook attempts by organisation and outcome', async () => {
    let answers = [500, 200];
    const receiver = createServer((req, res) =>
      req.resume().on('end', () => res.writeHead(answers.shift() ?? 200).end()),
    );
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = receiver.address() as { port: number };
      const { app, version } = await seedVersion(call, { sockets: 2 });
      await registerServer(call, { app, version, sockets: 2 });
      const before = await (await scrape(t.url)).text();
      await call('POST', '/v1/session', {
        app_name: app,
        ip_list: ['4.4.4.4'],
        webhook_url: `http://127.0.0.1:${port}/hook`,
      });
      await t.service.webhooks.runDue();
      clock.advance(60_000);
      await t.service.webhooks.runDue();
      const text = await (await scrape(t.url)).text();
      const delta = (series: string) => sample(text, series) - sample(before, series);
      const { rows } = await t.service.deps.db.query<{ id: string }>('SELECT min(id)::text AS id FROM organisations');
      const org = rows[0]!.id;
      assert.equal(delta(`rallypoint_webhook_deliveries_total{org="${org}",outcome="failed"}`), 1);
      assert.equal(delta(`rallypoint_webhook_deliveries_total{org="${org}",outcome="delivered"}`), 1);
      assert.equal(delta(`rallypoint_webhook_delivery_duration_seconds_count{org="${org}",outcome="delivered"}`), 1);
      assert.deepEqual(answers, []);
    } finally {
      answers = [];
      await new Promise((resolve) => receiver.close(resolve));
    }
  });

  it('requires the token when METRICS_TOKEN is set', async () => {
    assert.equal((await fetch(`${t.url}/metrics`)).status, 401);
    assert.equal((await fetch(`${t.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}x` } })).status, 401);
    assert.equal((await fetch(`${t.url}/metrics`, { headers: { authorization: `token ${t.key}` } })).status, 401);
    assert.equal((await scrape(t.url)).status, 200);
  });

  it('is private by default: no token and no opt-in answers 401; METRICS_PUBLIC=true opens it', async () => {
    const closed = await startTestService();
    try {
      const r = await fetch(`${closed.url}/metrics`);
      assert.equal(r.status, 401);
      const body = (await r.json()) as { code: string; message: string };
      assert.equal(body.code, 'UNAUTHORIZED');
      assert.match(body.message, /METRICS_TOKEN/);
    } finally {
      await closed.close();
    }
    const open = await startTestService({ env: { METRICS_PUBLIC: 'true' } });
    try {
      assert.equal((await fetch(`${open.url}/metrics`)).status, 200);
    } finally {
      await open.close();
    }
  });

  it('keeps two organisations with same-named apps in separate series', async () => {
    const other = await newTenant(t);
    const name = `same-${Date.now()}`;
    for (const [caller, sockets] of [
      [call, 3],
      [other, 5],
    ] as const) {
      await seedVersion(caller, { app: name, version: 'v1', sockets });
      await registerServer(caller, { app: name, version: 'v1', sockets });
    }
    const text = await (await scrape(t.url)).text();
    const capacities = text
      .split('\n')
      .filter((l) => l.startsWith('rallypoint_seats_capacity{') && l.includes(`app="${name}"`));
    assert.equal(capacities.length, 2, capacities.join('\n'));
    assert.deepEqual(capacities.map((l) => Number(l.split(' ').at(-1))).sort(), [3, 5]);
    assert.equal(new Set(capacities.map((l) => /org="(\d+)"/.exec(l)?.[1])).size, 2);
  });

  it('follows Prometheus naming, keeps the standard process series, and the README lists every series', async () => {
    const text = await (await scrape(t.url)).text();
    const types = [...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map(([, name, type]) => ({ name: name!, type: type! }));
    // Ours only: prom-client's standard nodejs_active_*_total gauges keep the names dashboards know.
    for (const { name, type } of types.filter((t) => t.name.startsWith('rallypoint_'))) {
      assert.equal(name.endsWith('_total'), type === 'counter', `${name} is a ${type}: only counters end in _total`);
    }
    for (const standard of [
      'process_cpu_user_seconds_total',
      'process_resident_memory_bytes',
      'nodejs_eventloop_lag_seconds',
      'nodejs_heap_size_used_bytes',
    ]) {
      assert.ok(
        types.some((t) => t.name === standard),
        `${standard} keeps its standard name`,
      );
    }
    const readme = await readFile('README.md', 'utf8');
    for (const { name } of types.filter((t) => t.name.startsWith('rallypoint_'))) {
      assert.ok(readme.includes(`\`${name}\``), `README.md lists ${name}`);
    }
    assert.ok(readme.includes('process_') && readme.includes('nodejs_'), 'README.md mentions the standard series');
  });
});
