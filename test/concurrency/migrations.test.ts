/**
 * Two processes started at the same moment on an EMPTY PostgreSQL database: both must come up,
 * migrations must be applied once, and the first-start bootstrap must create one organisation
 * that both processes serve.
 */
import { after, describe, it } from '../support/node-test.js';
import assert from 'node:assert/strict';
import pg from 'pg';
import { loadMigrations } from '../../src/db/migrate.js';
import { client, createTestDatabase } from '../support/harness.js';
import { spawnServer, stopAll, type ServerProcess } from '../support/processes.js';

describe('two processes starting at once on an empty database', () => {
  let servers: ServerProcess[] = [];
  after(() => stopAll(servers));

  it('both come up, migrations apply once, and one organisation is bootstrapped', async () => {
    const databaseUrl = await createTestDatabase();
    const key = `rp_race_${Date.now().toString(16)}`;
    const results = await Promise.allSettled([spawnServer({ databaseUrl, key }), spawnServer({ databaseUrl, key })]);
    servers = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    for (const r of results) assert.equal(r.status, 'fulfilled', r.status === 'rejected' ? String(r.reason) : '');

    const sql = new pg.Client({ connectionString: databaseUrl });
    await sql.connect();
    try {
      const orgs = await sql.query<{ n: string }>('SELECT count(*) AS n FROM organisations');
      assert.equal(Number(orgs.rows[0]!.n), 1);
      const keys = await sql.query<{ n: string }>('SELECT count(*) AS n FROM api_keys');
      assert.equal(Number(keys.rows[0]!.n), 1, 'the configured key is stored once, not once per process');
      const applied = await sql.query<{ id: number }>('SELECT id FROM schema_migrations ORDER BY id');
      assert.deepEqual(
        applied.rows.map((r) => r.id),
        (await loadMigrations()).map((m) => m.id),
      );
    } finally {
      await sql.end();
    }

    // Both processes serve the same organisation: an app made through one is listed by the other.
    const [a, b] = servers.map((s) => client(s.url, key));
    const created = await a!('POST', '/v1/app', { name: 'race-app', is_active: true, image: '' });
    assert.equal(created.status, 200, JSON.stringify(created.body));
    const listed = await b!('GET', '/v1/apps');
    assert.equal(listed.status, 200);
    assert.deepEqual(
      listed.body.applications.map((x: { name: string }) => x.name),
      ['race-app'],
    );
  });
});
