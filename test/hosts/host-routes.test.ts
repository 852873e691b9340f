/**
 * The host routes: create, list, show, drain, activate, remove; every field validated with a
 * clear 4xx and code; only the operator organisation may use them; key material never answered;
 * another organisation's deployments counted but never named.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from '../support/node-test.js';
import { createOrganisation } from '../../src/app/keys.js';
import { client, FRANKFURT, MONTREAL, seedVersion, useTestService } from '../support/harness.js';
import { createRecordingHostProvider } from '../support/host-provider.js';

const { timezone: _tz, ...frankfurtLocation } = FRANKFURT;
const validHost = (name: string, overrides: Record<string, unknown> = {}) => ({
  name,
  endpoint: { kind: 'socket', path: '/run/podman/podman.sock' },
  public_ip: '203.0.113.5',
  location: frankfurtLocation,
  cpu_units: 2048,
  memory_mb: 4096,
  port_min: 30000,
  port_max: 30099,
  tags: ['eu'],
  ...overrides,
});

describe('host routes', { timeout: 120_000 }, () => {
  const provider = createRecordingHostProvider();
  const { t, call } = useTestService({ providers: [provider] });
  let other: ReturnType<typeof client>;

  before(async () => {
    other = client(t.url, (await createOrganisation(t.service.deps, 'another studio')).key);
  });

  it('adds, lists, shows, drains, activates and removes a host', async () => {
    const created = await call(
      'POST',
      '/v1/hosts',
      validHost('fra-1', {
        endpoint: {
          kind: 'tcp',
          host: 'engine.example',
          port: 2376,
          tls: {
            ca: '-----BEGIN CERTIFICATE-----x',
            cert: '-----BEGIN CERTIFICATE-----y',
            key: '-----BEGIN PRIVATE KEY-----SECRET',
          },
        },
      }),
    );
    assert.equal(created.status, 200, JSON.stringify(created.body));
    assert.deepEqual(created.body.endpoint, { kind: 'tcp', host: 'engine.example', port: 2376, has_credentials: true });
    assert.ok(!JSON.stringify(created.body).includes('SECRET'), 'key material is never answered');
    assert.equal(created.body.state, 'active');
    assert.deepEqual(
      [created.body.cpu_units, created.body.used_cpu_units, created.body.used_ports, created.body.deployment_count],
      [2048, 0, 0, 0],
    );
    assert.equal(created.body.location.city, 'Frankfurt');

    const duplicate = await call('POST', '/v1/hosts', validHost('fra-1'));
    assert.equal(duplicate.status, 409);
    assert.equal(duplicate.body.code, 'HOST_EXISTS');

    const listed = await call('GET', '/v1/hosts');
    assert.equal(listed.status, 200);
    assert.deepEqual(
      listed.body.hosts.map((h: { name: string }) => h.name),
      ['fra-1'],
    );
    assert.ok(!JSON.stringify(listed.body).includes('SECRET'));

    const shown = await call('GET', '/v1/hosts/fra-1');
    assert.equal(shown.status, 200);
    assert.deepEqual(shown.body.deployments, []);
    assert.equal((await call('GET', '/v1/hosts/nope')).body.code, 'HOST_NOT_FOUND');

    const drained = await call('POST', '/v1/hosts/fra-1/drain');
    assert.equal(drained.status, 200, JSON.stringify(drained.body));
    assert.equal(drained.body.state, 'draining');
    assert.equal((await call('POST', '/v1/hosts/fra-1/activate')).body.state, 'active');

    const removed = await call('DELETE', '/v1/hosts/fra-1');
    assert.equal(removed.status, 200, JSON.stringify(removed.body));
    assert.deepEqual(removed.body, { message: 'Host fra-1 removed.', name: 'fra-1' });
    assert.equal((await call('DELETE', '/v1/hosts/fra-1')).status, 404);
  });

  it('validates every field with a 400 and a code', async () => {
    const cases: Array<[string, Record<string, unknown>, RegExp]> = [
      ['bad name', validHost('has space'), /name/],
      ['unknown endpoint kind', validHost('h', { endpoint: { kind: 'http', path: '/x' } }), /endpoint/],
      ['relative socket path', validHost('h', { endpoint: { kind: 'socket', path: 'run/x.sock' } }), /endpoint/],
      ['tcp port out of range', validHost('h', { endpoint: { kind: 'tcp', host: 'e', port: 70000 } }), /endpoint/],
      [
        'tls cert without key',
        validHost('h', { endpoint: { kind: 'tcp', host: 'e', port: 2376, tls: { cert: 'c' } } }),
        /cert and key/,
      ],
      ['ssh without username', validHost('h', { endpoint: { kind: 'ssh', host: 'e', port: 22 } }), /endpoint/],
      [
        'ssh',
        validHost('h', { endpoint: { kind: 'ssh', host: 'e', port: 22, username: 'u' } }),
        /ssh endpoints are not supported: forward/,
      ],
      ['public_ip not an IP', validHost('h', { public_ip: 'not-an-ip' }), /public_ip must be an IP address/],
      ['zero cpu', validHost('h', { cpu_units: 0 }), /cpu_units/],
      ['negative memory', validHost('h', { memory_mb: -5 }), /memory_mb/],
      ['port 0', validHost('h', { port_min: 0 }), /port_min/],
      ['port above 65535', validHost('h', { port_max: 65536 }), /port_max/],
      [
        'range upside down',
        validHost('h', { port_min: 31000, port_max: 30000 }),
        /port_min \(31000\) must not be above port_max \(30000\)/,
      ],
      ['latitude out of range', validHost('h', { location: { ...frankfurtLocation, latitude: 91 } }), /latitude/],
      [
        'location without city',
        validHost('h', { location: { country: 'Germany', continent: 'Europe', latitude: 1, longitude: 1 } }),
        /city/,
      ],
      ['unknown field', validHost('h', { colour: 'red' }), /additional/i],
    ];
    for (const [what, body, message] of cases) {
      const r = await call('POST', '/v1/hosts', body);
      assert.equal(r.status, 400, `${what}: ${r.status} ${JSON.stringify(r.body)}`);
      assert.equal(r.body.code, 'VALIDATION_FAILED', what);
      assert.match(r.body.message, message, what);
    }
    assert.deepEqual((await call('GET', '/v1/hosts')).body.hosts, [], 'nothing was created');
  });

  it('answers 403 OPERATOR_ONLY to any other organisation, and 401 without a key', async () => {
    assert.equal((await call('POST', '/v1/hosts', validHost('mtl-1', { location: MONTREAL }))).status, 200);
    const attempts: Array<[string, string, unknown?]> = [
      ['POST', '/v1/hosts', validHost('intruder')],
      ['GET', '/v1/hosts'],
      ['GET', '/v1/hosts/mtl-1'],
      ['POST', '/v1/hosts/mtl-1/drain'],
      ['POST', '/v1/hosts/mtl-1/activate'],
      ['DELETE', '/v1/hosts/mtl-1'],
    ];
    for (const [method, path, body] of attempts) {
      const r = await other(method, path, body);
      assert.equal(r.status, 403, `${method} ${path}: ${JSON.stringify(r.body)}`);
      assert.equal(r.body.code, 'OPERATOR_ONLY');
      assert.match(r.body.message, /operator organisation/);
    }
    assert.equal((await client(t.url, undefined)('GET', '/v1/hosts')).status, 401);
    assert.equal((await call('GET', '/v1/hosts/mtl-1')).body.state, 'active', 'nothing changed');
    assert.equal((await call('DELETE', '/v1/hosts/mtl-1')).status, 200);
  });

  it("refuses to remove a host live deployments run on, and counts but never names another organisation's", async () => {
    assert.equal((await call('POST', '/v1/hosts', validHost('fra-2'))).status, 200);
    const mine = await seedVersion(call);
    const theirs = await seedVersion(other);
    const where = {
      geo_ip_list: [{ ip: '198.51.100.1', latitude: FRANKFURT.latitude, longitude: FRANKFURT.longitude }],
    };
    const myDeploy = await call('POST', '/v1/deploy', { app_name: mine.app, version_name: 'v1', ...where });
    const theirDeploy = await other('POST', '/v1/deploy', { app_name: theirs.app, version_name: 'v1', ...where });
    assert.deepEqual(
      [myDeploy.status, theirDeploy.status],
      [200, 200],
      JSON.stringify([myDeploy.body, theirDeploy.body]),
    );

    const shown = await call('GET', '/v1/hosts/fra-2');
    assert.equal(shown.body.deployment_count, 2);
    assert.deepEqual(
      shown.body.deployments.map((d: { request_id: string }) => d.request_id),
      [myDeploy.body.request_id],
    );
    assert.ok(
      !JSON.stringify(shown.body).includes(theirDeploy.body.request_id),
      "another organisation's deployment is never named",
    );
    assert.equal(shown.body.used_cpu_units, 512);

    const refused = await call('DELETE', '/v1/hosts/fra-2');
    assert.equal(refused.status, 409);
    assert.equal(refused.body.code, 'HOST_IN_USE');
    assert.match(refused.body.message, /runs 2 live deployment\(s\); drain it and stop them/);

    assert.equal((await call('POST', '/v1/hosts/fra-2/drain')).status, 200);
    const onDrained = await call('POST', '/v1/deploy', { app_name: mine.app, version_name: 'v1', ...where });
    assert.equal(onDrained.status, 422);
    assert.match(onDrained.body.message, /fra-2 is not active/);

    assert.ok([200, 202].includes((await call('DELETE', `/v1/stop/${myDeploy.body.request_id}`)).status));
    assert.ok([200, 202].includes((await other('DELETE', `/v1/stop/${theirDeploy.body.request_id}`)).status));
    const stopping = await call('DELETE', '/v1/hosts/fra-2');
    assert.equal(stopping.status, 409);
    assert.match(stopping.body.message, /being stopped/);
    await t.service.jobs.runDue();
    assert.equal((await call('DELETE', '/v1/hosts/fra-2')).status, 200);
    const status = await call('GET', `/v1/status/${myDeploy.body.request_id}`);
    assert.equal(status.status, 200, 'its deployments stay readable after the host is gone');
  });
});
