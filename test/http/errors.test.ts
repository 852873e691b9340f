/**
 * docs/wire-contract.md#general: general wire rules — error bodies, content type, paths, limits,
 * forward compatibility.
 */
import { after, before, describe, it } from '../support/node-test.js';
import assert from 'node:assert/strict';
import { client, registerServer, seedVersion, startTestService, type TestService } from '../support/harness.js';
import { expectError, expectOk } from './wire-shapes.js';

describe('errors and general wire rules', () => {
  let t: TestService;
  let call: ReturnType<typeof client>;
  before(async () => {
    t = await startTestService({ env: { BODY_LIMIT_BYTES: '2048' } });
    call = client(t.url, t.key);
  });
  after(() => t.close());

  it('malformed JSON answers 400 {message, code}', async () => {
    for (const body of ['{"app_name": ', '{app_name: "x"}', '[1,2', 'nope']) {
      const r = await call('POST', '/v1/session', body);
      assert.match(expectError(r, 400, 'MALFORMED_JSON'), /JSON/);
    }
    const users = await call('PUT', '/v1/session/0123456789ab-S/users', '{"ip_list": [');
    expectError(users, 400, 'MALFORMED_JSON');
  });

  it('schema violations answer 400 naming the field', async () => {
    expectError(await call('POST', '/v1/session', {}), 400, 'VALIDATION_FAILED');
    assert.match(
      expectError(await call('POST', '/v1/session', { app_name: 42 }), 400, 'VALIDATION_FAILED'),
      /app_name/,
    );
    assert.match(
      expectError(await call('POST', '/v1/session', { app_name: 'a', ip_list: 'x' }), 400, 'VALIDATION_FAILED'),
      /ip_list/,
    );
    expectError(
      await call('POST', '/v1/session', { app_name: 'a', selectors: [{ tag_only: true }] }),
      400,
      'VALIDATION_FAILED',
    );
    expectError(
      await call('POST', '/v1/session', { app_name: 'a', location: { latitude: 91, longitude: 0 } }),
      400,
      'VALIDATION_FAILED',
    );
    expectError(
      await call('POST', '/v1/session', {
        app_name: 'a',
        filters: [{ field: 'city', filter_type: 'some', values: [] }],
      }),
      400,
      'VALIDATION_FAILED',
    );
    expectError(await call('POST', '/v1/session', []), 400, 'VALIDATION_FAILED');
    expectError(await call('POST', '/v1/session', 'null'), 400);
    expectError(await call('POST', '/v1/session'), 400);
  });

  it('unknown filter fields and invalid IPs answer 400, never 5xx', async () => {
    const { app } = await seedVersion(call);
    expectError(
      await call('POST', '/v1/session', {
        app_name: app,
        filters: [{ field: 'planet', filter_type: 'any', values: ['mars'] }],
      }),
      400,
      'VALIDATION_FAILED',
    );
    for (const ip of ['999.1.1.1', 'localhost', '', '1.2.3', '::g']) {
      assert.match(
        expectError(await call('POST', '/v1/session', { app_name: app, ip_list: [ip] }), 400, 'VALIDATION_FAILED'),
        /IP/,
      );
    }
    expectError(
      await call('POST', '/v1/session', { app_name: app, geo_ip_list: [{ ip: 'nope', latitude: 1, longitude: 1 }] }),
      400,
      'VALIDATION_FAILED',
    );
    const ok = await call('POST', '/v1/session', { app_name: app, ip_list: ['2001:db8::1', '203.0.113.9'] });
    expectOk(ok, 'SessionRequest');
  });

  it('unknown routes answer 404 JSON', async () => {
    const r = await call('GET', '/v1/nothing-here');
    expectError(r, 404, 'ROUTE_NOT_FOUND');
    expectError(await call('POST', '/v2/session', { app_name: 'x' }), 404);
    expectError(await call('GET', '/'), 404);
  });

  it('a body over the limit answers 413 JSON', async () => {
    const r = await call('POST', '/v1/session', {
      app_name: 'x',
      ip_list: Array.from({ length: 300 }, (_, i) => `10.0.${i >> 8}.${i & 255}`),
    });
    expectError(r, 413, 'PAYLOAD_TOO_LARGE');
  });

  it('repeated slashes and a trailing slash reach the route', async () => {
    const { app, version } = await seedVersion(call);
    await registerServer(call, { app, version });
    const created = await call('POST', '//v1/session', { app_name: app, ip_list: ['1.1.1.1'] });
    expectOk(created, 'SessionRequest');
    const id = created.body.session_id as string;
    expectOk(await call('GET', `/v1/session/${id}/`), 'SessionGet');
    expectOk(await call('GET', `//v1//session/${id}`), 'SessionGet');
    expectOk(await call('GET', '/v1/sessions/'), 'Sessions');
    expectOk(await call('GET', '/v1/apps/'), 'Applications');
    expectOk(await call('POST', '/v1/session/', { app_name: app, ip_list: ['1.1.1.2'] }), 'SessionRequest');
  });

  it('answers application/json on success, on errors, and without a request content type', async () => {
    const { app } = await seedVersion(call);
    const checks = [
      await call('GET', '/v1/apps'),
      await call('GET', '/v1/session/0123456789ab-S'),
      await call('DELETE', '/v1/session/0123456789ab-S'),
      await call('POST', '/v1/session', '{'),
      await call('GET', '/v1/unknown'),
      await client(t.url, undefined)('GET', '/v1/apps'),
      await call('POST', '/v1/session', JSON.stringify({ app_name: app, ip_list: ['1.1.1.1'] }), {
        'content-type': 'text/plain',
      }),
    ];
    for (const r of checks)
      assert.match(r.headers.get('content-type') ?? '', /^application\/json/, `${r.status} ${JSON.stringify(r.body)}`);
    assert.equal(checks.at(-1)!.status, 200, 'a JSON body sent as text/plain is still read as JSON');
  });

  it('ignores unknown fields in request bodies', async () => {
    const { app, version } = await seedVersion(call);
    await registerServer(call, { app, version });
    const created = await call('POST', '/v1/session', {
      app_name: app,
      ip_list: ['1.1.1.1'],
      brand_new_field: { a: 1 },
      skip_telemetry: true,
    });
    expectOk(created, 'SessionRequest');
    assert.equal('brand_new_field' in created.body, false);
    const users = await call('PUT', `/v1/session/${created.body.session_id}/users`, {
      ip_list: ['2.2.2.2'],
      extra: true,
    });
    expectOk(users, 'SessionUserContext');
    const appPatch = await call('PATCH', `/v1/app/${app}`, { is_active: true, future: 'x' });
    expectOk(appPatch, 'Application');
  });

  it('treats null optional fields as absent, as some generated clients send them', async () => {
    const { app, version } = await seedVersion(call);
    await registerServer(call, { app, version });
    const created = await call('POST', '/v1/session', {
      app_name: app,
      version_name: null,
      ip_list: ['3.3.3.3'],
      geo_ip_list: null,
      deployment_request_id: null,
      location: null,
      city: null,
      selectors: null,
      webhook_url: null,
      filters: null,
      skip_telemetry: null,
    });
    expectOk(created, 'SessionRequest');
    assert.equal(created.body.version, version);
    // A null where a value is required, or inside a list, is still refused.
    expectError(await call('POST', '/v1/session', { app_name: null }), 400, 'VALIDATION_FAILED');
    expectError(
      await call('PUT', `/v1/session/${created.body.session_id}/users`, { ip_list: [null] }),
      400,
      'VALIDATION_FAILED',
    );
  });

  it('never answers 5xx to odd but well-formed input', async () => {
    const { app } = await seedVersion(call);
    const odd = [
      await call('POST', '/v1/session', { app_name: app, ip_list: ['1.1.1.1'], webhook_url: 'not a url' }),
      await call('POST', '/v1/session', { app_name: app, deployment_request_id: "'; DROP TABLE sessions; --" }),
      await call('GET', `/v1/session/${encodeURIComponent("x' OR 1=1 --")}`),
      await call('GET', `/v1/session/${'a'.repeat(400)}`),
      await call('GET', '/v1/sessions?page=1000000&limit=1000'),
      await call('POST', '/v1/session', { app_name: '\u0000' }),
      await call('GET', '/v1/status/%00'),
      await call('GET', '/v1/app/a%00b'),
      await call('POST', '/v1/app', { name: 'a\u0000b', is_active: true, image: '' }),
      await call('POST', '/v1/session', { app_name: app, custom_id: 'x\u0000' }),
      await call('POST', '/v1/session', { app_name: app, selectors: [{ tag: 't', env: { 'K\u0000': 'v' } }] }),
    ];
    for (const r of odd) {
      assert.ok(r.status >= 200 && r.status < 500, `${r.status} ${JSON.stringify(r.body)}`);
      assert.equal(typeof r.body, 'object');
    }
    // PostgreSQL text cannot hold U+0000, so it is refused at the door, naming the field.
    assert.match(expectError(odd[5]!, 400, 'VALIDATION_FAILED'), /app_name must not contain the NUL/);
    assert.match(expectError(odd[6]!, 400, 'VALIDATION_FAILED'), /request_id/);
    expectError(odd[7]!, 400, 'VALIDATION_FAILED');
    assert.match(expectError(odd[8]!, 400, 'VALIDATION_FAILED'), /name must not contain the NUL/);
    assert.match(expectError(odd[9]!, 400, 'VALIDATION_FAILED'), /custom_id/);
    expectError(odd[10]!, 400, 'VALIDATION_FAILED');
  });
});
