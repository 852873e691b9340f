/**
 * Operators' administration: `rallypoint admin` makes a second organisation whose key works and
 * which sees nothing of the first; rename, list, delete (refused with live deployments unless
 * forced); a new key for a locked-out organisation. Over HTTP, the last active key of an
 * organisation cannot be revoked.
 */
import { describe, it } from '../support/node-test.js';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import pg from 'pg';
import { client, registerServer, seedVersion, useTestService } from '../support/harness.js';
import { mainScript } from '../support/processes.js';

const cliScript = mainScript.replace(/main\.js$/, 'cli/main.js');

function admin(args: string[], databaseUrl: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [cliScript, 'admin', ...args],
      { env: { PATH: process.env['PATH'] ?? '', DATABASE_URL: databaseUrl }, timeout: 60_000 },
      (error, stdout, stderr) => {
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout, stderr });
      },
    );
  });
}

async function json(args: string[], databaseUrl: string): Promise<any> {
  const result = await admin([...args, '--json'], databaseUrl);
  assert.equal(result.code, 0, result.stderr);
  return JSON.parse(result.stdout);
}

/** Polls until `check` passes; the service trusts a verified key for a few seconds. */
async function eventually(check: () => Promise<void>, timeoutMs = 15_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (performance.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}

describe('the last active key', () => {
  const { t, call } = useTestService();

  it('cannot be revoked over HTTP (409 LAST_ACTIVE_KEY); once another exists it can', async () => {
    const keys = await call('GET', '/v1/keys');
    const [only] = keys.body.keys.filter((k: { revoked: boolean }) => !k.revoked);
    const refused = await call('DELETE', `/v1/keys/${only.key_id}`);
    assert.equal(refused.status, 409);
    assert.deepEqual(refused.body, {
      code: 'LAST_ACTIVE_KEY',
      message: `API key ${only.key_id} is the organisation's last active key; create another one before revoking it.`,
    });
    const second = await call('POST', '/v1/keys', { name: 'second' });
    assert.equal(second.status, 200);
    const revoked = await call('DELETE', `/v1/keys/${only.key_id}`);
    assert.equal(revoked.status, 200);
    assert.equal(revoked.body.revoked, true);
    const withSecond = client(t.url, second.body.key);
    assert.equal((await withSecond('DELETE', `/v1/keys/${second.body.key_id}`)).status, 409);
  });
});

describe('rallypoint admin', { timeout: 300_000 }, () => {
  const { t, call } = useTestService();

  it('creates a second organisation whose key works and which sees nothing of the first', async () => {
    const databaseUrl = t.databaseUrl!;
    const { app: appOfA } = await seedVersion(call);
    const made = await json(['org', 'create', 'studio-b'], databaseUrl);
    assert.equal(made.name, 'studio-b');
    assert.match(made.key, /^rp_[A-Za-z0-9_-]{40,}$/);
    const asB = client(t.url, made.key);
    assert.deepEqual((await asB('GET', '/v1/apps')).body, { applications: [] });
    assert.equal((await asB('GET', `/v1/app/${appOfA}`)).status, 404);
    const { app: appOfB } = await seedVersion(asB);
    assert.deepEqual(
      (await call('GET', '/v1/apps')).body.applications.map((a: { name: string }) => a.name),
      [appOfA],
    );

    const duplicate = await admin(['org', 'create', 'studio-b'], databaseUrl);
    assert.equal(duplicate.code, 1);
    assert.equal(duplicate.stderr, 'error: An organisation is already named "studio-b". (ORG_EXISTS)\n');
    assert.equal((await admin(['org', 'rename', 'studio-b', 'studio-c'], databaseUrl)).code, 0);
    const listed = (await json(['org', 'list'], databaseUrl)).organisations;
    assert.deepEqual(
      listed.map((o: { name: string; active_keys: number; apps: number }) => [o.name, o.active_keys, o.apps]),
      [
        ['default', 1, 1],
        ['studio-c', 1, 1],
      ],
    );

    await registerServer(asB, { app: appOfB, version: 'v1' });
    // Locked out: its only key is lost (here: revoked in the database); the operator gives it a new one.
    const sql = new pg.Client({ connectionString: databaseUrl });
    await sql.connect();
    await sql.query('UPDATE api_keys SET revoked_at = now() WHERE key_id = $1', [made.key_id]);
    await sql.end();
    await eventually(async () => assert.equal((await asB('GET', '/v1/apps')).status, 401));
    const recovery = await json(['keys', 'create', 'studio-c', '--name', 'recovery'], databaseUrl);
    assert.equal(recovery.name, 'recovery');
    const asRecovered = client(t.url, recovery.key);
    assert.equal((await asRecovered('GET', '/v1/apps')).body.applications[0].name, appOfB);

    const operator = await admin(['org', 'delete', 'default', '--force'], databaseUrl);
    assert.equal(operator.code, 1);
    assert.equal(
      operator.stderr,
      'error: Organisation "default" is the operator organisation (it manages the hosts); delete the others first. (ORG_IN_USE)\n',
    );
    const refused = await admin(['org', 'delete', 'studio-c'], databaseUrl);
    assert.equal(refused.code, 1);
    assert.equal(
      refused.stderr,
      'error: Organisation "studio-c" has 1 live deployment: stop them first, or delete with --force. (ORG_IN_USE)\n',
    );
    const deleted = await json(['org', 'delete', 'studio-c', '--force'], databaseUrl);
    assert.deepEqual(deleted, { id: made.id, name: 'studio-c', deleted: true, live_deployments_deleted: 1 });
    await eventually(async () => assert.equal((await asRecovered('GET', '/v1/apps')).status, 401));
    assert.deepEqual(
      (await json(['org', 'list'], databaseUrl)).organisations.map((o: { name: string }) => o.name),
      ['default'],
    );
    assert.equal((await call('GET', '/v1/apps')).status, 200, 'the first organisation is untouched');

    const unknown = await admin(['keys', 'create', 'nobody'], databaseUrl);
    assert.equal(unknown.code, 1);
    assert.equal(unknown.stderr, 'error: No organisation is named "nobody". (ORG_NOT_FOUND)\n');
    const noKeyNeeded = await admin(['org', 'list', '--key', 'x'], databaseUrl);
    assert.equal(noKeyNeeded.code, 2, 'admin takes no API key');
  });
});
