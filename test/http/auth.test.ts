/** docs/wire-contract.md#auth: authentication and tenants. */
import { describe, it } from '../support/node-test.js';
import assert from 'node:assert/strict';
import { client, registerServer, seedVersion, useTestService } from '../support/harness.js';
import { expectError, expectOk, newTenant } from './wire-shapes.js';

describe('authentication and tenants', () => {
  const { t, call } = useTestService();

  const raw = (authorization: string | undefined) =>
    client(t.url, undefined)('GET', '/v1/apps', undefined, authorization === undefined ? {} : { authorization });

  it('accepts "token <key>" in any case, and a bare key', async () => {
    for (const header of [`token ${t.key}`, `Token ${t.key}`, `TOKEN ${t.key}`, t.key, `  token   ${t.key}  `]) {
      expectOk(await raw(header), 'Applications');
    }
    const upperName = await fetch(`${t.url}/v1/apps`, { headers: { AUTHORIZATION: `token ${t.key}` } });
    assert.equal(upperName.status, 200);
  });

  it('answers 401 {message} for missing, malformed and unknown keys', async () => {
    for (const header of [undefined, '', 'token', 'token a b', 'Basic dXNlcjpwYXNz', 'token rp_unknown_key']) {
      expectError(await raw(header), 401, 'UNAUTHORIZED');
    }
  });

  it('answers 401 on every /v1 route, before validation or lookup', async () => {
    const anon = client(t.url, undefined);
    const routes: Array<[string, string, unknown?]> = [
      ['POST', '/v1/session', {}],
      ['GET', '/v1/session/0123456789ab-S'],
      ['DELETE', '/v1/session/0123456789ab-S'],
      ['GET', '/v1/session/0123456789ab-S/users'],
      ['PUT', '/v1/session/0123456789ab-S/users', { ip_list: [] }],
      ['DELETE', '/v1/session/0123456789ab-S/users', { ip_list: [] }],
      ['GET', '/v1/sessions'],
      ['POST', '/v1/sessions/bulk-stop', { filters: [] }],
      ['POST', '/v1/app', {}],
      ['GET', '/v1/app/x'],
      ['PATCH', '/v1/app/x', {}],
      ['DELETE', '/v1/app/x'],
      ['GET', '/v1/apps'],
      ['POST', '/v1/app/x/version', {}],
      ['GET', '/v1/app/x/version/y'],
      ['PATCH', '/v1/app/x/version/y', {}],
      ['DELETE', '/v1/app/x/version/y'],
      ['GET', '/v1/app/x/versions'],
      ['POST', '/v1/deploy', {}],
      ['GET', '/v1/status/abc'],
      ['DELETE', '/v1/stop/abc'],
      ['GET', '/v1/deployments'],
      ['POST', '/v1/deployments/bulk-stop', { filters: [] }],
      ['PATCH', '/v1/deployments/abc', {}],
      ['POST', '/v1/deployments/register', {}],
    ];
    for (const [method, path, body] of routes) expectError(await anon(method, path, body), 401, 'UNAUTHORIZED');
  });

  it("answers another organisation's resources exactly as missing ones (404, never 403)", async () => {
    const { app, version } = await seedVersion(call);
    const requestId = await registerServer(call, { app, version });
    const sessionId = (await call('POST', '/v1/session', { app_name: app, ip_list: ['1.1.1.1'] })).body
      .session_id as string;
    const other = await newTenant(t);

    expectError(await other('GET', `/v1/session/${sessionId}`), 404, 'SESSION_NOT_FOUND');
    expectError(await other('DELETE', `/v1/session/${sessionId}`), 404, 'SESSION_NOT_FOUND');
    expectError(await other('GET', `/v1/session/${sessionId}/users`), 404);
    expectError(await other('PUT', `/v1/session/${sessionId}/users`, { ip_list: ['2.2.2.2'] }), 404);
    expectError(await other('GET', `/v1/app/${app}`), 404, 'APP_NOT_FOUND');
    expectError(await other('GET', `/v1/app/${app}/version/${version}`), 404);
    expectError(await other('DELETE', `/v1/app/${app}`), 404);
    expectError(await other('GET', `/v1/status/${requestId}`), 404, 'DEPLOYMENT_NOT_FOUND');
    expectError(await other('DELETE', `/v1/stop/${requestId}`), 404, 'DEPLOYMENT_NOT_FOUND');
    expectError(await other('PATCH', `/v1/deployments/${requestId}`, { is_joinable_by_session: false }), 404);
    // Their app name is not visible either: a session for it is an unknown app, and lists are empty.
    expectError(await other('POST', '/v1/session', { app_name: app }), 400, 'UNKNOWN_APP');
    assert.deepEqual((await other('GET', '/v1/apps')).body.applications, []);
    assert.equal((await other('GET', '/v1/sessions')).body.total_count, 0);
    assert.equal((await other('GET', '/v1/deployments')).body.total_count, 0);
    // A deployment of another organisation cannot be named either.
    await seedVersion(other, { app, version });
    expectError(
      await other('POST', '/v1/session', { app_name: app, ip_list: ['1.1.1.1'], deployment_request_id: requestId }),
      409,
    );
    // And the owner still sees everything untouched.
    assert.equal((await call('GET', `/v1/session/${sessionId}`)).body.status, 'Ready');
    assert.equal((await call('GET', `/v1/status/${requestId}`)).body.is_joinable_by_session, true);
  });

  it('shows a new key once; a revoked key answers 401', async () => {
    const created = await call('POST', '/v1/keys', { name: 'ci' });
    assert.equal(created.status, 200);
    const key = created.body.key as string;
    assert.equal(typeof key, 'string');
    const listed = await call('GET', '/v1/keys');
    assert.ok(listed.body.keys.some((k: { key_id: string }) => k.key_id === created.body.key_id));
    assert.doesNotMatch(JSON.stringify(listed.body), new RegExp(key));
    const withNew = client(t.url, key);
    expectOk(await withNew('GET', '/v1/apps'), 'Applications');
    assert.equal((await call('DELETE', `/v1/keys/${created.body.key_id}`)).status, 200);
    expectError(await withNew('GET', '/v1/apps'), 401, 'UNAUTHORIZED');
  });
});
