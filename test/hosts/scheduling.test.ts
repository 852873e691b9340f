/**
 * Scheduling on the fleet's hosts through the public routes: nearest host with room, the next
 * nearest when it is full, packing within a location, location filters, a version too big for
 * every host, and capacity and ports given back after a stop.
 */
import assert from 'node:assert/strict';
import { beforeEach, describe, it } from '../support/node-test.js';
import { markHostUnreachable } from '../../src/app/hosts.js';
import { insertHost, selectHostByName } from '../../src/db/queries/hosts.js';
import type { PlaceRecord } from '../../src/domain/records.js';
import { FRANKFURT, MONTREAL, TOKYO, seedVersion, useTestService, type TestService } from '../support/harness.js';
import { createRecordingHostProvider } from '../support/host-provider.js';

type Site = typeof MONTREAL;
const placeOf = (site: Site): PlaceRecord => ({
  city: site.city,
  country: site.country,
  continent: site.continent,
  administrativeDivision: site.administrative_division,
  region: '',
  timezone: site.timezone,
  latitude: site.latitude,
  longitude: site.longitude,
});
const near = (site: Site) => ({
  geo_ip_list: [{ ip: '198.51.100.7', latitude: site.latitude + 0.1, longitude: site.longitude + 0.1 }],
});

async function addHost(
  t: TestService,
  name: string,
  site: Site,
  size: { cpu?: number; memory?: number; ports?: [number, number] } = {},
) {
  const [portMin, portMax] = size.ports ?? [30000, 30099];
  const host = await insertHost(t.service.deps.db, {
    name,
    endpoint: { kind: 'socket', path: `/run/${name}.sock` },
    publicIp: `203.0.113.${10 + (name.length % 200)}`,
    place: placeOf(site),
    cpuUnits: size.cpu ?? 1024,
    memoryMb: size.memory ?? 1024,
    portMin,
    portMax,
    tags: [],
    now: new Date(),
  });
  assert.ok(host, `host ${name}`);
  return host;
}

const GAME_PORTS = {
  ports: [
    { port: 7777, protocol: 'UDP', name: 'game' },
    { port: 7778, protocol: 'TCP', name: 'admin' },
  ],
};

describe('scheduling on hosts', { timeout: 120_000 }, () => {
  const provider = createRecordingHostProvider();
  const { t, call } = useTestService({ providers: [provider] });

  beforeEach(async () => {
    await t.service.deps.db.query('DELETE FROM hosts');
  });

  async function deployNear(app: string, site: Site, extra: Record<string, unknown> = {}) {
    return call('POST', '/v1/deploy', { app_name: app, version_name: 'v1', ...near(site), ...extra });
  }
  async function statusOf(requestId: string) {
    const status = await call('GET', `/v1/status/${requestId}`);
    assert.equal(status.status, 200, JSON.stringify(status.body));
    return status.body;
  }

  it('places players on the nearer of two hosts, with host ports bound to the version ports', async () => {
    await addHost(t, 'mtl-1', MONTREAL, { ports: [30000, 30009] });
    const fra = await addHost(t, 'fra-1', FRANKFURT, { ports: [31000, 31009] });
    const { app } = await seedVersion(call, { extra: GAME_PORTS });

    const deployed = await deployNear(app, FRANKFURT);
    assert.equal(deployed.status, 200, JSON.stringify(deployed.body));
    const status = await statusOf(deployed.body.request_id);
    assert.equal(status.location.city, 'Frankfurt');
    assert.equal(status.public_ip, fra.publicIp);
    assert.equal(status.provider, 'hosted');
    assert.deepEqual(
      Object.values(status.ports)
        .map((p: any) => [p.name, p.internal, p.external, p.protocol])
        .sort(),
      [
        ['admin', 7778, 31001, 'TCP'],
        ['game', 7777, 31000, 'UDP'],
      ],
    );
    await t.service.jobs.runDue();
    const started = provider.started.find((d) => d.requestId === deployed.body.request_id);
    assert.equal(started?.hostId, fra.id, 'the provider is asked to start it on the host chosen');
    assert.equal(started?.ports['game']?.external, 31000);

    const fromMontreal = await deployNear(app, MONTREAL);
    assert.equal((await statusOf(fromMontreal.body.request_id)).location.city, 'Montreal');
    const fraNow = (await selectHostByName(t.service.deps.db, 'fra-1'))!;
    assert.deepEqual([fraNow.usedCpuUnits, fraNow.usedMemoryMb, fraNow.usedPorts], [256, 256, 2]);
  });

  it('sends the next deployment to the next nearest host when the nearest is full', async () => {
    await addHost(t, 'fra-small', FRANKFURT, { cpu: 512 });
    await addHost(t, 'mtl-2', MONTREAL);
    await addHost(t, 'tyo-1', TOKYO);
    const { app } = await seedVersion(call);
    const cities = [];
    for (let i = 0; i < 3; i += 1) {
      const deployed = await deployNear(app, FRANKFURT);
      assert.equal(deployed.status, 200, JSON.stringify(deployed.body));
      cities.push((await statusOf(deployed.body.request_id)).location.city);
    }
    // Frankfurt to Montreal is about 5,900 km, to Tokyo about 9,300 km.
    assert.deepEqual(cities, ['Frankfurt', 'Frankfurt', 'Montreal']);
  });

  it("packs a location's hosts: the fullest host that fits first", async () => {
    await addHost(t, 'mtl-a', MONTREAL);
    await addHost(t, 'mtl-b', MONTREAL);
    const { app } = await seedVersion(call);
    const hosts: string[] = [];
    for (let i = 0; i < 5; i += 1) {
      const deployed = await deployNear(app, MONTREAL);
      assert.equal(deployed.status, 200, JSON.stringify(deployed.body));
      const { rows } = await t.service.deps.db.query<{ name: string }>(
        'SELECT h.name FROM deployments d JOIN hosts h ON h.id = d.host_id WHERE d.request_id = $1',
        [deployed.body.request_id],
      );
      hosts.push(rows[0]!.name);
    }
    assert.deepEqual(hosts, ['mtl-a', 'mtl-a', 'mtl-a', 'mtl-a', 'mtl-b']);
  });

  it('honours location filters and skips hosts that are not active', async () => {
    await addHost(t, 'mtl-3', MONTREAL);
    await addHost(t, 'fra-2', FRANKFURT);
    const tokyo = await addHost(t, 'tyo-2', TOKYO);
    await t.service.deps.db.query("UPDATE hosts SET state = 'draining' WHERE id = $1", [tokyo.id]);
    const { app } = await seedVersion(call);

    const filtered = await deployNear(app, MONTREAL, {
      filters: [{ field: 'country', filter_type: 'any', values: ['Germany'] }],
    });
    assert.equal(filtered.status, 200, JSON.stringify(filtered.body));
    assert.equal((await statusOf(filtered.body.request_id)).location.city, 'Frankfurt');

    const nowhere = await deployNear(app, TOKYO, { country: 'Japan' });
    assert.equal(nowhere.status, 422, JSON.stringify(nowhere.body));
    assert.equal(nowhere.body.code, 'NO_HOST_FITS');
    assert.match(nowhere.body.message, /no active host is within the location filters/);
    assert.match(nowhere.body.message, /tyo-2 is not active/);
  });

  it('answers a version too big for every host with the reason: 422 on deploy, Unprocessable session', async () => {
    await addHost(t, 'mtl-4', MONTREAL);
    await addHost(t, 'fra-3', FRANKFURT);
    const { app } = await seedVersion(call, {
      kind: 'Match',
      sockets: 2,
      autodeploy: true,
      extra: { req_cpu: 4096, req_memory: 512 },
    });

    const deployed = await deployNear(app, MONTREAL);
    assert.equal(deployed.status, 422, JSON.stringify(deployed.body));
    assert.equal(deployed.body.code, 'NO_HOST_FITS');
    assert.match(deployed.body.message, /too big for every host/);
    assert.match(deployed.body.message, /4096 cpu units, 512 MB/);

    const session = await call('POST', '/v1/session', { app_name: app, version_name: 'v1', ...near(MONTREAL) });
    assert.equal(session.status, 200, JSON.stringify(session.body));
    const got = await call('GET', `/v1/session/${session.body.session_id}`);
    assert.equal(got.body.status, 'Unprocessable');
    assert.match(got.body.error, /too big for every host/);
  });

  it("says when every host's port range is exhausted", async () => {
    await addHost(t, 'mtl-5', MONTREAL, { ports: [30000, 30002] });
    const { app } = await seedVersion(call, { extra: GAME_PORTS });
    assert.equal((await deployNear(app, MONTREAL)).status, 200);
    const refused = await deployNear(app, MONTREAL);
    assert.equal(refused.status, 422, JSON.stringify(refused.body));
    assert.match(refused.body.message, /port range is exhausted/);
  });

  it('autodeploys a session on the nearest host', async () => {
    await addHost(t, 'mtl-6', MONTREAL);
    await addHost(t, 'tyo-3', TOKYO);
    const { app } = await seedVersion(call, { kind: 'Seat', sockets: 4, autodeploy: true });
    const session = await call('POST', '/v1/session', { app_name: app, version_name: 'v1', ...near(TOKYO) });
    assert.equal(session.status, 200, JSON.stringify(session.body));
    assert.ok(session.body.deployment_request_id);
    assert.equal((await statusOf(session.body.deployment_request_id)).location.city, 'Tokyo');
  });

  it('gives capacity and ports back once the provider stopped the deployment, stopped or failed', async () => {
    const host = await addHost(t, 'mtl-7', MONTREAL, { cpu: 512, ports: [30000, 30003] });
    const { app } = await seedVersion(call, { extra: GAME_PORTS });
    const first = await deployNear(app, MONTREAL);
    const second = await deployNear(app, MONTREAL);
    assert.deepEqual([first.status, second.status], [200, 200]);
    assert.equal((await deployNear(app, MONTREAL)).status, 422, 'full');
    await t.service.jobs.runDue();

    const stopped = await call('DELETE', `/v1/stop/${first.body.request_id}`);
    assert.ok([200, 202].includes(stopped.status), JSON.stringify(stopped.body));
    let now = (await selectHostByName(t.service.deps.db, 'mtl-7'))!;
    assert.equal(now.usedCpuUnits, 512, 'held until the provider has stopped it');
    await t.service.jobs.runDue();
    assert.ok(provider.stopped.some((d) => d.requestId === first.body.request_id));
    now = (await selectHostByName(t.service.deps.db, 'mtl-7'))!;
    assert.deepEqual([now.usedCpuUnits, now.usedMemoryMb, now.usedPorts], [256, 256, 2]);

    await markHostUnreachable(t.service.deps, host.id, 'test');
    await t.service.jobs.runDue();
    now = (await selectHostByName(t.service.deps.db, 'mtl-7'))!;
    assert.deepEqual([now.usedCpuUnits, now.usedMemoryMb, now.usedPorts], [0, 0, 0]);
    const { rows } = await t.service.deps.db.query('SELECT 1 FROM host_ports WHERE host_id = $1', [host.id]);
    assert.equal(rows.length, 0);
  });
});
