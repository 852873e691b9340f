/** docs/wire-contract.md#sessions: create, get and delete a session, on the wire. */
import { after, before, describe, it } from '../support/node-test.js';
import assert from 'node:assert/strict';
import {
  client,
  FakeClock,
  MONTREAL,
  registerServer,
  seedVersion,
  startTestService,
  type TestService,
} from '../support/harness.js';
import { expectError, expectOk, SESSION_ID, TIMESTAMP } from './wire-shapes.js';

describe('sessions: create, get, delete', () => {
  let t: TestService;
  let call: ReturnType<typeof client>;
  const clock = new FakeClock(new Date('2026-03-04T05:06:07.123Z'));
  before(async () => {
    t = await startTestService({ clock });
    call = client(t.url, t.key);
  });
  after(() => t.close());

  const usage = async (requestId: string) =>
    (await call('GET', `/v1/status/${requestId}`)).body.sockets_usage as number;

  describe('create', () => {
    it('Seat: each user takes one socket; the answer is a SessionRequest', async () => {
      const { app, version } = await seedVersion(call, { kind: 'Seat', sockets: 5 });
      const requestId = await registerServer(call, { app, version });
      const created = await call('POST', '/v1/session', {
        app_name: app,
        version_name: version,
        ip_list: ['1.1.1.1', '2.2.2.2', '3.3.3.3'],
        custom_id: 'c-1',
      });
      expectOk(created, 'SessionRequest');
      assert.match(created.body.session_id, SESSION_ID);
      assert.deepEqual(created.body, {
        session_id: created.body.session_id,
        app,
        version,
        deployment_request_id: requestId,
        custom_id: 'c-1',
      });
      assert.equal(await usage(requestId), 3);
    });

    it('Match: a session takes one socket whatever its user count', async () => {
      const { app, version } = await seedVersion(call, { kind: 'Match', sockets: 2 });
      const requestId = await registerServer(call, { app, version });
      const created = await call('POST', '/v1/session', { app_name: app, ip_list: ['1.1.1.1', '2.2.2.2', '3.3.3.3'] });
      expectOk(created, 'SessionRequest');
      assert.equal(await usage(requestId), 1);
      const got = await call('GET', `/v1/session/${created.body.session_id}`);
      assert.equal(got.body.kind, 'Match');
      assert.equal(got.body.user_count, 3);
    });

    it('without version_name picks the newest active version and answers its name', async () => {
      const { app } = await seedVersion(call, { version: 'v1' });
      clock.advance(1000);
      await seedVersion(call, { app, version: 'v2' });
      clock.advance(1000);
      await seedVersion(call, { app, version: 'v3', extra: { is_active: false } });
      const created = await call('POST', '/v1/session', { app_name: app, ip_list: ['1.1.1.1'] });
      expectOk(created, 'SessionRequest');
      assert.equal(created.body.version, 'v2');
    });

    it('without version_name skips a newer plain version for the newest session-based one', async () => {
      const { app } = await seedVersion(call, { version: 'seat' });
      await registerServer(call, { app, version: 'seat' });
      clock.advance(1000);
      const plain = await call('POST', `/v1/app/${app}/version`, {
        name: 'plain',
        docker_repository: 'r',
        docker_image: 'i',
        docker_tag: 't',
        req_cpu: 256,
        req_memory: 256,
      });
      assert.equal(plain.status, 200, JSON.stringify(plain.body));
      const created = await call('POST', '/v1/session', { app_name: app, ip_list: ['1.1.1.1'] });
      expectOk(created, 'SessionRequest');
      assert.equal(created.body.version, 'seat');
    });

    it('refuses a Default (not session based) version with 400', async () => {
      const { app } = await seedVersion(call, { version: 'seat' });
      for (const [name, extra] of [
        ['plain', {}],
        ['default', { session_config: { kind: 'Default', sockets: 1 } }],
      ] as const) {
        const v = await call('POST', `/v1/app/${app}/version`, {
          name,
          docker_repository: 'r',
          docker_image: 'i',
          docker_tag: 't',
          req_cpu: 256,
          req_memory: 256,
          ...extra,
        });
        assert.equal(v.status, 200, JSON.stringify(v.body));
        const created = await call('POST', '/v1/session', { app_name: app, version_name: name, ip_list: ['1.1.1.1'] });
        assert.match(expectError(created, 400, 'NOT_SESSION_BASED'), /session/i);
      }
    });

    it('refuses an inactive version, an unknown app and an unknown version with 400', async () => {
      const { app } = await seedVersion(call, { version: 'off', extra: { is_active: false } });
      expectError(await call('POST', '/v1/session', { app_name: app, version_name: 'off' }), 400, 'VERSION_INACTIVE');
      expectError(await call('POST', '/v1/session', { app_name: app }), 400, 'UNKNOWN_VERSION');
      expectError(await call('POST', '/v1/session', { app_name: app, version_name: 'nope' }), 400, 'UNKNOWN_VERSION');
      expectError(await call('POST', '/v1/session', { app_name: 'no-such-app' }), 400, 'UNKNOWN_APP');
    });

    it('counts each IP once across ip_list and geo_ip_list', async () => {
      const { app, version } = await seedVersion(call, { sockets: 5 });
      const requestId = await registerServer(call, { app, version });
      const created = await call('POST', '/v1/session', {
        app_name: app,
        ip_list: ['1.1.1.1', '1.1.1.1', '2.2.2.2'],
        geo_ip_list: [{ ip: '2.2.2.2', latitude: 1, longitude: 2 }],
      });
      expectOk(created, 'SessionRequest');
      const got = await call('GET', `/v1/session/${created.body.session_id}`);
      assert.equal(got.body.user_count, 2);
      assert.deepEqual(got.body.session_users, [{ ip: '2.2.2.2', latitude: 1, longitude: 2 }, { ip: '1.1.1.1' }]);
      assert.equal(await usage(requestId), 2);
    });

    it('refuses an inactive app with 400', async () => {
      const { app } = await seedVersion(call);
      await call('PATCH', `/v1/app/${app}`, { is_active: false });
      expectError(await call('POST', '/v1/session', { app_name: app, ip_list: ['1.1.1.1'] }), 400, 'APP_INACTIVE');
    });

    it('autodeploy with no deploy-capable provider: Unprocessable, and the error says why', async () => {
      const { app } = await seedVersion(call, { autodeploy: true });
      const created = await call('POST', '/v1/session', { app_name: app, ip_list: ['1.1.1.1'] });
      expectOk(created, 'SessionRequest');
      const got = await call('GET', `/v1/session/${created.body.session_id}`);
      expectOk(got, 'SessionGet');
      assert.equal(got.body.status, 'Unprocessable');
      assert.match(got.body.error, /provider/i);
    });

    it('deployment_request_id links to that deployment, even when another is fuller', async () => {
      const { app, version } = await seedVersion(call, { sockets: 4 });
      const chosen = await registerServer(call, { app, version });
      const other = await registerServer(call, { app, version });
      await call('POST', '/v1/session', { app_name: app, deployment_request_id: other, ip_list: ['9.9.9.9'] });
      const created = await call('POST', '/v1/session', {
        app_name: app,
        deployment_request_id: chosen,
        ip_list: ['1.1.1.1', '2.2.2.2'],
      });
      expectOk(created, 'SessionRequest');
      assert.equal(created.body.deployment_request_id, chosen);
      assert.equal(await usage(chosen), 2);
      assert.equal(await usage(other), 1);
    });

    it('deployment_request_id answers 409 saying which condition failed', async () => {
      const { app, version } = await seedVersion(call, { sockets: 2 });
      const { app: otherApp, version: otherVersion } = await seedVersion(call, { sockets: 2 });
      const foreign = await registerServer(call, { app: otherApp, version: otherVersion });
      const closed = await registerServer(call, { app, version });
      await call('PATCH', `/v1/deployments/${closed}`, { is_joinable_by_session: false });
      const full = await registerServer(call, { app, version, sockets: 1 });
      await call('POST', '/v1/session', { app_name: app, deployment_request_id: full, ip_list: ['1.1.1.1'] });
      const stopped = await registerServer(call, { app, version });
      await call('DELETE', `/v1/stop/${stopped}`);

      const attempt = (requestId: string) =>
        call('POST', '/v1/session', { app_name: app, deployment_request_id: requestId, ip_list: ['5.5.5.5'] });
      assert.match(
        expectError(await attempt(foreign), 409, 'DEPLOYMENT_UNAVAILABLE'),
        new RegExp(`not ${app} ${version}`),
      );
      assert.match(expectError(await attempt(closed), 409, 'DEPLOYMENT_UNAVAILABLE'), /not joinable/);
      assert.match(expectError(await attempt(full), 409, 'DEPLOYMENT_UNAVAILABLE'), /free socket/);
      assert.match(expectError(await attempt(stopped), 409, 'DEPLOYMENT_UNAVAILABLE'), /not running/);
      assert.match(expectError(await attempt('000000000000'), 409, 'DEPLOYMENT_UNAVAILABLE'), /does not exist/);
      // Nothing was taken by the refused attempts.
      assert.equal(await usage(full), 1);
      const list = await call('GET', `/v1/status/${closed}`);
      assert.equal(list.body.sockets_usage, 0);
    });

    it('becomes Unprocessable with an error when nothing fits and autodeploy is off', async () => {
      const { app, version } = await seedVersion(call, { sockets: 2 });
      await registerServer(call, { app, version });
      const created = await call('POST', '/v1/session', { app_name: app, ip_list: ['1.1.1.1', '2.2.2.2', '3.3.3.3'] });
      expectOk(created, 'SessionRequest');
      assert.equal(created.body.deployment_request_id, undefined);
      const got = await call('GET', `/v1/session/${created.body.session_id}`);
      expectOk(got, 'SessionGet');
      assert.equal(got.body.status, 'Unprocessable');
      assert.equal(got.body.linked, false);
      assert.equal(got.body.ready, false);
      assert.equal(typeof got.body.error, 'string');
      assert.ok(got.body.error.length > 10);
      assert.equal('deployment' in got.body, false);
    });
  });

  describe('get', () => {
    it('answers a linked session with its deployment, formats and no nulls', async () => {
      const { app, version } = await seedVersion(call, { sockets: 6 });
      const requestId = await registerServer(call, { app, version, tags: ['eu'], location: MONTREAL });
      const createdAt = clock.now();
      const created = await call('POST', '/v1/session', {
        app_name: app,
        ip_list: ['1.1.1.1'],
        geo_ip_list: [{ ip: '2.2.2.2', latitude: 45.5, longitude: -73.5 }],
        webhook_url: 'https://example.com/hook',
      });
      clock.advance(90_700);
      const got = await call('GET', `/v1/session/${created.body.session_id}`);
      expectOk(got, 'SessionGet');
      const b = got.body;
      assert.equal(b.session_id, created.body.session_id);
      assert.equal(b.status, 'Ready');
      assert.equal(b.ready, true);
      assert.equal(b.linked, true);
      assert.equal(b.kind, 'Seat');
      assert.equal(b.user_count, 2);
      assert.ok(Number.isInteger(b.app_version));
      assert.match(b.create_time, TIMESTAMP);
      assert.equal(
        b.create_time,
        `${createdAt.toISOString().slice(0, 10)} ${createdAt.toISOString().slice(11, 23)}000`,
      );
      assert.equal(b.elapsed, 90);
      assert.equal(b.webhook_url, 'https://example.com/hook');
      assert.deepEqual(b.session_users, [{ ip: '2.2.2.2', latitude: 45.5, longitude: -73.5 }, { ip: '1.1.1.1' }]);
      assert.deepEqual(b.session_ips, b.session_users);
      assert.equal(b.deployment.request_id, requestId);
      assert.equal(b.deployment.status, 'Status.READY');
      assert.equal(b.deployment.ready, true);
      assert.equal(b.deployment.sockets, 6);
      assert.equal(b.deployment.sockets_usage, 2);
      assert.deepEqual(b.deployment.tags, ['eu']);
      assert.deepEqual(b.deployment.location, MONTREAL);
      assert.equal(b.deployment.ports.game.external, 7777);
    });

    it('answers 404 for an unknown session id', async () => {
      expectError(await call('GET', '/v1/session/0123456789ab-S'), 404, 'SESSION_NOT_FOUND');
    });
  });

  describe('delete', () => {
    it('answers 200 with a message, frees the seats, then 404 on GET and 410 on a second DELETE', async () => {
      const { app, version } = await seedVersion(call, { sockets: 3 });
      const requestId = await registerServer(call, { app, version });
      const created = await call('POST', '/v1/session', {
        app_name: app,
        ip_list: ['1.1.1.1', '2.2.2.2'],
        custom_id: 'mine',
      });
      const id = created.body.session_id as string;
      assert.equal(await usage(requestId), 2);
      const deleted = await call('DELETE', `/v1/session/${id}`);
      expectOk(deleted, 'SessionDelete');
      assert.deepEqual(deleted.body, { message: `Session ${id} will be deleted`, session_id: id, custom_id: 'mine' });
      assert.equal(await usage(requestId), 0);
      expectError(await call('GET', `/v1/session/${id}`), 404);
      expectError(await call('GET', `/v1/session/${id}/users`), 404);
      expectError(await call('DELETE', `/v1/session/${id}`), 410, 'ALREADY_TERMINATING');
      // The freed seats are usable at once.
      const again = await call('POST', '/v1/session', { app_name: app, ip_list: ['3.3.3.3', '4.4.4.4', '5.5.5.5'] });
      assert.equal(again.body.deployment_request_id, requestId);
    });

    it('deletes a session whose deployment stopped (Error)', async () => {
      const { app, version } = await seedVersion(call, { sockets: 3 });
      const requestId = await registerServer(call, { app, version });
      const id = (await call('POST', '/v1/session', { app_name: app, ip_list: ['1.1.1.1'] })).body.session_id as string;
      await call('DELETE', `/v1/stop/${requestId}`);
      assert.equal((await call('GET', `/v1/session/${id}`)).body.status, 'Error');
      expectOk(await call('DELETE', `/v1/session/${id}`), 'SessionDelete');
      expectError(await call('GET', `/v1/session/${id}`), 404);
      assert.equal(await usage(requestId), 0);
    });

    it('answers 404 for an unknown session id', async () => {
      expectError(await call('DELETE', '/v1/session/0123456789ab-S'), 404, 'SESSION_NOT_FOUND');
    });
  });
});
