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

describe('Idempotency-Key', () => {
  let t: TestService;
  let call: ReturnType<typeof client>;
  let app: string;
  let requestId: string;
  const clock = new FakeClock(new Date());
  before(async () => {
    t = await startTestService({ clock });
    call = client(t.url, t.key);
    ({ app } = await seedVersion(call, { sockets: 100 }));
    requestId = await registerServer(call, { app, version: 'v1', sockets: 100 });
  });
  after(() => t.close());

  const usage = async () => (await call('GET', `/v1/status/${requestId}`)).body.sockets_usage as number;

  it('replays the first answer to a retry and takes seats once', async () => {
    const body = { app_name: app, ip_list: ['10.0.0.1', '10.0.0.2'] };
    const before = await usage();
    const first = await call('POST', '/v1/session', body, { 'idempotency-key': 'create-1' });
    const retry = await call('POST', '/v1/session', body, { 'idempotency-key': 'create-1' });
    assert.equal(first.status, 200);
    assert.equal(retry.status, 200);
    assert.deepEqual(retry.body, first.body);
    assert.equal(retry.headers.get('idempotent-replayed'), 'true');
    assert.equal(first.headers.get('idempotent-replayed'), null);
    assert.equal(await usage(), before + 2);
  });

  it('has one effect when retries race the first call', async () => {
    const body = { app_name: app, ip_list: ['10.0.1.1'] };
    const before = await usage();
    const answers = await Promise.all(
      Array.from({ length: 8 }, () => call('POST', '/v1/session', body, { 'idempotency-key': 'race-1' })),
    );
    const ids = new Set(answers.map((a) => a.body.session_id));
    assert.deepEqual(
      answers.map((a) => a.status),
      Array(8).fill(200),
    );
    assert.equal(ids.size, 1);
    assert.equal(await usage(), before + 1);
  });

  it('refuses the same key with another request', async () => {
    await call('POST', '/v1/session', { app_name: app, ip_list: ['10.0.2.1'] }, { 'idempotency-key': 'reuse-1' });
    const other = await call(
      'POST',
      '/v1/session',
      { app_name: app, ip_list: ['10.0.2.2'] },
      { 'idempotency-key': 'reuse-1' },
    );
    assert.equal(other.status, 422);
    assert.equal(other.body.code, 'IDEMPOTENCY_KEY_REUSED');
    assert.match(other.body.message, /different request/);
  });

  it('treats //v1/session and /v1/session/ as the same request, and another resource as another', async () => {
    const body = { app_name: app, ip_list: ['10.0.6.1'] };
    const first = await call('POST', '/v1/session', body, { 'idempotency-key': 'path-1' });
    assert.equal(first.status, 200);
    for (const path of ['//v1/session', '/v1/session/', '//v1//session/']) {
      const retry = await call('POST', path, body, { 'idempotency-key': 'path-1' });
      assert.equal(retry.status, 200, `${path}: ${JSON.stringify(retry.body)}`);
      assert.equal(retry.headers.get('idempotent-replayed'), 'true', path);
      assert.deepEqual(retry.body, first.body);
    }
    const other = await call('POST', '/v1/session', body);
    const deleted = await call('DELETE', `/v1/session/${first.body.session_id}/`, undefined, {
      'idempotency-key': 'path-2',
    });
    assert.equal(deleted.status, 200);
    const wrongTarget = await call('DELETE', `/v1/session/${other.body.session_id}`, undefined, {
      'idempotency-key': 'path-2',
    });
    assert.equal(wrongTarget.status, 422);
    assert.equal(wrongTarget.body.code, 'IDEMPOTENCY_KEY_REUSED');
  });

  it('replays a delete instead of answering 410', async () => {
    const created = await call('POST', '/v1/session', { app_name: app, ip_list: ['10.0.3.1'] });
    const path = `/v1/session/${created.body.session_id}`;
    const first = await call('DELETE', path, undefined, { 'idempotency-key': 'del-1' });
    const retry = await call('DELETE', path, undefined, { 'idempotency-key': 'del-1' });
    const unkeyed = await call('DELETE', path);
    assert.equal(first.status, 200);
    assert.deepEqual(retry.body, first.body);
    assert.equal(unkeyed.status, 410);
  });

  it('protects user changes and bulk stops', async () => {
    const created = await call('POST', '/v1/session', { app_name: app, ip_list: ['10.0.4.1'] });
    const users = `/v1/session/${created.body.session_id}/users`;
    const put1 = await call('PUT', users, { ip_list: ['10.0.4.2'] }, { 'idempotency-key': 'put-1' });
    const put2 = await call('PUT', users, { ip_list: ['10.0.4.2'] }, { 'idempotency-key': 'put-1' });
    assert.equal(put2.headers.get('idempotent-replayed'), 'true');
    assert.deepEqual(put2.body, put1.body);
    const filters = { filters: [{ field: 'session_id', filter_type: 'any', values: [created.body.session_id] }] };
    const stop1 = await call('POST', '/v1/sessions/bulk-stop', filters, { 'idempotency-key': 'bulk-1' });
    const stop2 = await call('POST', '/v1/sessions/bulk-stop', filters, { 'idempotency-key': 'bulk-1' });
    assert.deepEqual(stop1.body, { processable: [{ session_id: created.body.session_id }] });
    assert.deepEqual(stop2.body, stop1.body);
  });

  it('forgets keys after 24 hours', async () => {
    await call('POST', '/v1/session', { app_name: app, ip_list: ['10.0.5.1'] }, { 'idempotency-key': 'old-1' });
    clock.advance(24 * 60 * 60 * 1000 + 1000);
    const reused = await call(
      'POST',
      '/v1/session',
      { app_name: app, ip_list: ['10.0.5.2'] },
      { 'idempotency-key': 'old-1' },
    );
    assert.equal(reused.status, 200);
    assert.equal(reused.headers.get('idempotent-replayed'), null);
  });

  it('rejects malformed keys and ignores keys on read routes', async () => {
    const bad = await call('POST', '/v1/session', { app_name: app }, { 'idempotency-key': 'x'.repeat(300) });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.code, 'VALIDATION_FAILED');
    const read = await call('GET', '/v1/sessions', undefined, { 'idempotency-key': 'read-1' });
    assert.equal(read.status, 200);
    assert.equal(read.headers.get('idempotent-replayed'), null);
  });
});
