import { after, before, describe, it } from '../support/node-test.js';
import assert from 'node:assert/strict';
import { updateDeploymentStatus } from '../../src/db/queries/deployments.js';
import { DeploymentStatus } from '../../src/domain/session-rules.js';
import { client, registerServer, seedVersion, startTestService, type TestService } from '../support/harness.js';
import {
  FRANKFURT,
  IP_FRANKFURT,
  IP_MONTREAL,
  IP_MOUNTAIN_VIEW,
  IP_TOKYO,
  LONDON,
  MONTREAL,
  OSAKA,
  PARIS,
  SAN_JOSE,
  SYDNEY,
  TOKYO,
  TORONTO,
} from './cities.js';

/** Placement by where the players are: location, else geo_ip_list, else ip_list through DB-IP. */
describe('placement: nearest deployment', () => {
  let t: TestService;
  let call: ReturnType<typeof client>;
  before(async () => {
    t = await startTestService();
    call = client(t.url, t.key);
    // The IP fixtures depend on the shipped DB-IP file; say so plainly if a new release moves them.
    const geo = t.service.deps.geo;
    assert.equal(geo.placeOf?.(IP_MOUNTAIN_VIEW)?.city, 'Mountain View');
    assert.equal(geo.placeOf?.(IP_TOKYO)?.administrativeDivision, 'Tokyo');
    assert.equal(geo.placeOf?.(IP_FRANKFURT)?.city, 'Frankfurt am Main');
    assert.match(geo.placeOf?.(IP_MONTREAL)?.city ?? '', /^Montreal/);
  });
  after(() => t.close());

  /** A version with one registered server per place; returns the request ids by city. */
  async function fleet(places: Array<typeof MONTREAL>, sockets = 10) {
    const { app, version } = await seedVersion(call, { sockets });
    const ids: Record<string, string> = {};
    for (const location of places) ids[location.city] = await registerServer(call, { app, version, location, sockets });
    return { app, version, ids };
  }

  async function placed(body: Record<string, unknown>): Promise<string> {
    const created = await call('POST', '/v1/session', body);
    assert.equal(created.status, 200, JSON.stringify(created.body));
    const got = await call('GET', `/v1/session/${created.body.session_id}`);
    assert.equal(got.body.status, 'Ready', JSON.stringify(got.body));
    assert.equal(got.body.deployment.request_id, created.body.deployment_request_id);
    return created.body.deployment_request_id;
  }

  it('by location: the nearest city wins, whatever the order of registration', async () => {
    const { app, ids } = await fleet([TOKYO, MONTREAL, SYDNEY, FRANKFURT, SAN_JOSE]);
    assert.equal(await placed({ app_name: app, ip_list: ['1.2.3.4'], location: PARIS }), ids['Frankfurt']);
    assert.equal(await placed({ app_name: app, ip_list: ['1.2.3.4'], location: OSAKA }), ids['Tokyo']);
    assert.equal(await placed({ app_name: app, ip_list: ['1.2.3.4'], location: TORONTO }), ids['Montreal']);
    assert.equal(
      await placed({ app_name: app, ip_list: ['1.2.3.4'], location: { latitude: -37.8, longitude: 144.9 } }),
      ids['Sydney'],
    );
  });

  it('by geo_ip_list: the centre of the given coordinates', async () => {
    const { app, ids } = await fleet([TOKYO, MONTREAL, FRANKFURT]);
    const body = {
      app_name: app,
      geo_ip_list: [
        { ip: '10.0.0.1', ...OSAKA },
        { ip: '10.0.0.2', latitude: 35.0, longitude: 136.9 },
      ],
    };
    assert.equal(await placed(body), ids['Tokyo']);
  });

  it('by ip_list: DB-IP positions of real public addresses', async () => {
    const { app, ids } = await fleet([TOKYO, MONTREAL, FRANKFURT, SAN_JOSE]);
    assert.equal(await placed({ app_name: app, ip_list: [IP_MOUNTAIN_VIEW] }), ids['San Jose']);
    assert.equal(await placed({ app_name: app, ip_list: [IP_TOKYO] }), ids['Tokyo']);
    assert.equal(await placed({ app_name: app, ip_list: [IP_FRANKFURT] }), ids['Frankfurt']);
    assert.equal(await placed({ app_name: app, ip_list: [IP_MONTREAL, '192.168.1.20'] }), ids['Montreal']);
  });

  it('location outranks geo_ip_list, which outranks ip_list', async () => {
    const { app, ids } = await fleet([TOKYO, MONTREAL, FRANKFURT]);
    assert.equal(
      await placed({
        app_name: app,
        ip_list: [IP_TOKYO],
        geo_ip_list: [{ ip: '10.1.1.1', ...TORONTO }],
        location: PARIS,
      }),
      ids['Frankfurt'],
    );
    assert.equal(
      await placed({ app_name: app, ip_list: [IP_TOKYO], geo_ip_list: [{ ip: '10.1.1.1', ...TORONTO }] }),
      ids['Montreal'],
    );
  });

  it('a ready deployment beats a nearer one still deploying', async () => {
    const { app, ids } = await fleet([FRANKFURT, LONDON, TOKYO]);
    const db = t.service.deps.db;
    for (const requestId of [ids['Frankfurt'], ids['London']]) {
      const { rows } = await db.query<{ id: number }>('SELECT id FROM deployments WHERE request_id = $1', [requestId]);
      await updateDeploymentStatus(db, { id: rows[0]!.id, status: DeploymentStatus.deploying, now: new Date() });
    }
    assert.equal(await placed({ app_name: app, ip_list: ['1.2.3.4'], location: PARIS }), ids['Tokyo']);
    // With no ready deployment with room left, the nearest deploying one is next (London, then Frankfurt).
    await call('PATCH', `/v1/deployments/${ids['Tokyo']}`, { is_joinable_by_session: false });
    const second = await call('POST', '/v1/session', { app_name: app, ip_list: ['1.2.3.4'], location: PARIS });
    assert.equal(second.body.deployment_request_id, ids['London']);
    const got = await call('GET', `/v1/session/${second.body.session_id}`);
    assert.equal(got.body.status, 'Waiting');
    assert.equal(got.body.ready, false);
  });

  it('skips the nearest deployment when it lacks room for every user (Seat)', async () => {
    const { app, ids } = await fleet([FRANKFURT, MONTREAL], 3);
    assert.equal(await placed({ app_name: app, ip_list: ['1.1.1.1', '1.1.1.2'], location: PARIS }), ids['Frankfurt']);
    assert.equal(await placed({ app_name: app, ip_list: ['1.1.1.3', '1.1.1.4'], location: PARIS }), ids['Montreal']);
    assert.equal(await placed({ app_name: app, ip_list: ['1.1.1.5'], location: PARIS }), ids['Frankfurt']);
  });

  it('ties at one place break fullest first, then oldest', async () => {
    const { app, version } = await seedVersion(call, { sockets: 10 });
    const older = await registerServer(call, { app, version, location: FRANKFURT, sockets: 10 });
    const fuller = await registerServer(call, { app, version, location: FRANKFURT, sockets: 10 });
    const far = await registerServer(call, { app, version, location: TOKYO, sockets: 10 });
    for (const ip of ['1.0.0.1', '1.0.0.2', '1.0.0.3'])
      await call('POST', '/v1/session', { app_name: app, ip_list: [ip], deployment_request_id: fuller });
    for (const ip of ['1.0.0.4', '1.0.0.5', '1.0.0.6', '1.0.0.7', '1.0.0.8'])
      await call('POST', '/v1/session', { app_name: app, ip_list: [ip], deployment_request_id: far });
    assert.equal(await placed({ app_name: app, ip_list: ['2.0.0.1'], location: PARIS }), fuller);
    const status = await call('GET', `/v1/status/${older}`);
    assert.equal(status.body.sockets_usage, 0);
    // Equal usage at the same place: the oldest registration.
    const { app: app2, version: version2 } = await seedVersion(call, { sockets: 10 });
    const first = await registerServer(call, { app: app2, version: version2, location: FRANKFURT });
    await registerServer(call, { app: app2, version: version2, location: FRANKFURT });
    assert.equal(await placed({ app_name: app2, ip_list: ['2.0.0.2'], location: PARIS }), first);
  });

  it('coordinates a hair apart never break the distance maths (PostgreSQL underflows; JS does not)', async () => {
    const equator = { ...FRANKFURT, city: 'Null Island', latitude: 0, longitude: 0 };
    const { app, ids } = await fleet([equator, TOKYO]);
    assert.equal(
      await placed({ app_name: app, ip_list: ['1.2.3.4'], location: { latitude: 1e-300, longitude: -5e-324 } }),
      ids['Null Island'],
    );
    assert.equal(
      await placed({ app_name: app, geo_ip_list: [{ ip: '10.0.0.1', latitude: 5e-324, longitude: 1e-310 }] }),
      ids['Null Island'],
    );
  });

  it('players with no position (private, loopback, link-local IPs) go to the fullest deployment anywhere', async () => {
    const { app, ids } = await fleet([FRANKFURT, TOKYO, MONTREAL]);
    for (const ip of ['1.0.0.1', '1.0.0.2'])
      await call('POST', '/v1/session', { app_name: app, ip_list: [ip], deployment_request_id: ids['Tokyo'] });
    await call('POST', '/v1/session', { app_name: app, ip_list: ['1.0.0.3'], deployment_request_id: ids['Montreal'] });
    assert.equal(
      await placed({ app_name: app, ip_list: ['10.0.0.1', '127.0.0.1', '169.254.3.4', '::1', 'fe80::1'] }),
      ids['Tokyo'],
    );
    assert.equal(await placed({ app_name: app, ip_list: ['192.168.0.9'] }), ids['Tokyo']);
  });
});
