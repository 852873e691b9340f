/**
 * The migrations bookkeeping table. Created by the migrator itself (not by a migration), so
 * every statement here must work on a database at any version, including an empty one.
 */
import type { Queryable } from '../db.js';

/** Any fixed number; every process that migrates takes the same lock. */
const MIGRATION_LOCK = 72_616_001;

export interface AppliedMigrationRow {
  id: number;
  name: string;
  /** sha256 of the SQL as applied; null on databases migrated before checksums were recorded. */
  checksum: string | null;
  appliedAt: Date;
}

/** Makes the next lock wait of this transaction fail (SQLSTATE 55P03) after timeoutMs. */
export async function setTransactionLockTimeout(tx: Queryable, timeoutMs: number): Promise<void> {
  await tx.query(`SET LOCAL lock_timeout = '${Math.max(1, Math.floor(timeoutMs))}ms'`);
}

/** Held until the transaction ends: one process migrates at a time. */
export async function lockMigrations(tx: Queryable): Promise<void> {
  await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
}

export async function createMigrationsTable(tx: Queryable): Promise<void> {
  await tx.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    id integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
}

/** Databases made before checksums were recorded lack the column. */
export async function addMigrationsChecksumColumn(tx: Queryable): Promise<void> {
  await tx.exec('ALTER TABLE schema_migrations ADD COLUMN IF NOT EXISTS checksum text');
}

/** Whether the bookkeeping table exists (read-only status on a database never migrated). */
export async function selectMigrationsTableExists(db: Queryable): Promise<boolean> {
  const { rows } = await db.query<{ present: boolean }>(
    "SELECT to_regclass('schema_migrations') IS NOT NULL AS present",
  );
  return rows[0]?.present === true;
}

/** Whether the table has its checksum column (status on a database migrated by an older build). */
export async function selectMigrationsHaveChecksums(db: Queryable): Promise<boolean> {
  const { rows } = await db.query(
    "SELECT 1 FROM information_schema.columns WHERE table_name = 'schema_migrations' AND column_name = 'checksum' AND table_schema = current_schema()",
  );
  return rows.length > 0;
}

export async function selectAppliedMigrations(
  db: Queryable,
  options: { withChecksums: boolean },
): Promise<AppliedMigrationRow[]> {
  const { rows } = await db.query<{ id: number; name: string; checksum: string | null; applied_at: Date }>(
    `SELECT id, name, ${options.withChecksums ? 'checksum' : 'NULL::text AS checksum'}, applied_at FROM schema_migrations ORDER BY id`,
  );
  return rows.map((r) => ({ id: r.id, name: r.name, checksum: r.checksum, appliedAt: r.applied_at }));
}

export async function updateMigrationChecksum(tx: Queryable, id: number, checksum: string): Promise<void> {
  await tx.query('UPDATE schema_migrations SET checksum = $2 WHERE id = $1 AND checksum IS NULL', [id, checksum]);
}

export async function insertAppliedMigration(
  tx: Queryable,
  migration: { id: number; name: string; checksum: string },
): Promise<void> {
  await tx.query('INSERT INTO schema_migrations (id, name, checksum) VALUES ($1, $2, $3)', [
    migration.id,
    migration.name,
    migration.checksum,
  ]);
}
