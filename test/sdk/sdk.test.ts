import { after, before, describe, it } from '../support/node-test.js';
import assert from 'node:assert/strict';
import {
  Rallypoint,
  RallypointError,
  RallypointNetworkError,
  RallypointTimeoutError,
  type SessionGet,
} from '@rallypoint/sdk';
import { markDeploymentReady } from '../../src/app/deployment-lifecycle.js';
import { FRANKFURT, MONTREAL, startTestService, type TestService } from '../support/harness.js';
import { createFakeProvider, type FakeProvider } from './fake-provider.js';
import { closedPort, startFlakyProxy, startSilentServer, type FlakyProxy } from './test-servers.js';

const versionBody = (name: string, extra: { sockets?: number; autodeploy?: boolean } = {}) => ({
  name,
  docker_repository: 'registry.local',
  docker_image: 'game',
  docker_tag: '1',
  req_cpu: 256,
  req_memory: 256,
  session_config: { kind: 'Seat' as const, sockets: extra.sockets ?? 10, autodeploy: extra.autodeploy ?? false },
});

const serverBody = (app: string, version: string, tags: string[] = [], location = MONTREAL) => ({
  app_name: app,
  version_name: version,
  public_ip: '203.0.113.10',
  ports: [{ name: 'game', external: 7777, protocol: 'UDP' }],
  location,
  tags,
});

async function rejectsWith<T extends Error>(promise: Promise<unknown>, type: new (...args: any[]) => T): Promise<T> {
  try {
    await promise;
  } catch (error) {
    assert.ok(
      error instanceof type,
      `expected ${type.name}, got ${(error as Error)?.constructor?.name}: ${(error as Error)?.message}`,
    );
    return error;
  }
  assert.fail(`expected ${type.name}, but it resolved`);
}

describe('SDK against a live server', () => {
  let t: TestService;
  let rp: Rallypoint;
  let provider: FakeProvider;
  before(async () => {
    provider = createFakeProvider();
    t = await startTestService({ providers: [provider] });
    rp = new Rallypoint({ baseUrl: t.url, apiKey: t.key, retryDelayMs: 1 });
  });
  after(() => t.close());

  it('covers applications and versions', async () => {
    const app = await rp.apps.applicationPost({ name: 'sdk-apps', is_active: true, image: '' });
    assert.equal(app.name, 'sdk-apps');
    assert.equal((await rp.apps.applicationGet('sdk-apps')).is_active, true);
    assert.ok((await rp.apps.applicationsGet()).applications.some((a) => a.name === 'sdk-apps'));
    assert.equal((await rp.apps.applicationPatch('sdk-apps', { is_active: false })).is_active, false);
    const created = await rp.apps.appVersionPost('sdk-apps', versionBody('v1', { sockets: 4 }));
    assert.deepEqual([created.success, created.version.name, created.version.session_config?.sockets], [true, 'v1', 4]);
    assert.equal((await rp.apps.appVersionGet('sdk-apps', 'v1')).session_config?.kind, 'Seat');
    const list = await rp.apps.appVersionsGet('sdk-apps');
    assert.deepEqual([list.total_count, list.versions[0]?.name], [1, 'v1']);
    assert.equal(
      (await rp.apps.appVersionPatch('sdk-apps', 'v1', { session_config: { sockets: 8 } })).version.session_config
        ?.sockets,
      8,
    );
    assert.match((await rp.apps.appVersionDelete('sdk-apps', 'v1')).message, /v1/);
    assert.match((await rp.apps.applicationDelete('sdk-apps')).message, /sdk-apps/);
    const gone = await rejectsWith(rp.apps.applicationGet('sdk-apps'), RallypointError);
    assert.deepEqual([gone.status, gone.code], [404, 'APP_NOT_FOUND']);
  });

  it('covers the eight session operations', async () => {
    await rp.apps.applicationPost({ name: 'sdk-sessions', is_active: true, image: '' });
    await rp.apps.appVersionPost('sdk-sessions', versionBody('v1', { sockets: 4 }));
    const server = await rp.deployments.registerServer(serverBody('sdk-sessions', 'v1', ['eu']));
    const created = await rp.sessions.sessionPost({
      app_name: 'sdk-sessions',
      ip_list: ['1.2.3.4'],
      custom_id: 'mine',
    });
    assert.deepEqual(
      [created.version, created.deployment_request_id, created.custom_id],
      ['v1', server.request_id, 'mine'],
    );
    const got = await rp.sessions.getSession(created.session_id);
    assert.deepEqual([got.status, got.ready, got.deployment?.request_id], ['Ready', true, server.request_id]);
    assert.deepEqual(
      (await rp.sessions.putUsersSession(created.session_id, { ip_list: ['5.6.7.8'] })).session_users
        .map((u) => u.ip)
        .sort(),
      ['1.2.3.4', '5.6.7.8'],
    );
    assert.deepEqual((await rp.sessions.getUsersSession(created.session_id)).session_users.length, 2);
    assert.deepEqual(
      (await rp.sessions.deleteUsersSession(created.session_id, { ip_list: ['1.2.3.4'] })).session_users.map(
        (u) => u.ip,
      ),
      ['5.6.7.8'],
    );
    const listed = await rp.sessions.listSessions({ limit: 10 });
    assert.ok(listed.data.some((s) => s.session_id === created.session_id));
    assert.equal(listed.pagination.number, 1);
    const deleted = await rp.sessions.sessionDelete(created.session_id);
    assert.equal(deleted.message, `Session ${created.session_id} will be deleted`);
    const second = await rp.sessions.sessionPost({ app_name: 'sdk-sessions', ip_list: ['9.9.9.9'] });
    const stopped = await rp.sessions.sessionsBulkStop({
      filters: [{ field: 'deployment_tags', values: ['eu'], filter_type: 'any' }],
    });
    assert.deepEqual(stopped.processable, [{ session_id: second.session_id }]);
  });

  it('turns an unknown session into RallypointError SESSION_NOT_FOUND', async () => {
    const error = await rejectsWith(rp.sessions.getSession('000000000000-S'), RallypointError);
    assert.deepEqual([error.status, error.code], [404, 'SESSION_NOT_FOUND']);
    assert.match(error.message, /000000000000-S/);
    assert.ok(error.requestId, 'carries the x-request-id');
    const unauthorised = await rejectsWith(
      new Rallypoint({ baseUrl: t.url, apiKey: 'wrong' }).sessions.listSessions(),
      RallypointError,
    );
    assert.deepEqual([unauthorised.status, unauthorised.code], [401, 'UNAUTHORIZED']);
  });

  it('covers deployments, registered servers and heartbeats', async () => {
    await rp.apps.applicationPost({ name: 'sdk-deploy', is_active: true, image: '' });
    await rp.apps.appVersionPost('sdk-deploy', versionBody('v1'));
    const request = await rp.deployments.deploy({ app_name: 'sdk-deploy', ip_list: ['1.2.3.4'], tags: ['blue'] });
    assert.deepEqual([request.request_app, request.request_version], ['sdk-deploy', 'v1']);
    await t.service.jobs.runDue();
    const status = await rp.deployments.deploymentStatusGet(request.request_id);
    assert.deepEqual(
      [status.request_id, status.provider, status.public_ip],
      [request.request_id, 'fake', '198.51.100.20'],
    );
    assert.deepEqual(await rp.deployments.deploymentUpdate(request.request_id, { is_joinable_by_session: false }), {
      is_joinable_by_session: false,
    });
    const page = await rp.deployments.deploymentsGet({ limit: 100 });
    assert.ok(page.data.some((d) => d.request_id === request.request_id && d.is_joinable_by_session === false));
    const stopped = await rp.deployments.deploymentDelete(request.request_id);
    assert.match(stopped.message, new RegExp(request.request_id));
    const server = await rp.deployments.registerServer({
      ...serverBody('sdk-deploy', 'v1', ['green'], FRANKFURT),
      heartbeat_timeout_seconds: 60,
    });
    assert.equal((await rp.deployments.heartbeat(server.request_id)).current_status, 'Status.READY');
    const bulk = await rp.deployments.deploymentsBulkStop({
      filters: [{ field: 'deployment_tags', values: ['green'], filter_type: 'any' }],
    });
    assert.deepEqual(bulk.processable, [{ request_id: server.request_id }]);
  });

  it('covers API keys', async () => {
    const created = await rp.keys.createKey({ name: 'sdk' });
    assert.equal(created.name, 'sdk');
    const other = new Rallypoint({ baseUrl: t.url, apiKey: created.key });
    assert.ok(Array.isArray((await other.apps.applicationsGet()).applications));
    assert.ok((await rp.keys.listKeys()).keys.some((k) => k.key_id === created.key_id && !k.revoked));
    assert.equal((await rp.keys.revokeKey(created.key_id)).revoked, true);
    const refused = await rejectsWith(other.apps.applicationsGet(), RallypointError);
    assert.equal(refused.status, 401);
  });

  it('covers the webhook secret and delivery log', async () => {
    const secret = (await rp.webhooks.getWebhookSecret()).webhook_secret;
    const rotated = (await rp.webhooks.rotateWebhookSecret()).webhook_secret;
    assert.notEqual(rotated, secret);
    assert.equal((await rp.webhooks.getWebhookSecret()).webhook_secret, rotated);
    await rp.apps.applicationPost({ name: 'sdk-hooks', is_active: true, image: '' });
    await rp.apps.appVersionPost('sdk-hooks', versionBody('v1'));
    await rp.deployments.registerServer(serverBody('sdk-hooks', 'v1'));
    const url = 'http://203.0.113.50/hook';
    const { session_id } = await rp.sessions.sessionPost({
      app_name: 'sdk-hooks',
      ip_list: ['1.2.3.4'],
      webhook_url: url,
    });
    const { deliveries } = await rp.webhooks.listWebhookDeliveries({ session_id, limit: 10 });
    assert.ok(deliveries.length >= 1, 'the Ready transition wrote a delivery');
    assert.ok(deliveries.every((d) => d.session_id === session_id && d.url === url));
    const notDead = await rejectsWith(rp.webhooks.replayWebhookDelivery(deliveries[0]!.delivery_id), RallypointError);
    assert.deepEqual([notDead.status, notDead.code], [409, 'DELIVERY_NOT_DEAD']);
    const missing = await rejectsWith(rp.webhooks.replayWebhookDelivery('nope'), RallypointError);
    assert.deepEqual([missing.status, missing.code], [404, 'DELIVERY_NOT_FOUND']);
  });

  describe('waitForReady', () => {
    before(async () => {
      await rp.apps.applicationPost({ name: 'sdk-wait', is_active: true, image: '' });
      await rp.apps.appVersionPost('sdk-wait', versionBody('fixed', { sockets: 2 }));
      await rp.apps.appVersionPost('sdk-wait', versionBody('auto', { sockets: 2, autodeploy: true }));
    });

    it('resolves with a session that is ready', async () => {
      await rp.deployments.registerServer(serverBody('sdk-wait', 'fixed'));
      const { session_id } = await rp.sessions.sessionPost({
        app_name: 'sdk-wait',
        version_name: 'fixed',
        ip_list: ['1.1.1.1'],
      });
      const ready = await rp.sessions.waitForReady(session_id, { intervalMs: 5 });
      assert.deepEqual([ready.session_id, ready.status, ready.ready], [session_id, 'Ready', true]);
    });

    it("rejects with the session's error when it is Unprocessable", async () => {
      const { session_id } = await rp.sessions.sessionPost({
        app_name: 'sdk-wait',
        version_name: 'fixed',
        ip_list: ['1.1.1.1', '2.2.2.2', '3.3.3.3'],
      });
      const session = await rp.sessions.getSession(session_id);
      assert.equal(session.status, 'Unprocessable');
      const error = await rejectsWith(rp.sessions.waitForReady(session_id, { intervalMs: 5 }), RallypointError);
      assert.deepEqual([error.code, error.message], ['SESSION_UNPROCESSABLE', session.error]);
      assert.equal((error.details as SessionGet).session_id, session_id);
    });

    it('keeps polling while Waiting and resolves once the deployment is ready', async () => {
      const { session_id } = await rp.sessions.sessionPost({
        app_name: 'sdk-wait',
        version_name: 'auto',
        ip_list: ['4.4.4.4'],
        location: { latitude: 45, longitude: -73 },
      });
      const seen: string[] = [];
      let released = false;
      const waiting = rp.sessions.waitForReady(session_id, {
        intervalMs: 5,
        onPoll: (s) => {
          seen.push(s.status);
          // Once a Waiting state has been observed, let the provider finish starting it.
          if (!released && s.status === 'Waiting') {
            released = true;
            void (async () => {
              await t.service.jobs.runDue();
              const started = provider.started.at(-1);
              assert.ok(started);
              await markDeploymentReady(t.service.deps, started.id);
            })();
          }
        },
      });
      const ready = await waiting;
      assert.equal(ready.status, 'Ready');
      assert.equal(seen[0], 'Waiting');
      assert.equal(ready.deployment?.public_ip, '198.51.100.20');
    });

    it('rejects with RallypointTimeoutError when it never becomes ready, and honours an abort signal', async () => {
      const { session_id } = await rp.sessions.sessionPost({
        app_name: 'sdk-wait',
        version_name: 'auto',
        ip_list: ['5.5.5.5', '6.6.6.6'],
        location: FRANKFURT,
      });
      assert.equal((await rp.sessions.getSession(session_id)).status, 'Waiting');
      const timeout = await rejectsWith(
        rp.sessions.waitForReady(session_id, { timeoutMs: 50, intervalMs: 5 }),
        RallypointTimeoutError,
      );
      assert.equal(timeout.timeoutMs, 50);
      const controller = new AbortController();
      const reason = new Error('caller gave up');
      const aborted = rp.sessions.waitForReady(session_id, {
        intervalMs: 5,
        signal: controller.signal,
        onPoll: () => controller.abort(reason),
      });
      await assert.rejects(aborted, (error) => error === reason);
    });
  });

  it('iterates over every page of sessions and deployments', async () => {
    const fresh = await startTestService();
    try {
      const client = new Rallypoint({ baseUrl: fresh.url, apiKey: fresh.key });
      await client.apps.applicationPost({ name: 'sdk-pages', is_active: true, image: '' });
      await client.apps.appVersionPost('sdk-pages', versionBody('v1', { sockets: 100 }));
      for (let i = 0; i < 3; i++)
        await client.deployments.registerServer({ ...serverBody('sdk-pages', 'v1'), public_ip: `203.0.113.${i + 1}` });
      const ids: string[] = [];
      for (let i = 0; i < 5; i++)
        ids.push(
          (await client.sessions.sessionPost({ app_name: 'sdk-pages', ip_list: [`10.0.0.${i + 1}`] })).session_id,
        );
      const seenSessions: string[] = [];
      for await (const s of client.sessions.iterateSessions({ limit: 2 })) seenSessions.push(s.session_id);
      assert.deepEqual([...seenSessions].sort(), [...ids].sort());
      const seenDeployments: string[] = [];
      for await (const d of client.deployments.iterateDeployments({ limit: 2 })) seenDeployments.push(d.public_ip);
      assert.deepEqual(seenDeployments.sort(), ['203.0.113.1', '203.0.113.2', '203.0.113.3']);
    } finally {
      await fresh.close();
    }
  });

  describe('failures and retries', () => {
    let proxy: FlakyProxy;
    before(async () => {
      proxy = await startFlakyProxy(t.url);
    });
    after(() => proxy.close());

    it('raises RallypointNetworkError when nothing listens', async () => {
      const port = await closedPort();
      const client = new Rallypoint({
        baseUrl: `http://127.0.0.1:${port}`,
        apiKey: t.key,
        retries: 1,
        retryDelayMs: 1,
      });
      const error = await rejectsWith(client.apps.applicationsGet(), RallypointNetworkError);
      assert.ok(!(error instanceof RallypointError));
      assert.match(error.message, /ECONNREFUSED/);
    });

    it('raises RallypointTimeoutError when the server never answers', async () => {
      const silent = await startSilentServer();
      try {
        const client = new Rallypoint({
          baseUrl: silent.url,
          apiKey: t.key,
          timeoutMs: 100,
          retries: 1,
          retryDelayMs: 1,
        });
        const error = await rejectsWith(client.sessions.getSession('abc-S'), RallypointTimeoutError);
        assert.equal(error.timeoutMs, 100);
        assert.equal(silent.requests(), 2, 'an idempotent GET is retried once after a timeout');
      } finally {
        await silent.close();
      }
    });

    it('retries a GET through two 503s (honouring Retry-After) and returns the answer', async () => {
      proxy.failNext(2, { retryAfterSeconds: 0 });
      const client = new Rallypoint({ baseUrl: proxy.url, apiKey: t.key, retries: 2, retryDelayMs: 1 });
      const result = await client.apps.applicationsGet();
      assert.ok(Array.isArray(result.applications));
      assert.deepEqual(
        proxy.log.map((r) => [r.method, r.status]),
        [
          ['GET', 503],
          ['GET', 503],
          ['GET', 200],
        ],
      );
    });

    it('retries a POST with one Idempotency-Key across attempts', async () => {
      proxy.failNext(2);
      const client = new Rallypoint({ baseUrl: proxy.url, apiKey: t.key, retries: 3, retryDelayMs: 1 });
      const app = await client.apps.applicationPost({ name: 'sdk-retried', is_active: true, image: '' });
      assert.equal(app.name, 'sdk-retried');
      const keys = proxy.log.map((r) => r.idempotencyKey);
      assert.equal(keys.length, 3);
      assert.ok(keys[0] && keys.every((k) => k === keys[0]), `one key for every attempt: ${keys.join(',')}`);
    });

    it('does not retry a POST without retries, nor a 4xx', async () => {
      proxy.failNext(1);
      const client = new Rallypoint({ baseUrl: proxy.url, apiKey: t.key, retries: 0 });
      const error = await rejectsWith(
        client.apps.applicationPost({ name: 'sdk-once', is_active: true, image: '' }),
        RallypointError,
      );
      assert.deepEqual([error.status, error.code], [503, 'SERVICE_UNAVAILABLE']);
      assert.deepEqual(
        proxy.log.map((r) => [r.status, r.idempotencyKey]),
        [[503, undefined]],
      );
      proxy.failNext(0);
      const retrying = new Rallypoint({ baseUrl: proxy.url, apiKey: t.key, retries: 3, retryDelayMs: 1 });
      await rejectsWith(retrying.sessions.getSession('000000000000-S'), RallypointError);
      assert.deepEqual(
        proxy.log.map((r) => r.status),
        [404],
      );
    });

    it('gives up after the configured retries with the last API error', async () => {
      proxy.failNext(5);
      const client = new Rallypoint({ baseUrl: proxy.url, apiKey: t.key, retries: 2, retryDelayMs: 1 });
      const error = await rejectsWith(client.keys.listKeys(), RallypointError);
      assert.equal(error.status, 503);
      assert.equal(proxy.log.length, 3);
    });
  });
});
