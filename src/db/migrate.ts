/**
 * Forward-only numbered SQL migrations, guarded: a database that has a migration this build does
 * not know (a newer Rallypoint ran on it) or whose applied migration file has changed since is
 * refused before anything is written; two processes starting at once take turns under an
 * advisory lock, and one that waits too long says so instead of hanging.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { pgErrorCode, type Db, type Queryable } from './db.js';
import {
  addMigrationsChecksumColumn,
  createMigrationsTable,
  insertAppliedMigration,
  lockMigrations,
  selectAppliedMigrations,
  selectMigrationsHaveChecksums,
  selectMigrationsTableExists,
  setTransactionLockTimeout,
  updateMigrationChecksum,
  type AppliedMigrationRow,
} from './queries/schema-migrations.js';

export const migrationsDir = fileURLToPath(new URL('./migrations/', import.meta.url));

/** How long a starting process waits for another one's migrations by default. */
export const DEFAULT_MIGRATION_LOCK_TIMEOUT_MS = 60_000;

export interface Migration {
  id: number;
  name: string;
  sql: string;
}

/** A database this build must not run on or migrate; the message says what to do. */
export class MigrationRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MigrationRefusedError';
  }
}

/** sha256 of the SQL; line endings are normalised so a checkout with CRLF is not "changed". */
export function migrationChecksum(sql: string): string {
  return createHash('sha256').update(sql.replace(/\r\n/g, '\n'), 'utf8').digest('hex');
}

export async function loadMigrations(dir = migrationsDir): Promise<Migration[]> {
  const files = (await readdir(dir)).filter((file) => /^\d{3}-[\w-]+\.sql$/.test(file)).sort();
  return Promise.all(
    files.map(async (file) => ({
      id: Number(file.slice(0, 3)),
      name: file.replace(/\.sql$/, ''),
      sql: await readFile(new URL(file, `file://${dir}`), 'utf8'),
    })),
  );
}

/** What is wrong with the applied migrations for this build, one sentence each (none: fine). */
export function findMigrationProblems(known: readonly Migration[], applied: readonly AppliedMigrationRow[]): string[] {
  const byId = new Map(known.map((m) => [m.id, m]));
  const problems: string[] = [];
  const unknown = applied.filter((row) => !byId.has(row.id));
  if (unknown.length > 0) {
    problems.push(
      `the database has migration${unknown.length > 1 ? 's' : ''} ${unknown.map((r) => r.name).join(', ')} that this build of Rallypoint ` +
        'does not know: a newer version ran on it. Run that version (or newer), or restore a backup taken before it',
    );
  }
  for (const row of applied) {
    const migration = byId.get(row.id);
    if (!migration) continue;
    if (migration.name !== row.name) {
      problems.push(
        `migration ${row.id} was applied as ${row.name} but this build calls it ${migration.name}: the migration files were changed`,
      );
    } else if (row.checksum !== null && row.checksum !== migrationChecksum(migration.sql)) {
      problems.push(
        `migration ${row.name} was changed after it was applied to this database (checksum differs): migrations are never edited once released; restore the original file`,
      );
    }
  }
  return problems;
}

async function lockOrExplain(tx: Parameters<Parameters<Db['transaction']>[0]>[0], timeoutMs: number): Promise<void> {
  await setTransactionLockTimeout(tx, timeoutMs);
  try {
    await lockMigrations(tx);
  } catch (error) {
    if (pgErrorCode(error) !== '55P03') throw error;
    throw new MigrationRefusedError(
      `another process has held the migration lock for over ${Math.round(timeoutMs / 1000)}s (it may be running long migrations). ` +
        'Wait for it and start again, or raise MIGRATION_LOCK_TIMEOUT_MS',
    );
  }
  // The lock is taken; statements of the migration itself are not bound by this wait limit.
  await tx.query('SET LOCAL lock_timeout = 0');
}

export interface MigrateOptions {
  /** The migrations of this build (default: the files beside this module). */
  migrations?: Migration[];
  lockTimeoutMs?: number;
}

/**
 * Applies pending migrations in order, each in its own transaction under the migration lock,
 * after checking the applied ones (refused: MigrationRefusedError). Records the checksum of
 * migrations applied before checksums existed. Returns the names applied by this call.
 * @example const applied = await migrate(db); // ['001-core', ...] on an empty database
 */
export async function migrate(db: Db, options: MigrateOptions | Migration[] = {}): Promise<string[]> {
  const { migrations, lockTimeoutMs = DEFAULT_MIGRATION_LOCK_TIMEOUT_MS } = Array.isArray(options)
    ? { migrations: options }
    : options;
  const known = migrations ?? (await loadMigrations());
  const appliedNow: string[] = [];
  for (;;) {
    const name = await db.transaction(async (tx) => {
      await lockOrExplain(tx, lockTimeoutMs);
      await createMigrationsTable(tx);
      await addMigrationsChecksumColumn(tx);
      const applied = await selectAppliedMigrations(tx, { withChecksums: true });
      const problems = findMigrationProblems(known, applied);
      if (problems.length > 0) throw new MigrationRefusedError(problems.join('; '));
      for (const row of applied.filter((r) => r.checksum === null)) {
        await updateMigrationChecksum(tx, row.id, migrationChecksum(known.find((m) => m.id === row.id)!.sql));
      }
      const done = new Set(applied.map((r) => r.id));
      const next = known.find((m) => !done.has(m.id));
      if (!next) return undefined;
      await tx.exec(next.sql);
      await insertAppliedMigration(tx, { id: next.id, name: next.name, checksum: migrationChecksum(next.sql) });
      return next.name;
    });
    if (name === undefined) return appliedNow;
    appliedNow.push(name);
  }
}

/** The bookkeeping rows, read-only: none on a database never migrated. */
async function readAppliedMigrations(db: Queryable): Promise<AppliedMigrationRow[]> {
  if (!(await selectMigrationsTableExists(db))) return [];
  return selectAppliedMigrations(db, { withChecksums: await selectMigrationsHaveChecksums(db) });
}

export interface MigrationStatus {
  id: number;
  name: string;
  state: 'applied' | 'pending' | 'changed' | 'unknown';
  appliedAt: Date | undefined;
}

/**
 * Each migration of this build and of the database, read without locking or writing anything.
 * @example for (const m of await migrationStatus(db)) console.log(m.name, m.state);
 */
export async function migrationStatus(db: Queryable, known?: Migration[]): Promise<MigrationStatus[]> {
  const all = known ?? (await loadMigrations());
  const applied = await readAppliedMigrations(db);
  const rows = new Map(applied.map((r) => [r.id, r]));
  const statuses: MigrationStatus[] = all.map((m) => {
    const row = rows.get(m.id);
    if (!row) return { id: m.id, name: m.name, state: 'pending', appliedAt: undefined };
    const isChanged = row.name !== m.name || (row.checksum !== null && row.checksum !== migrationChecksum(m.sql));
    return { id: m.id, name: m.name, state: isChanged ? 'changed' : 'applied', appliedAt: row.appliedAt };
  });
  const knownIds = new Set(all.map((m) => m.id));
  for (const row of applied)
    if (!knownIds.has(row.id))
      statuses.push({ id: row.id, name: row.name, state: 'unknown', appliedAt: row.appliedAt });
  return statuses.sort((a, b) => a.id - b.id);
}

/**
 * For a service that does not migrate at start: refuses a database that is not exactly at this
 * build's schema (pending, changed or unknown migrations).
 */
export async function assertMigrated(db: Db, known?: Migration[]): Promise<void> {
  const all = known ?? (await loadMigrations());
  const applied = await readAppliedMigrations(db);
  const problems = findMigrationProblems(all, applied);
  const done = new Set(applied.map((r) => r.id));
  const pending = all.filter((m) => !done.has(m.id));
  if (pending.length > 0)
    problems.push(
      `the database lacks migration${pending.length > 1 ? 's' : ''} ${pending.map((m) => m.name).join(', ')}: run \`rallypoint migrate up\` first`,
    );
  if (problems.length > 0) throw new MigrationRefusedError(problems.join('; '));
}
