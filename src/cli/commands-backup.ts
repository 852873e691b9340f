/** `rallypoint backup FILE` / `rallypoint restore FILE`: a logical copy of the whole database (format in src/db/backup.ts). */
import { backupDatabase, BackupRefusedError, restoreDatabase } from '../db/backup.js';
import type { Command } from './command.js';
import { LOCAL_DB_HELP, LOCAL_DB_OPTIONS, OperatorError, withLocalDb } from './local-db.js';
import { emit } from './output.js';

function fileError(file: string, error: unknown): never {
  const code = (error as { code?: unknown } | null)?.code;
  if (error instanceof BackupRefusedError) throw new OperatorError(`cannot restore ${file}: ${error.message}`);
  if (code === 'EEXIST') throw new OperatorError(`${file} already exists: a backup never overwrites a file`);
  if (code === 'ENOENT') throw new OperatorError(`${file}: no such file or directory`);
  if (code === 'EACCES') throw new OperatorError(`${file}: permission denied`);
  throw error;
}

function summary(counts: Record<string, number>): string {
  return (
    Object.entries(counts)
      .filter(([, n]) => n > 0)
      .map(([table, n]) => `${table} ${n}`)
      .join(', ') || 'no rows'
  );
}

export const backupCommands: Command[] = [
  {
    path: ['backup'],
    summary: 'Write every table to FILE, as one consistent snapshot (JSON lines)',
    args: '<file>',
    minArgs: 1,
    example: 'rallypoint backup /var/backups/rallypoint-$(date +%F).jsonl',
    takesGlobalOptions: false,
    options: LOCAL_DB_OPTIONS,
    optionHelp: LOCAL_DB_HELP,
    async run(ctx) {
      const file = ctx.positionals[0]!;
      const counts = await withLocalDb(ctx, (db) => backupDatabase(db, file)).catch((error: unknown) =>
        fileError(file, error),
      );
      emit(ctx, { file, rows: counts }, () => `Backed up to ${file}: ${summary(counts)}.\n`);
    },
  },
  {
    path: ['restore'],
    summary: 'Load a backup into an empty database, then migrate it to this build',
    args: '<file>',
    minArgs: 1,
    example: 'rallypoint restore /var/backups/rallypoint.jsonl',
    takesGlobalOptions: false,
    options: LOCAL_DB_OPTIONS,
    optionHelp: LOCAL_DB_HELP,
    async run(ctx) {
      const file = ctx.positionals[0]!;
      const counts = await withLocalDb(ctx, (db) => restoreDatabase(db, file), { requireSchema: false }).catch(
        (error: unknown) => fileError(file, error),
      );
      emit(ctx, { file, rows: counts }, () => `Restored ${file}: ${summary(counts)}.\n`);
    },
  },
];
