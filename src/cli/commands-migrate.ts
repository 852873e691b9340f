/** `rallypoint migrate status|up`: for operators who migrate as a step of their deploy, before starting the service. */
import { migrate, migrationStatus } from '../db/migrate.js';
import type { Command } from './command.js';
import { LOCAL_DB_HELP, LOCAL_DB_OPTIONS, withLocalDb } from './local-db.js';
import { emit, table } from './output.js';

export const migrateCommands: Command[] = [
  {
    path: ['migrate', 'status'],
    summary: "List this build's migrations and the database's: applied, pending, changed or unknown",
    example: 'rallypoint migrate status --json',
    takesGlobalOptions: false,
    options: LOCAL_DB_OPTIONS,
    optionHelp: LOCAL_DB_HELP,
    async run(ctx) {
      const statuses = await withLocalDb(ctx, (db) => migrationStatus(db), { requireSchema: false });
      const view = statuses.map((s) => ({
        id: s.id,
        name: s.name,
        state: s.state,
        applied_at: s.appliedAt?.toISOString() ?? null,
      }));
      emit(ctx, { migrations: view }, () =>
        table(
          ['ID', 'NAME', 'STATE', 'APPLIED_AT'],
          view.map((s) => [s.id, s.name, s.state, s.applied_at]),
        ),
      );
      // A changed or unknown migration would stop the service: make scripts notice here too.
      return statuses.some((s) => s.state === 'changed' || s.state === 'unknown') ? 1 : 0;
    },
  },
  {
    path: ['migrate', 'up'],
    summary: 'Apply pending migrations (under the same lock and checks as a start)',
    example: 'rallypoint migrate up',
    takesGlobalOptions: false,
    options: LOCAL_DB_OPTIONS,
    optionHelp: LOCAL_DB_HELP,
    async run(ctx) {
      const applied = await withLocalDb(
        ctx,
        (db, config) => migrate(db, { lockTimeoutMs: config.migrationLockTimeoutMs }),
        { requireSchema: false },
      );
      emit(ctx, { applied }, () =>
        applied.length === 0 ? 'The database is up to date.\n' : applied.map((name) => `applied ${name}\n`).join(''),
      );
    },
  },
];
