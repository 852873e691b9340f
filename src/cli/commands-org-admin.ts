/**
 * `rallypoint admin …`: organisations and their keys, for the operator of a Rallypoint. Works on
 * the database directly (see local-db.ts), so it needs no API key: it is also how an
 * organisation that lost every key gets a new one.
 */
import {
  createKeyForOrganisation,
  createNamedOrganisation,
  deleteOrganisation,
  listOrganisations,
  renameOrganisation,
} from '../app/organisations.js';
import type { Result } from '../domain/errors.js';
import { flag, str, type Command } from './command.js';
import { LOCAL_DB_HELP, LOCAL_DB_OPTIONS, OperatorError, withLocalDb } from './local-db.js';
import { details, emit, table } from './output.js';

function unwrap<T>(result: Result<T>): T {
  if (!result.ok) throw new OperatorError(`${result.error.message} (${result.error.code})`);
  return result.value;
}

const shared = { takesGlobalOptions: false, options: LOCAL_DB_OPTIONS, optionHelp: LOCAL_DB_HELP } as const;
const KEY_WARNING = 'Store the key now: it is not shown again.\n';

export const orgAdminCommands: Command[] = [
  {
    ...shared,
    path: ['admin', 'org', 'create'],
    summary: 'Create an organisation and its first API key (shown once)',
    args: '<name>',
    minArgs: 1,
    example: 'rallypoint admin org create studio-b',
    async run(ctx) {
      const made = unwrap(await withLocalDb(ctx, (db) => createNamedOrganisation({ db }, ctx.positionals[0]!)));
      const view = { id: made.org.id, name: made.org.name, key_id: made.record.keyId, key: made.key };
      emit(
        ctx,
        view,
        () =>
          details([
            ['organisation', `${view.name} (id ${view.id})`],
            ['key_id', view.key_id],
            ['key', view.key],
          ]) + KEY_WARNING,
      );
    },
  },
  {
    ...shared,
    path: ['admin', 'org', 'list'],
    summary: 'List organisations with their active keys, apps and live deployments',
    example: 'rallypoint admin org list',
    async run(ctx) {
      const rows = await withLocalDb(ctx, (db) => listOrganisations({ db }));
      const view = rows.map((r) => ({
        id: r.id,
        name: r.name,
        created_at: r.createdAt.toISOString(),
        active_keys: r.activeKeys,
        apps: r.apps,
        live_deployments: r.liveDeployments,
      }));
      emit(ctx, { organisations: view }, () =>
        table(
          ['ID', 'NAME', 'CREATED', 'ACTIVE_KEYS', 'APPS', 'LIVE_DEPLOYMENTS'],
          view.map((o) => [o.id, o.name, o.created_at, o.active_keys, o.apps, o.live_deployments]),
        ),
      );
    },
  },
  {
    ...shared,
    path: ['admin', 'org', 'rename'],
    summary: 'Rename an organisation',
    args: '<name> <new-name>',
    minArgs: 2,
    example: 'rallypoint admin org rename default studio-a',
    async run(ctx) {
      const org = unwrap(
        await withLocalDb(ctx, (db) => renameOrganisation({ db }, ctx.positionals[0]!, ctx.positionals[1]!)),
      );
      emit(ctx, { id: org.id, name: org.name }, () => `Organisation ${org.id} is now named ${org.name}.\n`);
    },
  },
  {
    ...shared,
    path: ['admin', 'org', 'delete'],
    summary: 'Delete an organisation and everything it owns (refused while it has live deployments)',
    args: '<name>',
    minArgs: 1,
    example: 'rallypoint admin org delete studio-b',
    options: { ...LOCAL_DB_OPTIONS, force: { type: 'boolean' } },
    optionHelp: [
      '--force          delete even with live deployments (their game servers are not stopped)',
      ...LOCAL_DB_HELP,
    ],
    async run(ctx) {
      const done = unwrap(
        await withLocalDb(ctx, (db) => deleteOrganisation({ db }, ctx.positionals[0]!, { force: flag(ctx, 'force') })),
      );
      const view = {
        id: done.org.id,
        name: done.org.name,
        deleted: true,
        live_deployments_deleted: done.liveDeployments,
      };
      emit(
        ctx,
        view,
        () =>
          `Organisation ${view.name} (id ${view.id}) deleted${view.live_deployments_deleted ? ` with ${view.live_deployments_deleted} live deployment records` : ''}.\n`,
      );
    },
  },
  {
    ...shared,
    path: ['admin', 'keys', 'create'],
    summary: "Create an API key for an organisation (also a locked-out organisation's way back in)",
    args: '<organisation>',
    minArgs: 1,
    example: 'rallypoint admin keys create studio-b --name recovery',
    options: { ...LOCAL_DB_OPTIONS, name: { type: 'string' } },
    optionHelp: ['--name <name>    a label for the key (default "admin")', ...LOCAL_DB_HELP],
    async run(ctx) {
      const made = unwrap(
        await withLocalDb(ctx, (db) =>
          createKeyForOrganisation({ db }, ctx.positionals[0]!, str(ctx, 'name') ?? 'admin'),
        ),
      );
      const view = { organisation: made.org.name, key_id: made.record.keyId, name: made.record.name, key: made.key };
      emit(
        ctx,
        view,
        () =>
          details([
            ['organisation', view.organisation],
            ['key_id', view.key_id],
            ['name', view.name],
            ['key', view.key],
          ]) + KEY_WARNING,
      );
    },
  },
];
