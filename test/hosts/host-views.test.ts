/**
 * What operators see of the hosts: their places in GET /v1/locations, the dashboard's hosts panel
 * (operator organisation only) with used/total capacity and deployments, and /metrics gauges.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from '../support/node-test.js';
import { createOrganisation } from '../../src/app/keys.js';
import { client, FRANKFURT, TOKYO, seedVersion, useTestService } from '../support/harness.js';
import { createRecordingHostProvider } from '../support/host-provider.js';
import { launchChromium } from '../support/browser.js';

const hostBody = (name: string, site: typeof FRANKFURT, state?: 'drain') => ({
  body: {
    name,
    endpoint: { kind: 'socket', path: '/run/podman/podman.sock' },
    public_ip: '203.0.113.5',
    location: {
      city: site.city,
      country: site.country,
      continent: site.continent,
      latitude: site.latitude,
      longitude: site.longitude,
    },
    cpu_units: 1024,
    memory_mb: 2048,
    port_min: 30000,
    port_max: 30009,
  },
  state,
});

describe('hosts seen by operators', { timeout: 120_000 }, () => {
  const { t, call } = useTestService({
    providers: [createRecordingHostProvider()],
    env: { METRICS_TOKEN: 'host-metrics-token' },
  });
  let other: ReturnType<typeof client>;
  let myDeployment: string;

  before(async () => {
    other = client(t.url, (await createOrganisation(t.service.deps, 'another studio')).key);
    for (const { body, state } of [hostBody('fra-1', FRANKFURT), hostBody('tyo-1', TOKYO, 'drain')]) {
      assert.equal((await call('POST', '/v1/hosts', body)).status, 200);
      if (state) assert.equal((await call('POST', `/v1/hosts/${body.name}/drain`)).status, 200);
    }
    const { app } = await seedVersion(call, { extra: { ports: [{ port: 7777, protocol: 'UDP', name: 'game' }] } });
    const theirs = await seedVersion(other);
    const where = {
      geo_ip_list: [{ ip: '198.51.100.1', latitude: FRANKFURT.latitude, longitude: FRANKFURT.longitude }],
    };
    const deployed = await call('POST', '/v1/deploy', { app_name: app, version_name: 'v1', ...where });
    assert.equal(deployed.status, 200, JSON.stringify(deployed.body));
    myDeployment = deployed.body.request_id;
    assert.equal(
      (await other('POST', '/v1/deploy', { app_name: theirs.app, version_name: 'v1', ...where })).status,
      200,
    );
  });

  it("lists the active hosts' places as locations, for every organisation", async () => {
    for (const caller of [call, other]) {
      const listed = await caller('GET', '/v1/locations');
      assert.equal(listed.status, 200, JSON.stringify(listed.body));
      const cities = listed.body.locations.map((l: { city: string }) => l.city);
      assert.ok(cities.includes('Frankfurt'), JSON.stringify(cities));
      assert.ok(!cities.includes('Tokyo'), 'a draining host takes no deployments, so it is not offered');
    }
  });

  it("shows the operator each host's used/total capacity and deployments; other organisations see no hosts", async () => {
    const state = await call('GET', '/v1/dashboard/state');
    assert.equal(state.status, 200);
    const fra = state.body.hosts.find((h: { name: string }) => h.name === 'fra-1');
    assert.deepEqual(
      [
        fra.state,
        fra.cpu_units,
        fra.used_cpu_units,
        fra.memory_mb,
        fra.used_memory_mb,
        fra.ports,
        fra.used_ports,
        fra.deployment_count,
      ],
      ['active', 1024, 512, 2048, 512, 10, 1, 2],
    );
    assert.equal(
      state.body.deployments.find((d: { request_id: string }) => d.request_id === myDeployment).host,
      'fra-1',
    );
    assert.equal(state.body.hosts.find((h: { name: string }) => h.name === 'tyo-1').state, 'draining');

    const theirs = await other('GET', '/v1/dashboard/state');
    assert.deepEqual(theirs.body.hosts, []);
    assert.ok(!JSON.stringify(theirs.body).includes(myDeployment));
    const panel = await fetch(`${t.url}/dashboard/hosts-panel.js`);
    assert.equal(panel.status, 200);
    assert.match(await panel.text(), /export function renderHosts/);
  });

  it('exports host capacity gauges by host, none named _total', async () => {
    const text = await (
      await fetch(`${t.url}/metrics`, { headers: { authorization: 'Bearer host-metrics-token' } })
    ).text();
    const value = (series: string) =>
      Number(new RegExp(`^${series.replace(/[{}"]/g, '\\$&')} (\\S+)$`, 'm').exec(text)?.[1]);
    assert.equal(value('rallypoint_host_cpu_units_capacity{host="fra-1"}'), 1024);
    assert.equal(value('rallypoint_host_cpu_units_used{host="fra-1"}'), 512);
    assert.equal(value('rallypoint_host_memory_capacity_bytes{host="fra-1"}'), 2048 * 1024 * 1024);
    assert.equal(value('rallypoint_host_memory_used_bytes{host="fra-1"}'), 512 * 1024 * 1024);
    assert.equal(value('rallypoint_host_ports_capacity{host="fra-1"}'), 10);
    assert.equal(value('rallypoint_host_ports_used{host="fra-1"}'), 1);
    assert.equal(value('rallypoint_host_state{host="tyo-1",state="draining"}'), 1);
    assert.equal(value('rallypoint_host_state{host="tyo-1",state="active"}'), 0);
    assert.doesNotMatch(text, /^rallypoint_host_\w*_total/m);
  });

  it('draws the hosts panel with used/total capacity in the dashboard', async () => {
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      await page.goto(`${t.url}/dashboard`);
      await page.getByLabel('API key').fill(t.key);
      await page.getByRole('button', { name: 'Sign in' }).click();
      const row = page.locator('#hosts tr', { hasText: 'fra-1' });
      await row.waitFor({ timeout: 30_000 });
      const text = await row.innerText();
      assert.match(text, /active/);
      assert.match(text, /512\/1024/, 'CPU units used/total');
      assert.match(text, new RegExp(myDeployment), "the operator's own deployment on it");
      assert.match(text, /1 of other organisations/);
      assert.equal(await page.getByRole('meter', { name: '1 of 10 ports used' }).count(), 1);
    } finally {
      await browser.close();
    }
  });
});
