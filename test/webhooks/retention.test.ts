/**
 * Finished webhook deliveries do not pile up: delivered and dead ones are deleted
 * WEBHOOK_RETENTION_HOURS after they were written, pending ones never, and a target with nothing
 * pending and no answer for as long is forgotten.
 */
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
import { startReceiver, type Receiver } from './receiver.js';

const HOUR_MS = 3_600_000;

describe('webhook retention', () => {
  const clock = new FakeClock();
  let t: TestService;
  let call: ReturnType<typeof client>;
  let app: string;
  let ok: Receiver;
  let failing: Receiver;

  before(async () => {
    t = await startTestService({
      clock,
      env: { WEBHOOK_RETENTION_HOURS: '1', WEBHOOK_MAX_AGE_MS: String(30 * 24 * HOUR_MS), WEBHOOK_TIMEOUT_MS: '500' },
    });
    call = client(t.url, t.key);
    let version: string;
    ({ app, version } = await seedVersion(call, { sockets: 100 }));
    await registerServer(call, { app, version, sockets: 100 });
    ok = await startReceiver(() => 200);
    failing = await startReceiver(() => 'hang');
  });
  after(async () => {
    await t?.close();
    await ok?.close();
    await failing?.close();
  });

  async function session(url: string): Promise<string> {
    const created = await call('POST', '/v1/session', { app_name: app, ip_list: ['1.2.3.4'], webhook_url: url });
    assert.equal(created.status, 200, JSON.stringify(created.body));
    return created.body.session_id as string;
  }
  async function states(): Promise<Record<string, string>> {
    const { rows } = await t.service.deps.db.query<{ session_id: string; state: string }>(
      'SELECT session_id, state FROM webhook_deliveries',
      [],
    );
    return Object.fromEntries(rows.map((r) => [r.session_id, r.state]));
  }

  it('deletes delivered deliveries past the retention, keeps pending ones, forgets idle targets', async () => {
    const delivered = await session(ok.url);
    const pending = await session(failing.url);
    assert.equal(await t.service.webhooks.runDue(), 2);
    assert.deepEqual(await states(), { [delivered]: 'delivered', [pending]: 'pending' });
    // A target heard from long ago with nothing pending, beside the failing one that has a delivery pending.
    await t.service.deps.db.query(
      `INSERT INTO webhook_targets (target, consecutive_failures, last_failure_at) VALUES ('http://gone.example:80', 1, $1)`,
      [clock.now()],
    );

    clock.advance(30 * 60_000);
    await t.service.webhooks.runDue();
    const recent = await session(ok.url);
    await t.service.webhooks.runDue();
    assert.equal((await states())[delivered], 'delivered', 'kept within the retention');

    clock.advance(45 * 60_000);
    await t.service.webhooks.runDue();
    const after = await states();
    assert.equal(after[delivered], undefined, 'deleted once written more than an hour ago');
    assert.equal(after[pending], 'pending', 'a pending delivery is never deleted, however old');
    assert.equal(after[recent], 'delivered', 'a younger one stays');
    const { rows: targets } = await t.service.deps.db.query<{ target: string }>(
      'SELECT target FROM webhook_targets ORDER BY target',
      [],
    );
    const names = targets.map((r) => r.target);
    assert.ok(!names.includes('http://gone.example:80'), 'an idle target is forgotten');
    assert.ok(
      names.some((name) => name.endsWith(`:${failing.port}`)),
      `the failing target with a pending delivery is kept: ${names.join(', ')}`,
    );
  });
});
