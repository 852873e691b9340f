/** keys, app and version commands. */
import type { ApplicationPost, AppVersion, AppVersionPayload } from '@rallypoint/sdk';
import { DATA_HELP, DATA_OPTION, data, flag, int, str, UsageError, type Command } from './command.js';
import { details, emit, table } from './output.js';

function versionRow(v: AppVersion) {
  const sc = v.session_config;
  return [v.name, v.is_active, sc?.kind, sc?.sockets, sc?.autodeploy, sc?.empty_ttl];
}

function versionDetails(v: AppVersion): string {
  const sc = v.session_config;
  return details([
    ['name', v.name],
    ['active', v.is_active],
    ['image', `${v.docker_repository ?? ''}/${v.docker_image ?? ''}:${v.docker_tag ?? ''}`],
    ['kind', sc?.kind],
    ['sockets', sc?.sockets],
    ['autodeploy', sc?.autodeploy],
    ['empty_ttl (min)', sc?.empty_ttl],
    ['session_max_duration (min)', sc?.session_max_duration],
  ]);
}

/** `registry/image:tag` → the three docker fields a version needs. */
function imageFields(image: string): { docker_repository: string; docker_image: string; docker_tag: string } {
  const match = /^(?:(.+)\/)?([^/:]+)(?::([^/:]+))?$/.exec(image);
  if (!match) throw new UsageError(`--image must look like registry/image:tag, got "${image}"`);
  return { docker_repository: match[1] ?? 'local', docker_image: match[2] ?? image, docker_tag: match[3] ?? 'latest' };
}

const SESSION_KINDS = ['Seat', 'Match', 'Default'] as const;

export const adminCommands: Command[] = [
  {
    path: ['keys', 'create'],
    summary: 'Create an API key (its secret is shown once)',
    example: 'rallypoint keys create --name matchmaker',
    options: { name: { type: 'string' } },
    optionHelp: ['--name <name>    a label for the key'],
    async run(ctx) {
      const key = await ctx.client().keys.createKey({ name: str(ctx, 'name') ?? '' });
      emit(
        ctx,
        key,
        () =>
          details([
            ['key_id', key.key_id],
            ['name', key.name],
            ['key', key.key],
          ]) + 'Store the key now: it is not shown again.\n',
      );
    },
  },
  {
    path: ['keys', 'list'],
    summary: "List the organisation's API keys",
    example: 'rallypoint keys list',
    async run(ctx) {
      const result = await ctx.client().keys.listKeys();
      emit(ctx, result, () =>
        table(
          ['KEY_ID', 'NAME', 'CREATED', 'REVOKED'],
          result.keys.map((k) => [k.key_id, k.name, k.create_time, k.revoked]),
        ),
      );
    },
  },
  {
    path: ['keys', 'revoke'],
    summary: 'Revoke an API key',
    args: '<key_id>',
    minArgs: 1,
    example: 'rallypoint keys revoke 3f2a9c',
    async run(ctx) {
      const key = await ctx.client().keys.revokeKey(ctx.positionals[0]!);
      emit(ctx, key, () => `Key ${key.key_id} revoked.\n`);
    },
  },
  {
    path: ['app', 'create'],
    summary: 'Create an application',
    args: '<name>',
    minArgs: 1,
    example: 'rallypoint app create my-game',
    options: { inactive: { type: 'boolean' }, image: { type: 'string' }, ...DATA_OPTION },
    optionHelp: ['--inactive       create it inactive', '--image <text>   image field of the application', DATA_HELP],
    async run(ctx) {
      const body: ApplicationPost = {
        name: ctx.positionals[0]!,
        is_active: !flag(ctx, 'inactive'),
        image: str(ctx, 'image') ?? '',
        ...data(ctx),
      };
      const app = await ctx.client().apps.applicationPost(body);
      emit(ctx, app, () =>
        details([
          ['name', app.name],
          ['active', app.is_active],
          ['created', app.create_time],
        ]),
      );
    },
  },
  {
    path: ['app', 'get'],
    summary: 'Show an application',
    args: '<name>',
    minArgs: 1,
    example: 'rallypoint app get my-game',
    async run(ctx) {
      const app = await ctx.client().apps.applicationGet(ctx.positionals[0]!);
      emit(ctx, app, () =>
        details([
          ['name', app.name],
          ['active', app.is_active],
          ['created', app.create_time],
          ['updated', app.last_updated],
        ]),
      );
    },
  },
  {
    path: ['app', 'list'],
    summary: 'List applications',
    example: 'rallypoint app list --json',
    async run(ctx) {
      const result = await ctx.client().apps.applicationsGet();
      emit(ctx, result, () =>
        table(
          ['NAME', 'ACTIVE', 'CREATED'],
          result.applications.map((a) => [a.name, a.is_active, a.create_time]),
        ),
      );
    },
  },
  {
    path: ['app', 'delete'],
    summary: 'Delete an application',
    args: '<name>',
    minArgs: 1,
    example: 'rallypoint app delete my-game',
    async run(ctx) {
      const result = await ctx.client().apps.applicationDelete(ctx.positionals[0]!);
      emit(ctx, result, () => `${result.message}\n`);
    },
  },
  {
    path: ['version', 'create'],
    summary: 'Create a version of an application',
    args: '<app> <version>',
    minArgs: 2,
    example: 'rallypoint version create my-game v1 --kind Seat --sockets 16 --autodeploy',
    options: {
      kind: { type: 'string' },
      sockets: { type: 'string' },
      autodeploy: { type: 'boolean' },
      'empty-ttl': { type: 'string' },
      image: { type: 'string' },
      inactive: { type: 'boolean' },
      ...DATA_OPTION,
    },
    optionHelp: [
      '--kind <kind>       Seat (default), Match or Default (not session based)',
      '--sockets <n>       capacity of each deployment (default 10)',
      '--autodeploy        start a deployment when none can take a session',
      '--empty-ttl <min>   stop deployments empty for this long',
      '--image <ref>       registry/image:tag (default local/game:latest)',
      '--inactive          create it inactive',
      DATA_HELP,
    ],
    async run(ctx) {
      const [app, name] = ctx.positionals as [string, string];
      const kind = str(ctx, 'kind') ?? 'Seat';
      if (!(SESSION_KINDS as readonly string[]).includes(kind))
        throw new UsageError(`--kind must be one of ${SESSION_KINDS.join(', ')}`);
      const emptyTtl = int(ctx, 'empty-ttl');
      const body: AppVersionPayload = {
        name,
        is_active: !flag(ctx, 'inactive'),
        ...imageFields(str(ctx, 'image') ?? 'local/game:latest'),
        req_cpu: 256,
        req_memory: 256,
        session_config: {
          kind: kind as (typeof SESSION_KINDS)[number],
          sockets: int(ctx, 'sockets') ?? 10,
          autodeploy: flag(ctx, 'autodeploy'),
          ...(emptyTtl !== undefined ? { empty_ttl: emptyTtl } : {}),
        },
        ...data(ctx),
      };
      const result = await ctx.client().apps.appVersionPost(app, body);
      emit(ctx, result, () => versionDetails(result.version));
    },
  },
  {
    path: ['version', 'get'],
    summary: 'Show a version',
    args: '<app> <version>',
    minArgs: 2,
    example: 'rallypoint version get my-game v1',
    async run(ctx) {
      const version = await ctx.client().apps.appVersionGet(ctx.positionals[0]!, ctx.positionals[1]!);
      emit(ctx, version, () => versionDetails(version));
    },
  },
  {
    path: ['version', 'list'],
    summary: 'List the versions of an application',
    args: '<app>',
    minArgs: 1,
    example: 'rallypoint version list my-game',
    async run(ctx) {
      const result = await ctx.client().apps.appVersionsGet(ctx.positionals[0]!);
      emit(ctx, result, () =>
        table(['NAME', 'ACTIVE', 'KIND', 'SOCKETS', 'AUTODEPLOY', 'EMPTY_TTL'], result.versions.map(versionRow)),
      );
    },
  },
  {
    path: ['version', 'delete'],
    summary: 'Delete a version',
    args: '<app> <version>',
    minArgs: 2,
    example: 'rallypoint version delete my-game v1',
    async run(ctx) {
      const result = await ctx.client().apps.appVersionDelete(ctx.positionals[0]!, ctx.positionals[1]!);
      emit(ctx, result, () => `${result.message}\n`);
    },
  },
];
