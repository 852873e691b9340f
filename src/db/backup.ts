/**
 * Logical backups through Rallypoint itself, for the embedded and the external database alike
 * (no pg_dump needed). The file is JSON lines:
 *   {"format":"rallypoint-backup","version":1,"created_at":…,"migrations":[…]}
 *   {"table":"organisations"}  then one {"r":{…row…}} line per row, for every table, parents first
 *   {"sequences":[{"name":…,"last_value":…}]}
 *   {"end":{"rows":{"organisations":1,…}}}
 * Every table is read in one REPEATABLE READ snapshot, so the file is one consistent moment.
 * A restore goes into an empty database, in one transaction, then sets every sequence (identities
 * included) to where it was, and finally applies the migrations this build has beyond the backup.
 */
import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { access, link, unlink } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import type { Db, Queryable } from './db.js';
import { loadMigrations, migrate, migrationStatus, MigrationRefusedError, type Migration } from './migrate.js';
import {
  insertRowsFromJson,
  selectRowsAsJson,
  selectSequences,
  selectTableHasRows,
  selectTablesWithReferences,
  selectWritableColumns,
  setSequenceValue,
  setUserTriggers,
} from './queries/backup.js';

export const BACKUP_FORMAT = 'rallypoint-backup';
export const BACKUP_VERSION = 1;
const PAGE_ROWS = 2_000;
const INSERT_ROWS = 500;
/** Bookkeeping of the schema, not data: the restore makes its own by migrating. */
const SKIPPED_TABLES = new Set(['schema_migrations']);

/** A backup file that cannot be restored here, or a database that cannot take it. */
export class BackupRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BackupRefusedError';
  }
}

/** Tables parents first, so rows can be inserted in file order without breaking foreign keys. */
function parentsFirst(tables: Array<{ table: string; references: string[] }>): string[] {
  const ordered: string[] = [];
  const placed = new Set<string>();
  let remaining = tables.filter((t) => !SKIPPED_TABLES.has(t.table));
  while (remaining.length > 0) {
    const ready = remaining.filter((t) =>
      t.references.every((r) => placed.has(r) || r === t.table || SKIPPED_TABLES.has(r)),
    );
    if (ready.length === 0)
      throw new Error(`foreign keys form a cycle between ${remaining.map((t) => t.table).join(', ')}`);
    for (const t of ready) {
      ordered.push(t.table);
      placed.add(t.table);
    }
    remaining = remaining.filter((t) => !placed.has(t.table));
  }
  return ordered;
}

/**
 * Writes the whole database to `file`. Returns the number of rows of each table.
 * @example const counts = await backupDatabase(db, '/var/backups/rallypoint.jsonl');
 */
export async function backupDatabase(db: Db, file: string): Promise<Record<string, number>> {
  // Refused before reading the whole database, not after.
  if (
    await access(file).then(
      () => true,
      () => false,
    )
  )
    throw Object.assign(new Error(`${file} already exists`), { code: 'EEXIST' });
  // Written beside the target and linked into place when complete: FILE is never a half-written
  // backup, and link() refuses (EEXIST) a file that appeared meanwhile, where rename() would replace it.
  const partial = `${file}.partial`;
  const out = createWriteStream(partial, { flags: 'wx', mode: 0o600 });
  await once(out, 'open');
  let isComplete = false;
  const write = async (line: string) => {
    if (!out.write(`${line}\n`)) await once(out, 'drain');
  };
  const counts: Record<string, number> = {};
  try {
    await db.transaction(async (tx) => {
      await tx.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY');
      const applied = (await migrationStatus(tx)).filter((m) => m.state === 'applied');
      await write(
        JSON.stringify({
          format: BACKUP_FORMAT,
          version: BACKUP_VERSION,
          created_at: new Date().toISOString(),
          migrations: applied.map((m) => m.name),
        }),
      );
      for (const table of parentsFirst(await selectTablesWithReferences(tx))) {
        await write(JSON.stringify({ table }));
        counts[table] = await copyTableOut(tx, table, write);
      }
      const sequences = await selectSequences(tx);
      await write(JSON.stringify({ sequences: sequences.map((s) => ({ name: s.name, last_value: s.lastValue })) }));
      await write(JSON.stringify({ end: { rows: counts } }));
    });
    isComplete = true;
  } finally {
    out.end();
    await once(out, 'close');
    if (!isComplete) await unlink(partial).catch(() => undefined);
  }
  try {
    await link(partial, file);
  } finally {
    await unlink(partial);
  }
  return counts;
}

async function copyTableOut(tx: Queryable, table: string, write: (line: string) => Promise<void>): Promise<number> {
  let after = '(0,0)';
  let count = 0;
  for (;;) {
    const page = await selectRowsAsJson(tx, table, after, PAGE_ROWS);
    for (const row of page) await write(`{"r":${row.json}}`);
    count += page.length;
    if (page.length < PAGE_ROWS) return count;
    after = page[page.length - 1]!.ctid;
  }
}

interface BackupHeader {
  format: string;
  version: number;
  migrations: string[];
}

/** The migrations of this build the backup was taken at: its list must be a prefix of ours. */
function migrationsOfBackup(header: BackupHeader, known: Migration[]): Migration[] {
  if (header.format !== BACKUP_FORMAT || header.version !== BACKUP_VERSION) {
    throw new BackupRefusedError(`not a Rallypoint backup of format version ${BACKUP_VERSION}`);
  }
  const prefix = known.slice(0, header.migrations.length);
  if (header.migrations.length > known.length || prefix.some((m, i) => m.name !== header.migrations[i])) {
    throw new BackupRefusedError(
      `the backup's schema (${header.migrations.at(-1) ?? 'none'}) is not one this build of Rallypoint knows (${known.at(-1)?.name}): ` +
        'restore it with the version that took it, or a newer one',
    );
  }
  return prefix;
}

/** Migrates an empty database to the backup's schema; refuses one that is further or has data. */
async function prepareEmptyDatabase(db: Db, atBackup: Migration[], known: Migration[]): Promise<void> {
  const status = await migrationStatus(db, known);
  const applied = status.filter((m) => m.state !== 'pending');
  if (applied.length > atBackup.length) {
    throw new BackupRefusedError(
      `the database is already at migration ${applied.at(-1)!.name}, past the backup's ${atBackup.at(-1)?.name}: restore into a new, empty database`,
    );
  }
  try {
    await migrate(db, { migrations: atBackup });
  } catch (error) {
    if (error instanceof MigrationRefusedError) throw new BackupRefusedError(error.message);
    throw error;
  }
}

async function assertEmpty(tx: Queryable, tables: string[]): Promise<void> {
  for (const table of tables) {
    if (await selectTableHasRows(tx, table))
      throw new BackupRefusedError(
        `the database is not empty (table ${table} has rows): restore into a new, empty database`,
      );
  }
}

/**
 * Restores `file` into an empty database and migrates it to this build's schema. Returns the
 * rows restored per table. Nothing is written unless the whole file is read to its end marker.
 * @example await restoreDatabase(db, '/var/backups/rallypoint.jsonl');
 */
export async function restoreDatabase(db: Db, file: string): Promise<Record<string, number>> {
  const lines = createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity })[Symbol.asyncIterator]();
  const first = await lines.next();
  let header: BackupHeader;
  try {
    header = JSON.parse(first.done ? '' : first.value) as BackupHeader;
  } catch {
    throw new BackupRefusedError('not a Rallypoint backup (the first line is not its JSON header)');
  }
  const known = await loadMigrations();
  await prepareEmptyDatabase(db, migrationsOfBackup(header, known), known);
  const counts = await db.transaction(async (tx) => {
    const tables = parentsFirst(await selectTablesWithReferences(tx));
    await assertEmpty(tx, tables);
    for (const table of tables) await setUserTriggers(tx, table, false);
    const restored = await copyTablesIn(tx, lines, new Set(tables));
    for (const table of tables) await setUserTriggers(tx, table, true);
    return restored;
  });
  await migrate(db, { migrations: known });
  return counts;
}

interface ControlLine {
  table?: string;
  sequences?: Array<{ name: string; last_value: number | null }>;
  end?: { rows: Record<string, number> };
}

function parseControlLine(line: string): ControlLine {
  try {
    return JSON.parse(line) as ControlLine;
  } catch {
    throw new BackupRefusedError(
      `the backup is damaged: a line is not JSON (${line.slice(0, 40)}): nothing was restored`,
    );
  }
}

async function copyTablesIn(
  tx: Queryable,
  lines: AsyncIterator<string>,
  tables: Set<string>,
): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  let table: string | undefined;
  let columns: string[] = [];
  let batch: string[] = [];
  const flush = async () => {
    if (table !== undefined && batch.length > 0) await insertRowsFromJson(tx, table, columns, `[${batch.join(',')}]`);
    batch = [];
  };
  for (let next = await lines.next(); !next.done; next = await lines.next()) {
    const line = next.value;
    if (line.startsWith('{"r":')) {
      if (table === undefined) throw new BackupRefusedError('the backup has a row before any table');
      batch.push(line.slice(5, -1));
      counts[table] = (counts[table] ?? 0) + 1;
      if (batch.length >= INSERT_ROWS) await flush();
      continue;
    }
    await flush();
    const control = parseControlLine(line);
    if (control.table !== undefined) {
      if (!tables.has(control.table))
        throw new BackupRefusedError(`the backup has a table this schema lacks: ${control.table}`);
      table = control.table;
      columns = await selectWritableColumns(tx, table);
    } else if (control.sequences) {
      for (const s of control.sequences) await setSequenceValue(tx, s.name, s.last_value ?? 1, s.last_value !== null);
    } else if (control.end) {
      const names = new Set([...Object.keys(control.end.rows), ...Object.keys(counts)]);
      if ([...names].some((name) => (control.end!.rows[name] ?? 0) !== (counts[name] ?? 0))) {
        throw new BackupRefusedError('the backup is damaged: its row counts do not match its rows');
      }
      return counts;
    }
  }
  throw new BackupRefusedError('the backup is incomplete (no end marker): nothing was restored');
}
