import { after, before, describe, eventually, it } from '../support/node-test.js';
import assert from 'node:assert/strict';
import { createApp } from '../../src/app/apps.js';
import { createSession } from '../../src/app/sessions.js';
import { createVersion } from '../../src/app/versions.js';
import { insertDeployment } from '../../src/db/queries/deployments.js';
import { DeploymentStatus } from '../../src/domain/session-rules.js';
import { startTestService, type TestService } from '../support/harness.js';

/**
 * The create's statement first skips deployments other transactions hold; when that finds
 * nothing but places have room, it runs again waiting for them. These hold the only deployment
 * while a create runs, so only that waiting pass can decide the outcome.
 */
describe('session create waits for held deployments', { timeout: 60_000 }, () => {
  let t: TestService;
  let orgId: number;
  before(async () => {
    t = await startTestService();
    orgId = (await t.service.deps.db.query<{ id: number }>('SELECT id FROM organisations ORDER BY id LIMIT 1')).rows[0]!
      .id;
    assert.ok((await createApp(t.service.deps, orgId, { name: 'held', isActive: true, image: '' })).ok);
  });
  after(() => t.close());

  /** A version with one READY deployment of two sockets; its row id. */
  async function oneDeployment(name: string): Promise<number> {
    const deps = t.service.deps;
    const version = await createVersion(deps, orgId, 'held', { name, session_config: { kind: 'Seat', sockets: 2 } });
    assert.ok(version.ok);
    const record = await insertDeployment(deps.db, {
      requestId: `held-${name}`,
      orgId,
      appId: version.value.appId,
      versionId: version.value.id,
      provider: 'registered',
      status: DeploymentStatus.ready,
      publicIp: '',
      fqdn: '',
      ports: {},
      place: {
        city: 'Montreal',
        country: 'Canada',
        continent: 'North America',
        administrativeDivision: '',
        region: '',
        timezone: '',
        latitude: 45.5,
        longitude: -73.6,
      },
      tags: [],
      sockets: 2,
      socketsUsage: 0,
      requestUserCount: 0,
      webhookUrl: null,
      command: null,
      arguments: null,
      env: [],
      providerData: {},
      heartbeatTimeoutSeconds: null,
      now: new Date(),
    });
    return record.id;
  }

  /** Runs a create while another transaction holds deployment `id`, doing `whileHeld` before releasing it. */
  async function createWhileHeld(id: number, version: string, whileHeld: string) {
    const deps = t.service.deps;
    // Boxed: returning the promise itself would make the holder wait for the create before committing.
    const { created } = await deps.db.transaction(async (holder) => {
      await holder.query('SELECT id FROM deployments WHERE id = $1 FOR UPDATE', [id]);
      const created = createSession(deps, orgId, { app_name: 'held', version_name: version, ip_list: ['203.0.113.7'] });
      // A create that finishes without waiting never reached the waiting pass: fail at once.
      let settled: unknown;
      void created.then((r) => {
        settled = r;
      });
      await eventually('the create to wait for the held deployment', async () => {
        const { rows } = await deps.db.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock'`,
        );
        if (settled) throw new Error(`create finished without waiting: ${JSON.stringify(settled)}`);
        return rows[0]!.n > 0;
      });
      await holder.query(whileHeld, [id]);
      return { created };
    });
    return created;
  }

  it('links the session once the holder lets the deployment go', async () => {
    const id = await oneDeployment('v-release');
    const created = await createWhileHeld(id, 'v-release', 'SELECT $1::bigint');
    assert.ok(created.ok);
    assert.equal(created.value.outcome, 'linked');
    assert.equal(created.value.deployment?.id, id);
    assert.equal(created.value.deployment?.socketsUsage, 1);
  });

  it('refuses the session when the holder filled the deployment', async () => {
    const id = await oneDeployment('v-fill');
    const created = await createWhileHeld(id, 'v-fill', 'UPDATE deployments SET sockets_usage = sockets WHERE id = $1');
    assert.ok(created.ok);
    assert.equal(created.value.outcome, 'unprocessable');
    assert.equal(created.value.deployment, null);
  });
});
