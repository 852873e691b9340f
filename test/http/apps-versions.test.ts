/** docs/wire-contract.md#apps-versions: applications and versions CRUD on the wire. */
import { after, before, describe, it } from '../support/node-test.js';
import assert from 'node:assert/strict';
import {
  client,
  FakeClock,
  registerServer,
  seedVersion,
  startTestService,
  type TestService,
} from '../support/harness.js';
import { expectError, expectOk, newTenant, TIMESTAMP } from './wire-shapes.js';

const versionBody = (name: string, extra: Record<string, unknown> = {}) => ({
  name,
  docker_repository: 'registry.local',
  docker_image: 'game',
  docker_tag: '1',
  req_cpu: 256,
  req_memory: 256,
  session_config: { kind: 'Seat', sockets: 8, autodeploy: false, empty_ttl: 5, session_max_duration: 90 },
  ...extra,
});

describe('applications and versions', () => {
  let t: TestService;
  let call: ReturnType<typeof client>;
  const clock = new FakeClock(new Date('2026-02-03T04:05:06.789Z'));
  before(async () => {
    t = await startTestService({ clock });
    call = client(t.url, t.key);
  });
  after(() => t.close());

  describe('applications', () => {
    it('creates, reads, patches, lists and deletes an app', async () => {
      const tenant = await newTenant(t);
      const created = await tenant('POST', '/v1/app', { name: 'space', is_active: true, image: 'img' });
      expectOk(created, 'Application');
      assert.deepEqual(created.body, {
        name: 'space',
        is_active: true,
        is_telemetry_agent_active: false,
        image: 'img',
        create_time: '2026-02-03 04:05:06.789000',
        last_updated: '2026-02-03 04:05:06.789000',
      });
      const got = await tenant('GET', '/v1/app/space');
      expectOk(got, 'Application');
      assert.deepEqual(got.body, created.body);

      clock.advance(60_000);
      const patched = await tenant('PATCH', '/v1/app/space', { is_active: false, image: 'img2' });
      expectOk(patched, 'Application');
      assert.equal(patched.body.is_active, false);
      assert.equal(patched.body.image, 'img2');
      assert.equal(patched.body.create_time, created.body.create_time);
      assert.match(patched.body.last_updated, TIMESTAMP);
      assert.notEqual(patched.body.last_updated, created.body.last_updated);

      const renamed = await tenant('PATCH', '/v1/app/space', { name: 'space-2' });
      expectOk(renamed, 'Application');
      expectError(await tenant('GET', '/v1/app/space'), 404, 'APP_NOT_FOUND');

      await tenant('POST', '/v1/app', { name: 'other', is_active: true, image: '' });
      const listed = await tenant('GET', '/v1/apps');
      expectOk(listed, 'Applications');
      assert.deepEqual(
        listed.body.applications.map((a: { name: string }) => a.name),
        ['space-2', 'other'],
      );

      const deleted = await tenant('DELETE', '/v1/app/space-2');
      assert.equal(deleted.status, 200);
      assert.equal(typeof deleted.body.message, 'string');
      expectError(await tenant('GET', '/v1/app/space-2'), 404, 'APP_NOT_FOUND');
      assert.deepEqual(
        (await tenant('GET', '/v1/apps')).body.applications.map((a: { name: string }) => a.name),
        ['other'],
      );
    });

    it('answers 409 for a duplicate name (create and rename) and 404 for unknown apps', async () => {
      const tenant = await newTenant(t);
      await tenant('POST', '/v1/app', { name: 'dup', is_active: true, image: '' });
      await tenant('POST', '/v1/app', { name: 'dup2', is_active: true, image: '' });
      expectError(await tenant('POST', '/v1/app', { name: 'dup', is_active: false, image: '' }), 409, 'APP_EXISTS');
      expectError(await tenant('PATCH', '/v1/app/dup2', { name: 'dup' }), 409, 'APP_EXISTS');
      expectError(await tenant('GET', '/v1/app/nope'), 404, 'APP_NOT_FOUND');
      expectError(await tenant('PATCH', '/v1/app/nope', { is_active: true }), 404, 'APP_NOT_FOUND');
      expectError(await tenant('DELETE', '/v1/app/nope'), 404, 'APP_NOT_FOUND');
      expectError(await tenant('POST', '/v1/app', { name: 'x' }), 400, 'VALIDATION_FAILED');
    });

    it('refuses to delete an app while a live deployment exists (409), then deletes once stopped', async () => {
      const { app, version } = await seedVersion(call);
      const requestId = await registerServer(call, { app, version });
      expectError(await call('DELETE', `/v1/app/${app}`), 409, 'APP_IN_USE');
      assert.equal((await call('GET', `/v1/app/${app}`)).status, 200);
      assert.equal((await call('DELETE', `/v1/stop/${requestId}`)).status, 200);
      assert.equal((await call('DELETE', `/v1/app/${app}`)).status, 200);
      expectError(await call('GET', `/v1/app/${app}`), 404);
    });
  });

  describe('versions', () => {
    it('creates, reads, lists, patches and deletes a version; private_token never returned', async () => {
      const tenant = await newTenant(t);
      await tenant('POST', '/v1/app', { name: 'game', is_active: true, image: '' });
      const body = versionBody('v1', {
        private_username: 'bot',
        private_token: 'hunter2',
        ports: [{ port: 7777, protocol: 'UDP', name: 'game' }],
        envs: [
          { key: 'MODE', value: 'ranked' },
          { key: 'SECRET', value: 's3cret', is_secret: true },
        ],
      });
      const created = await tenant('POST', '/v1/app/game/version', body);
      expectOk(created, 'AppVersionCreateResponse');
      assert.equal(created.body.success, true);
      assert.equal(created.body.version.name, 'v1');
      assert.equal(created.body.version.is_active, true);
      assert.deepEqual(created.body.version.session_config, {
        kind: 'Seat',
        sockets: 8,
        autodeploy: false,
        empty_ttl: 5,
        session_max_duration: 90,
      });
      assert.deepEqual(created.body.version.ports, [{ port: 7777, protocol: 'UDP', name: 'game' }]);
      assert.equal(created.body.version.private_username, 'bot');
      assert.doesNotMatch(JSON.stringify(created.body), /hunter2|s3cret|private_token/);

      const got = await tenant('GET', '/v1/app/game/version/v1');
      expectOk(got, 'AppVersionPayload');
      assert.deepEqual(got.body, created.body.version);

      await tenant(
        'POST',
        '/v1/app/game/version',
        versionBody('v2', { session_config: { kind: 'Match', sockets: 2 } }),
      );
      const listed = await tenant('GET', '/v1/app/game/versions');
      expectOk(listed, 'AppVersionList');
      assert.equal(listed.body.total_count, 2);
      assert.deepEqual(
        listed.body.versions.map((v: { name: string }) => v.name),
        ['v1', 'v2'],
      );
      assert.equal(listed.body.versions[1].session_config.session_max_duration, 60);
      assert.doesNotMatch(JSON.stringify(listed.body), /hunter2|s3cret|private_token/);

      const patched = await tenant('PATCH', '/v1/app/game/version/v1', {
        is_active: false,
        session_config: { sockets: 16 },
        private_token: 'new-secret',
      });
      assert.equal(patched.status, 200, JSON.stringify(patched.body));
      assert.equal(patched.body.success, true);
      assert.equal(patched.body.version.is_active, false);
      assert.deepEqual(patched.body.version.session_config, {
        kind: 'Seat',
        sockets: 16,
        autodeploy: false,
        empty_ttl: 5,
        session_max_duration: 90,
      });
      assert.equal(patched.body.version.docker_image, 'game');
      assert.doesNotMatch(JSON.stringify(patched.body), /new-secret|private_token/);

      const renamed = await tenant('PATCH', '/v1/app/game/version/v1', { name: 'v1b' });
      assert.equal(renamed.body.version.name, 'v1b');
      expectError(await tenant('GET', '/v1/app/game/version/v1'), 404, 'VERSION_NOT_FOUND');

      const deleted = await tenant('DELETE', '/v1/app/game/version/v1b');
      expectOk(deleted, 'AppVersionDelete');
      assert.equal(deleted.body.success, true);
      expectError(await tenant('GET', '/v1/app/game/version/v1b'), 404, 'VERSION_NOT_FOUND');
      assert.equal((await tenant('GET', '/v1/app/game/versions')).body.total_count, 1);
    });

    it('answers 409 for duplicates and 404 for unknown apps and versions', async () => {
      const tenant = await newTenant(t);
      await tenant('POST', '/v1/app', { name: 'g', is_active: true, image: '' });
      await tenant('POST', '/v1/app/g/version', versionBody('a'));
      await tenant('POST', '/v1/app/g/version', versionBody('b'));
      expectError(await tenant('POST', '/v1/app/g/version', versionBody('a')), 409, 'VERSION_EXISTS');
      expectError(await tenant('PATCH', '/v1/app/g/version/b', { name: 'a' }), 409, 'VERSION_EXISTS');
      expectError(await tenant('POST', '/v1/app/nope/version', versionBody('a')), 404, 'APP_NOT_FOUND');
      expectError(await tenant('GET', '/v1/app/nope/version/a'), 404);
      expectError(await tenant('GET', '/v1/app/g/version/zzz'), 404, 'VERSION_NOT_FOUND');
      expectError(await tenant('PATCH', '/v1/app/g/version/zzz', { is_active: true }), 404, 'VERSION_NOT_FOUND');
      expectError(await tenant('DELETE', '/v1/app/g/version/zzz'), 404, 'VERSION_NOT_FOUND');
      expectError(await tenant('GET', '/v1/app/nope/versions'), 404, 'APP_NOT_FOUND');
    });

    it('validates session_config (kind, sockets ≥ 1, session_max_duration ≥ 60) with 400', async () => {
      const tenant = await newTenant(t);
      await tenant('POST', '/v1/app', { name: 'g', is_active: true, image: '' });
      for (const session_config of [
        { kind: 'Seats', sockets: 1 },
        { kind: 'Seat', sockets: 0 },
        { kind: 'Seat', sockets: 2, session_max_duration: 59 },
        { kind: 'Seat' },
      ]) {
        expectError(
          await tenant('POST', '/v1/app/g/version', versionBody('x', { session_config })),
          400,
          'VALIDATION_FAILED',
        );
      }
      expectError(await tenant('POST', '/v1/app/g/version', { name: 'x' }), 400, 'VALIDATION_FAILED');
      assert.equal((await tenant('GET', '/v1/app/g/versions')).body.total_count, 0);
    });

    it('refuses to delete a version while a live deployment exists (409)', async () => {
      const { app, version } = await seedVersion(call);
      const requestId = await registerServer(call, { app, version });
      expectError(await call('DELETE', `/v1/app/${app}/version/${version}`), 409, 'VERSION_IN_USE');
      assert.equal((await call('GET', `/v1/app/${app}/version/${version}`)).status, 200);
      await call('DELETE', `/v1/stop/${requestId}`);
      expectOk(await call('DELETE', `/v1/app/${app}/version/${version}`), 'AppVersionDelete');
    });
  });
});
