/** deploy, deployments, stop and register commands. */
import type { DeploymentListItem, DeploymentStatus, RegisterServerPayload } from '@rallypoint/sdk';
import {
  DATA_HELP,
  DATA_OPTION,
  data,
  flag,
  int,
  num,
  requireStr,
  str,
  strs,
  UsageError,
  type Command,
  type CommandContext,
  wholeListPage,
} from './command.js';
import { details, emit, table } from './output.js';

const PAGE_OPTIONS = { page: { type: 'string' }, limit: { type: 'string' }, all: { type: 'boolean' } } as const;
export const PAGE_HELP = [
  '--page <n>       page to show (default 1)',
  '--limit <n>      items per page (default 100)',
  '--all            every page',
];

export function statusDetails(d: DeploymentStatus): string {
  const ports = Object.entries(d.ports ?? {})
    .map(([name, p]) => `${name}=${p.external ?? '?'}/${p.protocol ?? '?'}`)
    .join(', ');
  return details([
    ['request_id', d.request_id],
    ['status', d.current_status],
    ['app', `${d.app_name} ${d.app_version}`],
    ['public_ip', d.public_ip],
    ['fqdn', d.fqdn],
    ['ports', ports],
    ['location', d.location ? `${d.location.city}, ${d.location.country}` : undefined],
    ['sockets', d.sockets === undefined ? undefined : `${d.sockets_usage ?? 0}/${d.sockets}`],
    ['tags', d.tags?.join(',')],
    ['joinable', d.is_joinable_by_session],
    ['provider', d.provider],
    ['error', d.error_detail],
  ]);
}

function deploymentRows(items: DeploymentListItem[]) {
  return items.map((d) => [
    d.request_id,
    d.ready,
    d.public_ip,
    d.sockets === undefined ? undefined : `${d.sockets_usage ?? 0}/${d.sockets}`,
    d.tags?.join(','),
    d.start_time,
  ]);
}

/** `--id/--request-id/--tag` flags to bulk-stop filters, ANDed; `--match` picks any/all/not. */
export function bulkFilters(ctx: CommandContext, fields: Array<[flagName: string, field: string]>) {
  const match = str(ctx, 'match') ?? 'any';
  if (match !== 'any' && match !== 'all' && match !== 'not') throw new UsageError('--match must be any, all or not');
  const filters = fields.flatMap(([flagName, field]) => {
    const values = strs(ctx, flagName);
    return values.length > 0 ? [{ field, values, filter_type: match as 'any' | 'all' | 'not' }] : [];
  });
  if (filters.length === 0) throw new UsageError(`give at least one of ${fields.map(([f]) => `--${f}`).join(', ')}`);
  return filters;
}

/** `name:external[:internal][/protocol]`, e.g. `game:7777/UDP`. */
function parsePort(spec: string): RegisterServerPayload['ports'][number] {
  const match = /^([\w.-]+):(\d+)(?::(\d+))?(?:\/(\w+))?$/.exec(spec);
  if (!match) throw new UsageError(`--port must look like name:7777/UDP, got "${spec}"`);
  const external = Number(match[2]);
  return { name: match[1]!, external, internal: match[3] ? Number(match[3]) : external, protocol: match[4] ?? 'UDP' };
}

export const deploymentCommands: Command[] = [
  {
    path: ['deploy'],
    summary: 'Start a deployment of a version through a provider',
    example: 'rallypoint deploy --app my-game --ip 203.0.113.7',
    options: {
      app: { type: 'string' },
      version: { type: 'string' },
      ip: { type: 'string', multiple: true },
      tag: { type: 'string', multiple: true },
      ...DATA_OPTION,
    },
    optionHelp: [
      '--app <name>     application (required)',
      '--version <name> version (default: newest active)',
      '--ip <ip>         a player IP (repeatable)',
      '--tag <tag>       a tag (repeatable)',
      DATA_HELP,
    ],
    async run(ctx) {
      const tags = strs(ctx, 'tag');
      const body = {
        app_name: requireStr(ctx, 'app'),
        ...(str(ctx, 'version') ? { version_name: str(ctx, 'version')! } : {}),
        ip_list: strs(ctx, 'ip'),
        ...(tags.length > 0 ? { tags } : {}),
        ...data(ctx),
      };
      const request = await ctx.client().deployments.deploy(body);
      emit(ctx, request, () =>
        details([
          ['request_id', request.request_id],
          ['app', `${request.request_app} ${request.request_version}`],
          ['dns', request.request_dns],
        ]),
      );
    },
  },
  {
    path: ['deployments', 'list'],
    summary: 'List deployments',
    example: 'rallypoint deployments list --all',
    options: PAGE_OPTIONS,
    optionHelp: PAGE_HELP,
    async run(ctx) {
      const deployments = ctx.client().deployments;
      let items: DeploymentListItem[];
      let result: unknown;
      if (flag(ctx, 'all')) {
        items = [];
        for await (const d of deployments.iterateDeployments()) items.push(d);
        result = wholeListPage(items);
      } else {
        const page = await deployments.deploymentsGet({ page: int(ctx, 'page') ?? 1, limit: int(ctx, 'limit') ?? 100 });
        items = page.data;
        result = page;
      }
      emit(ctx, result, () =>
        table(['REQUEST_ID', 'READY', 'PUBLIC_IP', 'SOCKETS', 'TAGS', 'START_TIME'], deploymentRows(items)),
      );
    },
  },
  {
    path: ['deployments', 'get'],
    summary: "Show a deployment's status",
    args: '<request_id>',
    minArgs: 1,
    example: 'rallypoint deployments get 0a1b2c3d4e5f',
    async run(ctx) {
      const status = await ctx.client().deployments.deploymentStatusGet(ctx.positionals[0]!);
      emit(ctx, status, () => statusDetails(status));
    },
  },
  {
    path: ['deployments', 'bulk-stop'],
    summary: 'Stop every deployment matching the filters',
    example: 'rallypoint deployments bulk-stop --tag canary',
    options: {
      'request-id': { type: 'string', multiple: true },
      tag: { type: 'string', multiple: true },
      match: { type: 'string' },
    },
    optionHelp: [
      '--request-id <id> a deployment (repeatable)',
      '--tag <tag>        a deployment tag (repeatable)',
      '--match <how>      any (default), all or not',
    ],
    async run(ctx) {
      const filters = bulkFilters(ctx, [
        ['request-id', 'request_id'],
        ['tag', 'deployment_tags'],
      ]) as Array<{ field: 'request_id' | 'deployment_tags'; values: string[]; filter_type: 'any' | 'all' | 'not' }>;
      const result = await ctx.client().deployments.deploymentsBulkStop({ filters });
      emit(ctx, result, () =>
        table(
          ['REQUEST_ID'],
          result.processable.map((p) => [p.request_id]),
        ),
      );
    },
  },
  {
    path: ['stop'],
    summary: 'Stop a deployment (its sessions end)',
    args: '<request_id>',
    minArgs: 1,
    example: 'rallypoint stop 0a1b2c3d4e5f',
    async run(ctx) {
      const result = await ctx.client().deployments.deploymentDelete(ctx.positionals[0]!);
      emit(ctx, result, () => `${result.message}\n`);
    },
  },
  {
    path: ['register'],
    summary: 'Register a running game server as a deployment of a version',
    example:
      'rallypoint register --app my-game --version v1 --ip 203.0.113.10 --port game:7777/UDP --city Montreal --country Canada --continent "North America" --lat 45.5 --lon -73.57',
    options: {
      app: { type: 'string' },
      version: { type: 'string' },
      ip: { type: 'string' },
      fqdn: { type: 'string' },
      port: { type: 'string', multiple: true },
      city: { type: 'string' },
      country: { type: 'string' },
      continent: { type: 'string' },
      lat: { type: 'string' },
      lon: { type: 'string' },
      sockets: { type: 'string' },
      tag: { type: 'string', multiple: true },
      heartbeat: { type: 'string' },
      ...DATA_OPTION,
    },
    optionHelp: [
      '--app, --version   the version it runs (required)',
      '--ip <address>     its public address (required)',
      '--port <spec>      name:external[:internal][/protocol] (repeatable)',
      '--city, --country, --continent, --lat, --lon   where it runs (required)',
      "--sockets <n>      capacity (default: the version's)",
      '--tag <tag>        a tag (repeatable)',
      '--heartbeat <s>    expect a heartbeat at least this often',
      DATA_HELP,
    ],
    async run(ctx) {
      const lat = num(ctx, 'lat');
      const lon = num(ctx, 'lon');
      const extra = data(ctx);
      if ((lat === undefined || lon === undefined) && extra['location'] === undefined)
        throw new UsageError('--lat and --lon are required');
      const sockets = int(ctx, 'sockets');
      const heartbeat = int(ctx, 'heartbeat');
      const body: RegisterServerPayload = {
        app_name: requireStr(ctx, 'app'),
        version_name: requireStr(ctx, 'version'),
        public_ip: requireStr(ctx, 'ip'),
        ...(str(ctx, 'fqdn') ? { fqdn: str(ctx, 'fqdn')! } : {}),
        ports: strs(ctx, 'port').map(parsePort),
        location: {
          city: str(ctx, 'city') ?? '',
          country: str(ctx, 'country') ?? '',
          continent: str(ctx, 'continent') ?? '',
          latitude: lat ?? 0,
          longitude: lon ?? 0,
        },
        ...(sockets !== undefined ? { sockets } : {}),
        tags: strs(ctx, 'tag'),
        ...(heartbeat !== undefined ? { heartbeat_timeout_seconds: heartbeat } : {}),
        ...extra,
      };
      const status = await ctx.client().deployments.registerServer(body);
      emit(ctx, status, () => statusDetails(status));
    },
  },
];
