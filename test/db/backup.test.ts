/**
 * Backups: a database with organisations, keys, sessions, deployments and webhook deliveries is
 * written to a file and restored into an empty database; the rows come back identical, the old
 * keys work, and new rows get fresh ids. The CLI does the same through the real binary.
 */
import { after, describe, it } from '../support/node-test.js';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmod, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { backupDatabase, BackupRefusedError, restoreDatabase } from '../../src/db/backup.js';
import type { Db } from '../../src/db/db.js';
import { openDb } from '../../src/db/open-db.js';
import {
  client,
  createTestDatabase,
  registerServer,
  seedVersion,
  startTestService,
  useTestService,
  type TestService,
} from '../support/harness.js';
import { mainScript } from '../support/processes.js';

const cliScript = mainScript.replace(/main\.js$/, 'cli/main.js');
const COMPARED = ['organisations', 'api_keys', 'apps', 'versions', 'deployments', 'sessions', 'webhook_deliveries'];

async function rowsOf(db: Db, table: string): Promise<string[]> {
  const { rows } = await db.query<{ row: string }>(`SELECT row_to_json(t)::text AS row FROM ${table} t ORDER BY 1`);
  return rows.map((r) => r.row);
}

async function emptyDb(): Promise<{ db: Db; databaseUrl: string }> {
  const databaseUrl = await createTestDatabase();
  return { db: await openDb({ databaseUrl, dataDir: '', poolSize: 2 }), databaseUrl };
}

function cli(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [cliScript, ...args],
      { env: { PATH: process.env['PATH'] ?? '', ...env }, timeout: 280_000 },
      (error, stdout, stderr) => {
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout, stderr });
      },
    );
  });
}

describe('backup and restore', { timeout: 900_000 }, () => {
  const { t, call } = useTestService();
  // Searchable by others: the embedded PostgreSQL runs as its own user when the tests run as root.
  const dir = mkdtemp(join(tmpdir(), 'rp-backup-')).then(async (path) => (await chmod(path, 0o755), path));
  let restoredService: TestService | undefined;
  after(() => restoredService?.close());

  async function seed(): Promise<void> {
    const { app, version } = await seedVersion(call, { sockets: 4 });
    await registerServer(call, { app, version });
    for (const ip of ['1.2.3.4', '5.6.7.8']) {
      const created = await call('POST', '/v1/session', {
        app_name: app,
        ip_list: [ip],
        webhook_url: 'http://127.0.0.1:9/hook',
        custom_id: `c-${ip}`,
      });
      assert.equal(created.status, 200, JSON.stringify(created.body));
    }
    assert.equal((await call('POST', '/v1/keys', { name: 'spare "quoted" \n key' })).status, 200);
  }

  it('round-trips sessions, deployments, keys and webhook state; identities continue', async () => {
    await seed();
    const source = t.service.deps.db;
    const file = join(await dir, 'rallypoint.jsonl');
    const counts = await backupDatabase(source, file);
    assert.equal(counts['sessions'], 2);
    assert.ok((counts['webhook_deliveries'] ?? 0) >= 1, 'webhook deliveries are in the backup');

    const { db: target, databaseUrl } = await emptyDb();
    assert.deepEqual(
      await restoreDatabase(target, file),
      Object.fromEntries(Object.entries(counts).filter(([, n]) => n > 0)),
    );
    for (const table of COMPARED)
      assert.deepEqual(await rowsOf(target, table), await rowsOf(source, table), `${table} differs after the restore`);

    const again = await restoreDatabase(target, file).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(again instanceof BackupRefusedError);
    assert.match(
      again.message,
      /^the database is not empty \(table \w+ has rows\): restore into a new, empty database$/,
    );

    // A service on the restored database: the old key works, new rows get ids past the old ones.
    restoredService = await startTestService({ db: target, databaseUrl });
    const asOld = client(restoredService.url, t.key);
    const sessions = await asOld('GET', '/v1/sessions');
    assert.equal(sessions.status, 200);
    assert.equal(sessions.body.total_count, 2);
    const { app } = await seedVersion(asOld);
    const { rows } = await target.query<{ n: number }>('SELECT count(*) AS n FROM apps');
    assert.equal(rows[0]!.n, 2, `a new app is added after the restored one (${app})`);
  });

  it('refuses a truncated or foreign file and writes nothing', async () => {
    const file = join(await dir, 'full.jsonl');
    await backupDatabase(t.service.deps.db, file);
    const lines = (await readFile(file, 'utf8')).trimEnd().split('\n');
    const truncated = join(await dir, 'truncated.jsonl');
    await writeFile(truncated, `${lines.slice(0, -1).join('\n')}\n`);
    const { db } = await emptyDb();
    try {
      const error = await restoreDatabase(db, truncated).then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.ok(error instanceof BackupRefusedError);
      assert.equal(error.message, 'the backup is incomplete (no end marker): nothing was restored');
      assert.deepEqual(await rowsOf(db, 'organisations'), [], 'the transaction rolled back');
      const damaged = join(await dir, 'damaged.jsonl');
      await writeFile(damaged, `${lines.slice(0, 2).join('\n')}\n{"table":\n`);
      const garbled = await restoreDatabase(db, damaged).then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.ok(garbled instanceof BackupRefusedError, String(garbled));
      assert.equal(garbled.message, 'the backup is damaged: a line is not JSON ({"table":): nothing was restored');
      const foreign = join(await dir, 'foreign.jsonl');
      await writeFile(foreign, 'hello\n');
      const refused = await restoreDatabase(db, foreign).then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.equal((refused as Error).message, 'not a Rallypoint backup (the first line is not its JSON header)');
      const exists = await backupDatabase(db, file).then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.equal((exists as { code?: string }).code, 'EEXIST', 'a backup never overwrites a file');
    } finally {
      await db.close();
    }
  });

  for (const where of ['external', 'embedded'] as const) {
    it(`rallypoint backup and restore through the real binary, ${where} database`, async () => {
      const file = join(await dir, `cli-${where}.jsonl`);
      let source: Record<string, string>;
      let target: Record<string, string>;
      if (where === 'external') {
        source = { DATABASE_URL: t.databaseUrl! };
        target = { DATABASE_URL: await createTestDatabase() };
      } else {
        // The embedded database: a data directory made by the CLI itself.
        source = { RALLYPOINT_DATA_DIR: join(await dir, 'data-a') };
        target = { RALLYPOINT_DATA_DIR: join(await dir, 'data-b') };
        assert.equal((await cli(['migrate', 'up'], source)).code, 0);
        assert.equal((await cli(['admin', 'org', 'create', 'studio-a'], source)).code, 0);
      }
      const backup = await cli(['backup', file], source);
      assert.equal(backup.code, 0, backup.stderr);
      assert.match(backup.stdout, new RegExp(`^Backed up to ${file}: .*organisations \\d+.*api_keys \\d+`));
      const restore = await cli(['restore', file, '--json'], target);
      assert.equal(restore.code, 0, restore.stderr);
      assert.ok(JSON.parse(restore.stdout).rows.organisations >= 1);
      const orgs = await cli(['admin', 'org', 'list', '--json'], target);
      assert.equal(orgs.code, 0, orgs.stderr);
      const before = await cli(['admin', 'org', 'list', '--json'], source);
      assert.deepEqual(JSON.parse(orgs.stdout), JSON.parse(before.stdout));
      const twice = await cli(['restore', file], target);
      assert.equal(twice.code, 1);
      assert.match(twice.stderr, /^error: cannot restore .*: the database is not empty \(table \w+ has rows\)/);
    });
  }
});
