/**
 * Operator commands (`migrate`, `admin`, `backup`, `restore`) work on the database directly, as
 * the service does: the same settings (DATABASE_URL, else the embedded database in
 * RALLYPOINT_DATA_DIR) and the same openDb(). They need no API key and no running service.
 */
import { ConfigError, loadConfig, type Config } from '../config.js';
import type { Db } from '../db/db.js';
import { assertMigrated, MigrationRefusedError } from '../db/migrate.js';
import { openCheckedDb, StartFailure } from '../start-failure.js';
import { UsageError, type CommandContext, type OptionSpecs } from './command.js';

export const LOCAL_DB_HELP = [
  'Works on the database directly: DATABASE_URL, else the embedded database in RALLYPOINT_DATA_DIR',
  '(stop the service first when it uses the embedded database: one process may open it at a time).',
  '--json           print JSON for scripts',
];
export const LOCAL_DB_OPTIONS: OptionSpecs = { json: { type: 'boolean' } };

/** A failure the operator must act on, printed as one line (exit 1). */
export class OperatorError extends Error {}

/** Commands that read or write data need this build's schema; the refusal says how to get it. */
async function assertMigratedForOperator(db: Db): Promise<void> {
  try {
    await assertMigrated(db);
  } catch (error) {
    if (error instanceof MigrationRefusedError) throw new OperatorError(error.message);
    throw error;
  }
}

/**
 * Opens the configured database, runs `fn`, and closes it whatever happens. Unless
 * `requireSchema` is false (migrate, restore), the database must be at this build's schema.
 */
export async function withLocalDb<T>(
  ctx: CommandContext,
  fn: (db: Db, config: Config) => Promise<T>,
  options: { requireSchema?: boolean } = {},
): Promise<T> {
  let config: Config;
  try {
    config = loadConfig(ctx.io.env);
  } catch (error) {
    if (error instanceof ConfigError) throw new UsageError(error.problems.join('; '));
    throw error;
  }
  let db: Db;
  try {
    db = await openCheckedDb({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, poolSize: 2 });
  } catch (error) {
    throw error instanceof StartFailure ? new OperatorError(error.message) : error;
  }
  try {
    if (options.requireSchema !== false) await assertMigratedForOperator(db);
    return await fn(db, config);
  } finally {
    await db.close();
  }
}
