/**
 * The migration guard: a newer schema, a changed migration and a held lock each stop the
 * migrator with a message saying what to do; checksums are recorded on databases that had none;
 * `rallypoint migrate status|up` work on the database directly.
 */
import { describe, it } from '../support/node-test.js';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import pg from 'pg';
import type { Db } from '../../src/db/db.js';
import {
  loadMigrations,
  migrate,
  MigrationRefusedError,
  migrationStatus,
  type Migration,
} from '../../src/db/migrate.js';
import { openDb } from '../../src/db/open-db.js';
import { createTestDatabase } from '../support/harness.js';
import { mainScript } from '../support/processes.js';

const cliScript = mainScript.replace(/main\.js$/, 'cli/main.js');

async function freshDb(): Promise<{ db: Db; databaseUrl: string }> {
  const databaseUrl = await createTestDatabase();
  return { db: await openDb({ databaseUrl, dataDir: '', poolSize: 2 }), databaseUrl };
}

async function refusal(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(error instanceof MigrationRefusedError, `expected a refusal, got ${String(error)}`);
  return error.message;
}

function runCli(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [cliScript, ...args],
      { env: { PATH: process.env['PATH'] ?? '', ...env }, timeout: 60_000 },
      (error, stdout, stderr) => {
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout, stderr });
      },
    );
  });
}

describe('guarded migrations', { timeout: 120_000 }, () => {
  let known: Migration[];

  it('refuses a database with a migration this build does not know', async () => {
    known = await loadMigrations();
    const { db } = await freshDb();
    try {
      const newer: Migration = { id: 999, name: '999-from-the-future', sql: 'CREATE TABLE future_things (id int)' };
      assert.equal((await migrate(db, [...known, newer])).length, known.length + 1);
      const message = await refusal(migrate(db, known));
      assert.equal(
        message,
        'the database has migration 999-from-the-future that this build of Rallypoint does not know: a newer version ran on it. ' +
          'Run that version (or newer), or restore a backup taken before it',
      );
      assert.deepEqual((await migrationStatus(db, known)).at(-1), {
        id: 999,
        name: '999-from-the-future',
        state: 'unknown',
        appliedAt: (await migrationStatus(db, known)).at(-1)!.appliedAt,
      });
    } finally {
      await db.close();
    }
  });

  it('refuses a migration changed after it was applied, and records checksums where none were', async () => {
    const { db } = await freshDb();
    try {
      await migrate(db, known);
      await db.query('UPDATE schema_migrations SET checksum = NULL');
      assert.deepEqual(await migrate(db, known), [], 'nothing to apply');
      const { rows } = await db.query<{ n: number }>(
        'SELECT count(*) AS n FROM schema_migrations WHERE checksum IS NULL',
      );
      assert.equal(rows[0]!.n, 0, 'checksums recorded on the first run of the guarded migrator');
      const edited = known.map((m, i) => (i === 1 ? { ...m, sql: `${m.sql}\n-- tweaked` } : m));
      assert.equal(
        await refusal(migrate(db, edited)),
        `migration ${known[1]!.name} was changed after it was applied to this database (checksum differs): ` +
          'migrations are never edited once released; restore the original file',
      );
      assert.equal((await migrationStatus(db, edited))[1]!.state, 'changed');
      const crlf = known.map((m) => ({ ...m, sql: m.sql.replace(/\n/g, '\r\n') }));
      assert.deepEqual(await migrate(db, crlf), [], 'line endings are not a change');
    } finally {
      await db.close();
    }
  });

  it('gives up with a clear message when another process holds the lock too long', async () => {
    const { db, databaseUrl } = await freshDb();
    const holder = new pg.Client({ connectionString: databaseUrl });
    await holder.connect();
    try {
      await holder.query('SELECT pg_advisory_lock(72616001)');
      const started = performance.now();
      const message = await refusal(migrate(db, { migrations: known, lockTimeoutMs: 500 }));
      assert.match(
        message,
        /^another process has held the migration lock for over 1s .* raise MIGRATION_LOCK_TIMEOUT_MS$/,
      );
      assert.ok(performance.now() - started < 30_000);
      await holder.query('SELECT pg_advisory_unlock(72616001)');
      assert.equal(
        (await migrate(db, { migrations: known, lockTimeoutMs: 500 })).length,
        known.length,
        'migrates once the lock is free',
      );
    } finally {
      await holder.end();
      await db.close();
    }
  });

  it('rallypoint migrate status and up, and a service that must not migrate refuses a stale database', async () => {
    const databaseUrl = await createTestDatabase();
    const env = { DATABASE_URL: databaseUrl };
    const before = await runCli(['migrate', 'status', '--json'], env);
    assert.equal(before.code, 0, before.stderr);
    assert.deepEqual(
      JSON.parse(before.stdout).migrations.map((m: { state: string }) => m.state),
      known.map(() => 'pending'),
    );

    const refused = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        [mainScript],
        { env: { PATH: process.env['PATH'] ?? '', ...env, PORT: '0', MIGRATE_ON_START: 'false' }, timeout: 60_000 },
        (error, _out, stderr) =>
          resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stderr }),
      );
    });
    assert.equal(refused.code, 1);
    assert.match(
      refused.stderr,
      /^rallypoint: could not start: the database lacks migrations 001-core, .*: run `rallypoint migrate up` first \(MIGRATE_ON_START is false\)\n$/,
    );
    // An operator command on the same database gets the same advice, without the service's setting.
    const adminRefused = await runCli(['admin', 'org', 'list'], env);
    assert.equal(adminRefused.code, 1);
    assert.match(
      adminRefused.stderr,
      /^error: the database lacks migrations 001-core, .*: run `rallypoint migrate up` first\n$/,
    );

    const up = await runCli(['migrate', 'up'], env);
    assert.equal(up.code, 0, up.stderr);
    assert.equal(up.stdout, known.map((m) => `applied ${m.name}\n`).join(''));
    assert.equal((await runCli(['migrate', 'up'], env)).stdout, 'The database is up to date.\n');
    const after = await runCli(['migrate', 'status'], env);
    assert.match(after.stdout, new RegExp(`^${known.at(-1)!.id} +${known.at(-1)!.name} +applied +\\d{4}-`, 'm'));

    const sql = new pg.Client({ connectionString: databaseUrl });
    await sql.connect();
    await sql.query("INSERT INTO schema_migrations (id, name, checksum) VALUES (999, '999-newer', 'x')");
    await sql.end();
    const status = await runCli(['migrate', 'status'], env);
    assert.equal(status.code, 1, 'an unknown migration makes status fail');
    assert.match(status.stdout, /^999 +999-newer +unknown/m);
    const upRefused = await runCli(['migrate', 'up'], env);
    assert.equal(upRefused.code, 1);
    assert.match(
      upRefused.stderr,
      /^error: the database has migration 999-newer that this build of Rallypoint does not know/,
    );
  });
});
