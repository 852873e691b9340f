/** Input is taken exactly: invalid Unicode, environment names and player addresses. */
import { describe, it } from '../support/node-test.js';
import assert from 'node:assert/strict';
import { MONTREAL, registerServer, seedVersion, useTestService } from '../support/harness.js';
import { expectError, expectOk } from './wire-shapes.js';

const LONE = '\ud800';
const VERSION = {
  docker_repository: 'r',
  docker_image: 'i',
  docker_tag: 't',
  req_cpu: 256,
  req_memory: 256,
  session_config: { kind: 'Seat', sockets: 4 },
};

describe('exact input', { timeout: 120_000 }, () => {
  const { call } = useTestService();

  it('refuses lone UTF-16 surrogates with 400 VALIDATION_FAILED naming the field, on every route', async () => {
    const { app, version } = await seedVersion(call);
    const cases: Array<[string, string, unknown, RegExp]> = [
      ['POST', `/v1/app/${app}/version`, { ...VERSION, name: 'x', docker_image: `a${LONE}` }, /docker_image/],
      [
        'POST',
        `/v1/app/${app}/version`,
        { ...VERSION, name: 'x', envs: [{ key: 'K', value: LONE }] },
        /envs\.0\.value/,
      ],
      ['PATCH', `/v1/app/${app}/version/${version}`, { docker_tag: `\udc00x` }, /docker_tag/],
      ['POST', '/v1/app', { name: `n${LONE}`, is_active: true, image: '' }, /name/],
      ['POST', '/v1/session', { app_name: app, ip_list: ['1.1.1.1'], city: LONE }, /city/],
      ['POST', '/v1/session', { app_name: app, ip_list: ['1.1.1.1'], selectors: [{ tag: LONE }] }, /selectors\.0\.tag/],
      [
        'POST',
        '/v1/session',
        { app_name: app, ip_list: ['1.1.1.1'], selectors: [{ tag: 't', env: { K: LONE } }] },
        /selectors\.0\.env\.K/,
      ],
      ['POST', '/v1/session', { app_name: app, ip_list: ['1.1.1.1'], custom_id: LONE }, /custom_id/],
      [
        'POST',
        '/v1/deployments/register',
        {
          app_name: app,
          version_name: version,
          public_ip: '203.0.113.5',
          location: MONTREAL,
          ports: [{ name: `g${LONE}`, external: 7777, internal: 7777, protocol: 'UDP' }],
        },
        /ports\.0\.name/,
      ],
      ['POST', '/v1/keys', { name: LONE }, /name/],
    ];
    for (const [method, path, body, field] of cases) {
      const r = await call(method, path, body);
      const message = expectError(r, 400, 'VALIDATION_FAILED');
      assert.match(message, field, `${method} ${path}: ${message}`);
      assert.match(message, /Unicode/);
    }
    // A well-formed pair (an emoji) is fine.
    expectOk(
      await call('POST', '/v1/session', { app_name: app, ip_list: ['1.1.1.1'], custom_id: 'gg \ud83c\udfae' }),
      'SessionRequest',
    );
  });

  it('refuses environment names holding "=" or NUL in version envs, deploy env_vars and selector env', async () => {
    const { app, version } = await seedVersion(call);
    const forged = 'ARBITRIUM_REQUEST_ID=forged';
    const versionEnv = await call('POST', `/v1/app/${app}/version`, {
      ...VERSION,
      name: 'env',
      envs: [{ key: forged, value: 'x' }],
    });
    assert.match(expectError(versionEnv, 400, 'VALIDATION_FAILED'), /envs\.0\.key/);
    const patched = await call('PATCH', `/v1/app/${app}/version/${version}`, { envs: [{ key: 'A=B', value: 'x' }] });
    assert.match(expectError(patched, 400, 'VALIDATION_FAILED'), /envs\.0\.key/);
    const deploy = await call('POST', '/v1/deploy', {
      app_name: app,
      version_name: version,
      ip_list: ['1.1.1.1'],
      env_vars: [{ key: forged, value: 'x' }],
    });
    assert.match(expectError(deploy, 400, 'VALIDATION_FAILED'), /env_vars\.0\.key/);
    const selector = await call('POST', '/v1/session', {
      app_name: app,
      ip_list: ['1.1.1.1'],
      selectors: [{ tag: 't', env: { [forged]: 'x' } }],
    });
    assert.match(expectError(selector, 400, 'VALIDATION_FAILED'), /selectors\.0\.env.*ARBITRIUM_REQUEST_ID=forged/);
    expectError(
      await call('POST', `/v1/app/${app}/version`, {
        ...VERSION,
        name: 'env2',
        envs: [{ key: 'A\u0000', value: 'x' }],
      }),
      400,
      'VALIDATION_FAILED',
    );
  });

  it('keeps player addresses canonical: two spellings of one address are one player', async () => {
    const { app, version } = await seedVersion(call, { sockets: 20 });
    const requestId = await registerServer(call, { app, version, sockets: 20 });
    const created = await call('POST', '/v1/session', {
      app_name: app,
      ip_list: ['2001:db8::1', '2001:DB8::1', '2001:0db8:0:0:0:0:0:1', '::ffff:1.2.3.4', '1.2.3.4', '::FFFF:0102:0304'],
    });
    expectOk(created, 'SessionRequest');
    const id = created.body.session_id as string;
    const got = await call('GET', `/v1/session/${id}`);
    assert.deepEqual(
      got.body.session_users.map((u: { ip: string }) => u.ip),
      ['2001:db8::1', '1.2.3.4'],
    );
    assert.equal((await call('GET', `/v1/status/${requestId}`)).body.sockets_usage, 2);
    const same = await call('PUT', `/v1/session/${id}/users`, { ip_list: ['2001:DB8:0::1', '::ffff:102:304'] });
    assert.deepEqual(
      same.body.session_users.map((u: { ip: string }) => u.ip),
      ['2001:db8::1', '1.2.3.4'],
    );
    const removed = await call('DELETE', `/v1/session/${id}/users`, { ip_list: ['2001:0DB8::0:1'] });
    assert.deepEqual(
      removed.body.session_users.map((u: { ip: string }) => u.ip),
      ['1.2.3.4'],
    );
    assert.equal((await call('GET', `/v1/status/${requestId}`)).body.sockets_usage, 1);
    const geo = await call('POST', '/v1/session', {
      app_name: app,
      ip_list: ['5.5.5.5'],
      geo_ip_list: [{ ip: '::ffff:5.5.5.5', latitude: 1, longitude: 2 }],
    });
    assert.equal((await call('GET', `/v1/session/${geo.body.session_id}`)).body.user_count, 1);
  });

  it('refuses zone ids, unspecified, broadcast and multicast addresses, naming the address', async () => {
    const { app, version } = await seedVersion(call);
    await registerServer(call, { app, version });
    for (const ip of [
      'fe80::1%eth0',
      '0.0.0.0',
      '::',
      '255.255.255.255',
      '224.0.0.1',
      '239.255.255.250',
      'ff02::1',
      '::ffff:224.0.0.1',
    ]) {
      const r = await call('POST', '/v1/session', { app_name: app, ip_list: ['1.1.1.1', ip] });
      const message = expectError(r, 400, 'VALIDATION_FAILED');
      assert.ok(message.includes(JSON.stringify(ip)), message);
      assert.match(message, /ip_list/);
    }
    const created = await call('POST', '/v1/session', { app_name: app, ip_list: ['1.1.1.1'] });
    const put = await call('PUT', `/v1/session/${created.body.session_id}/users`, { ip_list: ['ff02::1'] });
    assert.match(expectError(put, 400, 'VALIDATION_FAILED'), /"ff02::1" is a multicast address/);
  });

  it('refuses a session with no player', async () => {
    const { app, version } = await seedVersion(call);
    await registerServer(call, { app, version });
    for (const body of [
      { app_name: app, ip_list: [] },
      { app_name: app },
      { app_name: app, ip_list: [], geo_ip_list: [] },
    ]) {
      assert.match(
        expectError(await call('POST', '/v1/session', body), 400, 'VALIDATION_FAILED'),
        /ip_list must name at least one player/,
      );
    }
  });
});
