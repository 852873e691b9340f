/**
 * docs/wire-contract.md#session-users: GET/PUT/DELETE /v1/session/{id}/users — a set of users,
 * seats kept in step.
 */
import { describe, it } from '../support/node-test.js';
import assert from 'node:assert/strict';
import { registerServer, seedVersion, useTestService } from '../support/harness.js';
import { expectError, expectOk } from './wire-shapes.js';

describe('session users', () => {
  const { call } = useTestService();

  const usage = async (requestId: string) =>
    (await call('GET', `/v1/status/${requestId}`)).body.sockets_usage as number;
  const ips = (body: { session_users: Array<{ ip: string }> }) => body.session_users.map((u) => u.ip);

  async function seatSession(sockets: number, users: string[]) {
    const { app, version } = await seedVersion(call, { sockets });
    const requestId = await registerServer(call, { app, version });
    const created = await call('POST', '/v1/session', { app_name: app, ip_list: users });
    assert.equal(created.body.deployment_request_id, requestId);
    return { app, version, requestId, id: created.body.session_id as string };
  }

  it('GET lists the users', async () => {
    const { id } = await seatSession(5, ['1.1.1.1', '2.2.2.2']);
    const got = await call('GET', `/v1/session/${id}/users`);
    expectOk(got, 'SessionUserContext');
    assert.deepEqual(got.body, { session_users: [{ ip: '1.1.1.1' }, { ip: '2.2.2.2' }] });
  });

  it('PUT adds users as a set and answers the users after the change', async () => {
    const { id, requestId } = await seatSession(5, ['1.1.1.1']);
    const put = await call('PUT', `/v1/session/${id}/users`, { ip_list: ['1.1.1.1', '2.2.2.2', '2.2.2.2', '3.3.3.3'] });
    expectOk(put, 'SessionUserContext');
    assert.deepEqual(ips(put.body), ['1.1.1.1', '2.2.2.2', '3.3.3.3']);
    assert.equal(await usage(requestId), 3);
    const same = await call('PUT', `/v1/session/${id}/users`, { ip_list: ['2.2.2.2'] });
    expectOk(same, 'SessionUserContext');
    assert.deepEqual(ips(same.body), ['1.1.1.1', '2.2.2.2', '3.3.3.3']);
    assert.equal(await usage(requestId), 3);
    const got = await call('GET', `/v1/session/${id}`);
    assert.equal(got.body.user_count, 3);
    assert.deepEqual(
      got.body.session_ips.map((u: { ip: string }) => u.ip),
      ['1.1.1.1', '2.2.2.2', '3.3.3.3'],
    );
  });

  it('DELETE removes users as a set and gives the seats back', async () => {
    const { id, requestId } = await seatSession(5, ['1.1.1.1', '2.2.2.2', '3.3.3.3']);
    const removed = await call('DELETE', `/v1/session/${id}/users`, { ip_list: ['2.2.2.2', '9.9.9.9'] });
    expectOk(removed, 'SessionUserContext');
    assert.deepEqual(ips(removed.body), ['1.1.1.1', '3.3.3.3']);
    assert.equal(await usage(requestId), 2);
    const absent = await call('DELETE', `/v1/session/${id}/users`, { ip_list: ['9.9.9.9'] });
    expectOk(absent, 'SessionUserContext');
    assert.deepEqual(ips(absent.body), ['1.1.1.1', '3.3.3.3']);
    assert.equal(await usage(requestId), 2);
  });

  it('PUT beyond the free sockets answers 422 and changes nothing', async () => {
    const { id, requestId } = await seatSession(3, ['1.1.1.1', '2.2.2.2']);
    const put = await call('PUT', `/v1/session/${id}/users`, { ip_list: ['3.3.3.3', '4.4.4.4'] });
    assert.match(expectError(put, 422, 'NOT_ENOUGH_SEATS'), /free socket/);
    assert.deepEqual(ips((await call('GET', `/v1/session/${id}/users`)).body), ['1.1.1.1', '2.2.2.2']);
    assert.equal(await usage(requestId), 2);
    // Exactly the free room still fits.
    const fits = await call('PUT', `/v1/session/${id}/users`, { ip_list: ['3.3.3.3'] });
    expectOk(fits, 'SessionUserContext');
    assert.equal(await usage(requestId), 3);
  });

  it('PUT on an Unprocessable session answers 422 and changes nothing', async () => {
    const { app, version } = await seedVersion(call, { sockets: 1 });
    await registerServer(call, { app, version });
    const created = await call('POST', '/v1/session', { app_name: app, ip_list: ['1.1.1.1', '2.2.2.2'] });
    const id = created.body.session_id as string;
    assert.equal((await call('GET', `/v1/session/${id}`)).body.status, 'Unprocessable');
    expectError(
      await call('PUT', `/v1/session/${id}/users`, { ip_list: ['3.3.3.3'] }),
      422,
      'SESSION_NOT_ACCEPTING_USERS',
    );
    assert.deepEqual(ips((await call('GET', `/v1/session/${id}/users`)).body), ['1.1.1.1', '2.2.2.2']);
  });

  it('PUT on a session whose deployment stopped (Error) answers 422', async () => {
    const { id, requestId } = await seatSession(4, ['1.1.1.1']);
    assert.equal((await call('DELETE', `/v1/stop/${requestId}`)).status, 200);
    expectError(
      await call('PUT', `/v1/session/${id}/users`, { ip_list: ['3.3.3.3'] }),
      422,
      'SESSION_NOT_ACCEPTING_USERS',
    );
  });

  it('Match: the session keeps one socket whatever users come and go', async () => {
    const { app, version } = await seedVersion(call, { kind: 'Match', sockets: 2 });
    const requestId = await registerServer(call, { app, version });
    const id = (await call('POST', '/v1/session', { app_name: app, ip_list: ['1.1.1.1'] })).body.session_id as string;
    const put = await call('PUT', `/v1/session/${id}/users`, { ip_list: ['2.2.2.2', '3.3.3.3', '4.4.4.4', '5.5.5.5'] });
    expectOk(put, 'SessionUserContext');
    assert.equal(put.body.session_users.length, 5);
    assert.equal(await usage(requestId), 1);
    await call('DELETE', `/v1/session/${id}/users`, {
      ip_list: ['1.1.1.1', '2.2.2.2', '3.3.3.3', '4.4.4.4', '5.5.5.5'],
    });
    assert.equal(await usage(requestId), 1);
  });

  it('PUT on a deployment no longer joinable answers 422; removing still works', async () => {
    const { id, requestId } = await seatSession(5, ['1.1.1.1', '2.2.2.2']);
    assert.equal((await call('PATCH', `/v1/deployments/${requestId}`, { is_joinable_by_session: false })).status, 200);
    expectError(await call('PUT', `/v1/session/${id}/users`, { ip_list: ['3.3.3.3'] }), 422);
    const removed = await call('DELETE', `/v1/session/${id}/users`, { ip_list: ['1.1.1.1'] });
    expectOk(removed, 'SessionUserContext');
    assert.equal(await usage(requestId), 1);
  });

  it('refuses invalid IPs with 400 and unknown sessions with 404', async () => {
    const { id } = await seatSession(5, ['1.1.1.1']);
    expectError(await call('PUT', `/v1/session/${id}/users`, { ip_list: ['not-an-ip'] }), 400, 'VALIDATION_FAILED');
    expectError(await call('PUT', `/v1/session/${id}/users`, { ip_list: '1.1.1.1' }), 400, 'VALIDATION_FAILED');
    expectError(await call('PUT', `/v1/session/${id}/users`, {}), 400, 'VALIDATION_FAILED');
    for (const method of ['GET', 'PUT', 'DELETE']) {
      expectError(
        await call(method, '/v1/session/0123456789ab-S/users', method === 'GET' ? undefined : { ip_list: ['1.1.1.1'] }),
        404,
        'SESSION_NOT_FOUND',
      );
    }
  });
});
