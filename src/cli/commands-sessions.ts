/** session and sessions commands. */
import type { SessionContext, SessionGet, SessionModel, SessionUserContext } from '@rallypoint/sdk';
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
import { bulkFilters, PAGE_HELP } from './commands-deployments.js';
import { details, emit, table } from './output.js';

function sessionDetails(s: SessionGet): string {
  const d = s.deployment;
  const ports = Object.entries(d?.ports ?? {})
    .map(([name, p]) => `${name}=${d?.public_ip}:${p.external ?? '?'}/${p.protocol ?? '?'}`)
    .join(', ');
  return details([
    ['session_id', s.session_id],
    ['status', s.status],
    ['ready', s.ready],
    ['kind', s.kind],
    ['users', s.session_users?.map((u) => u.ip).join(', ')],
    ['deployment', d?.request_id],
    ['connect', ports],
    ['custom_id', s.custom_id],
    ['created', s.create_time],
    ['error', s.error],
  ]);
}

function usersTable(result: SessionUserContext): string {
  return table(
    ['IP', 'LATITUDE', 'LONGITUDE'],
    result.session_users.map((u) => [u.ip, u.latitude, u.longitude]),
  );
}

const SPINNER = ['|', '/', '-', '\\'];

/** Waits for readiness; on a terminal, one self-rewriting progress line on stderr. */
async function waitAndShow(ctx: CommandContext, sessionId: string, timeoutSeconds: number): Promise<SessionGet> {
  let polls = 0;
  const started = Date.now();
  const onPoll = ctx.io.isTTY
    ? (s: SessionGet) => {
        const seconds = Math.round((Date.now() - started) / 1000);
        ctx.io.stderr(`\r\x1b[K${SPINNER[polls++ % SPINNER.length]} session ${sessionId}: ${s.status} (${seconds}s)`);
      }
    : undefined;
  try {
    return await ctx.client().sessions.waitForReady(sessionId, {
      timeoutMs: timeoutSeconds * 1000,
      intervalMs: 500,
      ...(onPoll ? { onPoll } : {}),
    });
  } finally {
    if (ctx.io.isTTY) ctx.io.stderr('\r\x1b[K');
  }
}

function sessionRows(items: SessionContext[]) {
  return items.map((s) => [
    s.session_id,
    s.status,
    s.kind,
    s.user_count,
    s.ready,
    s.deployment_request_id,
    s.custom_id,
  ]);
}

function ipArgs(ctx: CommandContext): string[] {
  const ips = ctx.positionals.slice(1);
  if (ips.length === 0) throw new UsageError('give at least one IP after the session id');
  return ips;
}

export const sessionCommands: Command[] = [
  {
    path: ['session', 'create'],
    summary: 'Create a session (optionally wait until it is ready)',
    example: 'rallypoint session create --app my-game --ip 203.0.113.7 --ip 198.51.100.4 --wait',
    options: {
      app: { type: 'string' },
      version: { type: 'string' },
      ip: { type: 'string', multiple: true },
      deployment: { type: 'string' },
      tag: { type: 'string', multiple: true },
      lat: { type: 'string' },
      lon: { type: 'string' },
      'custom-id': { type: 'string' },
      webhook: { type: 'string' },
      wait: { type: 'boolean' },
      timeout: { type: 'string' },
      ...DATA_OPTION,
    },
    optionHelp: [
      '--app <name>        application (required)',
      '--version <name>    version (default: newest active)',
      '--ip <ip>           a player IP (repeatable; at least one)',
      '--deployment <id>   place it on this deployment only',
      '--tag <tag>         a deployment tag the session needs (repeatable)',
      '--lat, --lon        where the players are',
      '--custom-id <id>    your own id for it',
      '--webhook <url>     notified when it is ready or fails',
      '--wait              wait until ready (progress on a terminal); fails if it becomes Unprocessable or Error',
      '--timeout <s>       how long --wait waits (default 60)',
      DATA_HELP,
    ],
    async run(ctx) {
      const lat = num(ctx, 'lat');
      const lon = num(ctx, 'lon');
      if ((lat === undefined) !== (lon === undefined)) throw new UsageError('give --lat and --lon together');
      const tags = strs(ctx, 'tag');
      const appName = requireStr(ctx, 'app');
      const extra = data(ctx);
      // The API takes an empty list but places the session nowhere useful: refuse it here.
      if (strs(ctx, 'ip').length === 0 && !Array.isArray(extra['ip_list']))
        throw new UsageError('give at least one player with --ip');
      const body: SessionModel = {
        app_name: appName,
        ip_list: strs(ctx, 'ip'),
        ...(str(ctx, 'version') ? { version_name: str(ctx, 'version')! } : {}),
        ...(str(ctx, 'deployment') ? { deployment_request_id: str(ctx, 'deployment')! } : {}),
        ...(tags.length > 0 ? { selectors: tags.map((tag) => ({ tag })) } : {}),
        ...(lat !== undefined && lon !== undefined ? { location: { latitude: lat, longitude: lon } } : {}),
        ...(str(ctx, 'custom-id') ? { custom_id: str(ctx, 'custom-id')! } : {}),
        ...(str(ctx, 'webhook') ? { webhook_url: str(ctx, 'webhook')! } : {}),
        ...extra,
      };
      const created = await ctx.client().sessions.sessionPost(body);
      if (!flag(ctx, 'wait')) {
        emit(ctx, created, () =>
          details([
            ['session_id', created.session_id],
            ['app', `${created.app} ${created.version}`],
            ['deployment', created.deployment_request_id],
          ]),
        );
        return;
      }
      const ready = await waitAndShow(ctx, created.session_id, int(ctx, 'timeout') ?? 60);
      emit(ctx, ready, () => sessionDetails(ready));
    },
  },
  {
    path: ['session', 'get'],
    summary: 'Show a session',
    args: '<session_id>',
    minArgs: 1,
    example: 'rallypoint session get 950dd2eaff09-S',
    async run(ctx) {
      const session = await ctx.client().sessions.getSession(ctx.positionals[0]!);
      emit(ctx, session, () => sessionDetails(session));
    },
  },
  {
    path: ['session', 'list'],
    summary: 'List sessions, newest first',
    example: 'rallypoint session list --limit 20',
    options: { page: { type: 'string' }, limit: { type: 'string' }, all: { type: 'boolean' } },
    optionHelp: PAGE_HELP,
    async run(ctx) {
      const sessions = ctx.client().sessions;
      let items: SessionContext[];
      let result: unknown;
      if (flag(ctx, 'all')) {
        items = [];
        for await (const s of sessions.iterateSessions()) items.push(s);
        result = wholeListPage(items);
      } else {
        const page = await sessions.listSessions({ page: int(ctx, 'page') ?? 1, limit: int(ctx, 'limit') ?? 100 });
        items = page.data;
        result = page;
      }
      emit(ctx, result, () =>
        table(['SESSION_ID', 'STATUS', 'KIND', 'USERS', 'READY', 'DEPLOYMENT', 'CUSTOM_ID'], sessionRows(items)),
      );
    },
  },
  {
    path: ['session', 'delete'],
    summary: 'Delete a session',
    args: '<session_id>',
    minArgs: 1,
    example: 'rallypoint session delete 950dd2eaff09-S',
    async run(ctx) {
      const result = await ctx.client().sessions.sessionDelete(ctx.positionals[0]!);
      emit(ctx, result, () => `${result.message}\n`);
    },
  },
  {
    path: ['session', 'users', 'add'],
    summary: 'Add players (IPs) to a session',
    args: '<session_id> <ip>...',
    minArgs: 2,
    example: 'rallypoint session users add 950dd2eaff09-S 198.51.100.4',
    async run(ctx) {
      const result = await ctx.client().sessions.putUsersSession(ctx.positionals[0]!, { ip_list: ipArgs(ctx) });
      emit(ctx, result, () => usersTable(result));
    },
  },
  {
    path: ['session', 'users', 'remove'],
    summary: 'Remove players (IPs) from a session',
    args: '<session_id> <ip>...',
    minArgs: 2,
    example: 'rallypoint session users remove 950dd2eaff09-S 198.51.100.4',
    async run(ctx) {
      const result = await ctx.client().sessions.deleteUsersSession(ctx.positionals[0]!, { ip_list: ipArgs(ctx) });
      emit(ctx, result, () => usersTable(result));
    },
  },
  {
    path: ['session', 'users', 'list'],
    summary: 'List the players of a session',
    args: '<session_id>',
    minArgs: 1,
    example: 'rallypoint session users list 950dd2eaff09-S',
    async run(ctx) {
      const result = await ctx.client().sessions.getUsersSession(ctx.positionals[0]!);
      emit(ctx, result, () => usersTable(result));
    },
  },
  {
    path: ['sessions', 'bulk-stop'],
    summary: 'Delete every session matching the filters',
    example: 'rallypoint sessions bulk-stop --tag eu-west --match any',
    options: {
      id: { type: 'string', multiple: true },
      'request-id': { type: 'string', multiple: true },
      tag: { type: 'string', multiple: true },
      match: { type: 'string' },
    },
    optionHelp: [
      '--id <session_id>    a session (repeatable)',
      '--request-id <id>    sessions on this deployment (repeatable)',
      '--tag <tag>          a tag of the linked deployment (repeatable)',
      '--match <how>        any (default), all or not; filters are ANDed',
    ],
    async run(ctx) {
      const filters = bulkFilters(ctx, [
        ['id', 'session_id'],
        ['request-id', 'request_id'],
        ['tag', 'deployment_tags'],
      ]) as Array<{
        field: 'session_id' | 'request_id' | 'deployment_tags';
        values: string[];
        filter_type: 'any' | 'all' | 'not';
      }>;
      const result = await ctx.client().sessions.sessionsBulkStop({ filters });
      emit(ctx, result, () =>
        table(
          ['SESSION_ID'],
          result.processable.map((p) => [p.session_id]),
        ),
      );
    },
  },
];
