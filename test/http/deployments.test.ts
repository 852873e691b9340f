/**
 * docs/wire-contract.md#deployments: deployments on the wire — register (ext), status, list,
 * joinable, stop, bulk stop, deploy.
 */
import { after, before, describe, it } from '../support/node-test.js';
import assert from 'node:assert/strict';
import type { Provider } from '../../src/providers/provider.js';
import {
  client,
  FakeClock,
  FRANKFURT,
  MONTREAL,
  registerServer,
  seedVersion,
  startTestService,
  TOKYO,
  type TestService,
} from '../support/harness.js';
import { expectError, expectOk, newTenant, REQUEST_ID, TIMESTAMP } from './wire-shapes.js';

describe('deployments', () => {
  let t: TestService;
  let call: ReturnType<typeof client>;
  const clock = new FakeClock(new Date('2026-05-06T07:08:09.010Z'));
  before(async () => {
    t = await startTestService({ clock });
    call = client(t.url, t.key);
  });
  after(() => t.close());

  it('register (ext) answers a READY Status with all seven location fields', async () => {
    const { app, version } = await seedVersion(call, { sockets: 7 });
    const r = await call('POST', '/v1/deployments/register', {
      app_name: app,
      version_name: version,
      public_ip: '198.51.100.7',
      fqdn: 'eu.example.com',
      tags: ['eu'],
      ports: [
        { name: 'game', external: 30000, internal: 7777, protocol: 'UDP' },
        { name: 'web', external: 30001, protocol: 'TCP' },
      ],
      location: FRANKFURT,
    });
    expectOk(r, 'Status');
    const b = r.body;
    assert.match(b.request_id, REQUEST_ID);
    assert.equal(b.current_status, 'Status.READY');
    assert.equal(b.running, true);
    assert.equal(b.error, false);
    assert.equal(b.app_name, app);
    assert.equal(b.app_version, version);
    assert.equal(b.public_ip, '198.51.100.7');
    assert.equal(b.fqdn, 'eu.example.com');
    assert.equal(b.start_time, '2026-05-06 07:08:09.010000');
    assert.equal(b.elapsed_time, 0);
    assert.deepEqual(b.location, FRANKFURT);
    assert.deepEqual(b.tags, ['eu']);
    assert.equal(b.sockets, 7);
    assert.equal(b.sockets_usage, 0);
    assert.equal(b.is_joinable_by_session, true);
    assert.deepEqual(b.ports.game, {
      external: 30000,
      internal: 7777,
      protocol: 'UDP',
      name: 'game',
      tls_upgrade: false,
      link: 'eu.example.com:30000',
    });
    assert.equal(b.ports.web.internal, 30001);
  });

  it('register refuses an unknown app/version (400) and duplicate port names (400)', async () => {
    const { app, version } = await seedVersion(call);
    const base = { app_name: app, version_name: version, public_ip: '198.51.100.7', ports: [], location: MONTREAL };
    expectError(await call('POST', '/v1/deployments/register', { ...base, app_name: 'nope' }), 400, 'UNKNOWN_APP');
    expectError(
      await call('POST', '/v1/deployments/register', { ...base, version_name: 'nope' }),
      400,
      'UNKNOWN_VERSION',
    );
    const dup = [
      { name: 'a', external: 1, protocol: 'UDP' },
      { name: 'a', external: 2, protocol: 'UDP' },
    ];
    expectError(await call('POST', '/v1/deployments/register', { ...base, ports: dup }), 400, 'VALIDATION_FAILED');
    expectError(
      await call('POST', '/v1/deployments/register', { ...base, location: { city: 'x' } }),
      400,
      'VALIDATION_FAILED',
    );
  });

  it('GET /v1/status lists the sessions and counts the elapsed time', async () => {
    const { app, version } = await seedVersion(call, { sockets: 5 });
    const requestId = await registerServer(call, { app, version, location: TOKYO });
    const s = (await call('POST', '/v1/session', { app_name: app, ip_list: ['1.1.1.1', '2.2.2.2'] })).body.session_id;
    clock.advance(61_500);
    const status = await call('GET', `/v1/status/${requestId}`);
    expectOk(status, 'Status');
    assert.equal(status.body.elapsed_time, 61);
    assert.equal(status.body.sockets_usage, 2);
    assert.deepEqual(status.body.sessions, [
      { session_id: s, status: 'Ready', ready: true, linked: true, kind: 'Seat', user_count: 2 },
    ]);
    assert.equal('removal_time' in status.body, false);
    expectError(await call('GET', '/v1/status/000000000000'), 404, 'DEPLOYMENT_NOT_FOUND');
  });

  it('GET /v1/deployments pages the live deployments, newest first', async () => {
    const tenant = await newTenant(t);
    const { app, version } = await seedVersion(tenant);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      clock.advance(1000);
      ids.push(await registerServer(tenant, { app, version, tags: [`n${i}`] }));
    }
    const all = await tenant('GET', '/v1/deployments');
    expectOk(all, 'Deployments');
    assert.equal(all.body.total_count, 3);
    assert.deepEqual(
      all.body.data.map((d: { request_id: string }) => d.request_id),
      [...ids].reverse(),
    );
    const d0 = all.body.data[0];
    assert.equal(d0.ready, true);
    assert.match(d0.start_time, TIMESTAMP);
    assert.equal(d0.sockets, 10);
    assert.deepEqual(d0.tags, ['n2']);

    const page2 = await tenant('GET', '/v1/deployments?page=2&limit=2');
    expectOk(page2, 'Deployments');
    assert.deepEqual(
      page2.body.data.map((d: { request_id: string }) => d.request_id),
      [ids[0]],
    );
    assert.deepEqual(page2.body.pagination, {
      number: 2,
      next_page_number: null,
      previous_page_number: 1,
      paginator: { num_pages: 2 },
      has_next: false,
      has_previous: true,
    });

    await tenant('DELETE', `/v1/stop/${ids[1]}`);
    const live = await tenant('GET', '/v1/deployments');
    assert.equal(live.body.total_count, 2);
    assert.deepEqual(
      live.body.data.map((d: { request_id: string }) => d.request_id),
      [ids[2], ids[0]],
    );
  });

  it('PATCH is_joinable_by_session=false removes it from placement; sessions on it stay', async () => {
    const { app, version } = await seedVersion(call, { sockets: 5 });
    const requestId = await registerServer(call, { app, version });
    const before = (await call('POST', '/v1/session', { app_name: app, ip_list: ['1.1.1.1'] })).body.session_id;
    const patched = await call('PATCH', `/v1/deployments/${requestId}`, { is_joinable_by_session: false });
    expectOk(patched, 'DeploymentUpdateResponse');
    assert.deepEqual(patched.body, { is_joinable_by_session: false });
    assert.equal((await call('GET', `/v1/status/${requestId}`)).body.is_joinable_by_session, false);

    const refused = await call('POST', '/v1/session', { app_name: app, ip_list: ['2.2.2.2'] });
    assert.equal(refused.body.deployment_request_id, undefined);
    assert.equal((await call('GET', `/v1/session/${refused.body.session_id}`)).body.status, 'Unprocessable');
    const stays = await call('GET', `/v1/session/${before}`);
    assert.equal(stays.body.status, 'Ready');
    assert.equal(stays.body.deployment.is_joinable_by_session, false);

    assert.deepEqual((await call('PATCH', `/v1/deployments/${requestId}`, { is_joinable_by_session: true })).body, {
      is_joinable_by_session: true,
    });
    const placed = await call('POST', '/v1/session', { app_name: app, ip_list: ['3.3.3.3'] });
    assert.equal(placed.body.deployment_request_id, requestId);
  });

  it('PATCH refuses extra properties and wrong types with 400, unknown deployments with 404', async () => {
    const { app, version } = await seedVersion(call);
    const requestId = await registerServer(call, { app, version });
    expectError(
      await call('PATCH', `/v1/deployments/${requestId}`, { is_joinable_by_session: false, sockets: 3 }),
      400,
      'VALIDATION_FAILED',
    );
    expectError(
      await call('PATCH', `/v1/deployments/${requestId}`, { is_joinable_by_session: 'no' }),
      400,
      'VALIDATION_FAILED',
    );
    assert.equal((await call('GET', `/v1/status/${requestId}`)).body.is_joinable_by_session, true);
    expectError(
      await call('PATCH', '/v1/deployments/000000000000', { is_joinable_by_session: false }),
      404,
      'DEPLOYMENT_NOT_FOUND',
    );
  });

  it('DELETE /v1/stop answers 200 then 410; its sessions turn Error, ready=false, and stay readable', async () => {
    const { app, version } = await seedVersion(call, { sockets: 5 });
    const requestId = await registerServer(call, { app, version });
    const s = (await call('POST', '/v1/session', { app_name: app, ip_list: ['1.1.1.1', '2.2.2.2'] })).body.session_id;
    clock.advance(5000);
    const stopped = await call('DELETE', `/v1/stop/${requestId}`);
    expectOk(stopped, 'Delete');
    assert.match(stopped.body.message, new RegExp(requestId));
    assert.equal(stopped.body.deployment_summary.request_id, requestId);
    assert.equal(stopped.body.deployment_summary.current_status, 'Status.TERMINATING');
    assert.match(stopped.body.deployment_summary.removal_time, TIMESTAMP);
    expectError(await call('DELETE', `/v1/stop/${requestId}`), 410, 'ALREADY_TERMINATING');
    expectError(await call('DELETE', '/v1/stop/000000000000'), 404, 'DEPLOYMENT_NOT_FOUND');

    const got = await call('GET', `/v1/session/${s}`);
    expectOk(got, 'SessionGet');
    assert.equal(got.body.status, 'Error');
    assert.equal(got.body.ready, false);
    assert.equal(typeof got.body.error, 'string');
    assert.equal(got.body.user_count, 2);

    await t.service.jobs.runDue();
    const status = await call('GET', `/v1/status/${requestId}`);
    expectOk(status, 'Status');
    assert.equal(status.body.current_status, 'Status.TERMINATED');
    assert.equal(status.body.sockets_usage, 0);
    assert.equal((await call('GET', `/v1/session/${s}`)).status, 200);
    expectError(await call('DELETE', `/v1/stop/${requestId}`), 410);
  });

  it('POST /v1/deployments/bulk-stop by request_id and deployment_tags', async () => {
    const tenant = await newTenant(t);
    const { app, version } = await seedVersion(tenant);
    const a = await registerServer(tenant, { app, version, tags: ['eu', 'ranked'] });
    const b = await registerServer(tenant, { app, version, tags: ['us', 'ranked'] });
    const c = await registerServer(tenant, { app, version, tags: ['us'] });
    const d = await registerServer(tenant, { app, version, tags: ['asia'] });
    const bulk = (filters: unknown) => tenant('POST', '/v1/deployments/bulk-stop', { filters });
    const ids = (body: { processable: Array<{ request_id: string }> }) =>
      body.processable.map((p) => p.request_id).sort();

    const byId = await bulk([{ field: 'request_id', filter_type: 'any', values: [a, '000000000000'] }]);
    expectOk(byId, 'DeploymentBulkStopResponse');
    assert.deepEqual(ids(byId.body), [a]);
    const byTags = await bulk([{ field: 'deployment_tags', filter_type: 'all', values: ['us', 'ranked'] }]);
    assert.deepEqual(ids(byTags.body), [b]);
    const anded = await bulk([
      { field: 'deployment_tags', filter_type: 'any', values: ['us', 'asia'] },
      { field: 'request_id', filter_type: 'not', values: [d] },
    ]);
    assert.deepEqual(ids(anded.body), [c]);
    assert.deepEqual((await bulk([{ field: 'request_id', filter_type: 'any', values: [a] }])).body, {
      processable: [],
    });
    expectError(await bulk([]), 400, 'VALIDATION_FAILED');
    assert.equal((await tenant('GET', '/v1/deployments')).body.total_count, 1);
  });

  it('POST /v1/deploy with no deploy-capable provider answers 422 with a clear message', async () => {
    const { app, version } = await seedVersion(call);
    const r = await call('POST', '/v1/deploy', { app_name: app, version_name: version, ip_list: ['1.2.3.4'] });
    assert.match(expectError(r, 422, 'NO_PROVIDER'), /provider/i);
    expectError(await call('POST', '/v1/deploy', { app_name: 'nope' }), 400, 'UNKNOWN_APP');
    expectError(await call('POST', '/v1/deploy', { app_name: app, ip_list: ['x.y'] }), 400, 'VALIDATION_FAILED');
  });
});

describe('deployments through a provider', () => {
  let t: TestService;
  let call: ReturnType<typeof client>;
  const started: string[] = [];
  const provider: Provider = {
    name: 'fake',
    locations: () => [
      {
        provider: 'fake',
        ...{
          city: 'Tokyo',
          country: 'Japan',
          continent: 'Asia',
          administrativeDivision: 'Tokyo',
          region: 'asia',
          timezone: 'Asia/Tokyo',
          latitude: 35.6762,
          longitude: 139.6503,
        },
      },
    ],
    start: async (d) => {
      started.push(d.requestId);
      return {
        publicIp: '192.0.2.5',
        fqdn: `${d.requestId}.fake`,
        ports: {
          game: {
            name: 'game',
            internal: 7777,
            external: 31000,
            protocol: 'UDP',
            tlsUpgrade: false,
            link: `${d.requestId}.fake:31000`,
          },
        },
        providerData: {},
      };
    },
    stop: async () => {},
  };
  before(async () => {
    t = await startTestService({ providers: [provider] });
    call = client(t.url, t.key);
  });
  after(() => t.close());

  it('POST /v1/deploy answers a Request; DELETE /v1/stop before ready answers 202, then 410', async () => {
    const { app, version } = await seedVersion(call);
    const r = await call('POST', '/v1/deploy', { app_name: app, ip_list: ['1.2.3.4'], tags: ['x'] });
    expectOk(r, 'Request');
    assert.match(r.body.request_id, REQUEST_ID);
    assert.equal(r.body.request_app, app);
    assert.equal(r.body.request_version, version);
    assert.equal(r.body.request_user_count, 1);
    assert.equal(r.body.city, 'Tokyo');
    assert.deepEqual(r.body.tags, ['x']);
    await t.service.jobs.runDue();
    assert.deepEqual(started, [r.body.request_id]);
    const status = await call('GET', `/v1/status/${r.body.request_id}`);
    expectOk(status, 'Status');
    assert.equal(status.body.current_status, 'Status.DEPLOYING');
    assert.equal(status.body.running, false);
    assert.equal(status.body.public_ip, '192.0.2.5');
    const stop = await call('DELETE', `/v1/stop/${r.body.request_id}`);
    assert.equal(stop.status, 202, JSON.stringify(stop.body));
    assert.equal(typeof stop.body.message, 'string');
    expectError(await call('DELETE', `/v1/stop/${r.body.request_id}`), 410);
  });
});
