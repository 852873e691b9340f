/** hosts commands: the fleet's container hosts (operator organisation only). */
import { readFileSync } from 'node:fs';
import type { Host, HostCreate } from '@rallypoint/sdk';
import {
  DATA_HELP,
  DATA_OPTION,
  data,
  int,
  num,
  requireStr,
  str,
  strs,
  UsageError,
  type Command,
  type CommandContext,
} from './command.js';
import { details, emit, table } from './output.js';

const pemFile = (ctx: CommandContext, name: string): string | undefined => {
  const path = str(ctx, name);
  if (path === undefined) return undefined;
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new UsageError(`--${name}: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
};

/** `--socket <path>` or `--tcp host:port`: exactly one. */
function endpointOf(ctx: CommandContext): HostCreate['endpoint'] {
  const given = ['socket', 'tcp'].filter((kind) => str(ctx, kind) !== undefined);
  if (given.length !== 1) throw new UsageError('give exactly one of --socket <path>, --tcp <host:port>');
  const socket = str(ctx, 'socket');
  if (socket !== undefined) return { kind: 'socket', path: socket };
  const tcp = str(ctx, 'tcp')!;
  const match = /^(.+):(\d+)$/.exec(tcp);
  if (!match) throw new UsageError(`--tcp must look like host:2376, got "${tcp}"`);
  const tls = { ca: pemFile(ctx, 'tls-ca'), cert: pemFile(ctx, 'tls-cert'), key: pemFile(ctx, 'tls-key') };
  const hasTls = tls.ca !== undefined || tls.cert !== undefined || tls.key !== undefined;
  const definedTls = Object.fromEntries(Object.entries(tls).filter(([, v]) => v !== undefined));
  return { kind: 'tcp', host: match[1]!, port: Number(match[2]), ...(hasTls ? { tls: definedTls } : {}) };
}

/** `--ports 30000-30999` → the range's two ends. */
function portRange(ctx: CommandContext): { port_min: number; port_max: number } {
  const raw = requireStr(ctx, 'ports');
  const match = /^(\d+)-(\d+)$/.exec(raw);
  if (!match) throw new UsageError(`--ports must look like 30000-30999, got "${raw}"`);
  return { port_min: Number(match[1]), port_max: Number(match[2]) };
}

function required(value: number | undefined, name: string): number {
  if (value === undefined) throw new UsageError(`--${name} is required`);
  return value;
}

const usage = (used: number, total: number) => `${used}/${total}`;

function hostRow(h: Host) {
  return [
    h.name,
    h.state,
    `${h.location.city}, ${h.location.country}`,
    h.public_ip,
    usage(h.used_cpu_units, h.cpu_units),
    usage(h.used_memory_mb, h.memory_mb),
    usage(h.used_ports, h.port_max - h.port_min + 1),
    h.deployment_count,
  ];
}

function hostDetails(h: Host): string {
  const e = h.endpoint;
  const where =
    e.kind === 'socket'
      ? e.path
      : `${e.kind === 'ssh' ? `${e.username}@` : ''}${e.host}:${e.port}${e.has_credentials ? ' (credentials stored)' : ''}`;
  const own = (h.deployments ?? [])
    .map((d) => `\n  ${d.request_id}  ${d.status}  ${d.app_name} ${d.version_name}  ports ${d.ports.join(',')}`)
    .join('');
  return (
    details([
      ['name', h.name],
      ['state', h.state],
      ['detail', h.state_detail],
      ['endpoint', `${e.kind} ${where}`],
      ['public_ip', h.public_ip],
      ['location', `${h.location.city}, ${h.location.country} (${h.location.latitude}, ${h.location.longitude})`],
      ['cpu units', usage(h.used_cpu_units, h.cpu_units)],
      ['memory MB', usage(h.used_memory_mb, h.memory_mb)],
      ['ports', `${usage(h.used_ports, h.port_max - h.port_min + 1)} (${h.port_min}-${h.port_max})`],
      ['tags', h.tags.join(',')],
      ['deployments', h.deployment_count],
      ['unreachable since', h.unreachable_since],
      ['created', h.create_time],
    ]) + (own ? `yours:${own}\n` : '')
  );
}

const ADD_OPTIONS = {
  socket: { type: 'string' },
  tcp: { type: 'string' },
  'tls-ca': { type: 'string' },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  'public-ip': { type: 'string' },
  city: { type: 'string' },
  country: { type: 'string' },
  continent: { type: 'string' },
  region: { type: 'string' },
  'administrative-division': { type: 'string' },
  timezone: { type: 'string' },
  lat: { type: 'string' },
  lon: { type: 'string' },
  cpu: { type: 'string' },
  memory: { type: 'string' },
  ports: { type: 'string' },
  tag: { type: 'string', multiple: true },
  ...DATA_OPTION,
} as const;

export const hostCommands: Command[] = [
  {
    path: ['hosts', 'add'],
    summary: 'Add a container host to the fleet',
    args: '<name>',
    minArgs: 1,
    example:
      'rallypoint hosts add fra-1 --socket /run/podman/podman.sock --public-ip 203.0.113.5 --city Frankfurt --country Germany --continent Europe --lat 50.11 --lon 8.68 --cpu 4096 --memory 8192 --ports 30000-30999',
    options: ADD_OPTIONS,
    optionHelp: [
      "--socket <path>        the engine's unix socket, or",
      '--tcp <host:port>      its TCP endpoint (--tls-ca/--tls-cert/--tls-key <pem file>)',
      '--public-ip <ip>       the address players reach (required)',
      '--city, --country, --continent <name> (required); --region, --administrative-division, --timezone',
      '--lat <deg> --lon <deg> position (required)',
      '--cpu <units>          1024 = 1 vCPU (required)',
      '--memory <MB>          (required)',
      '--ports <min-max>      host ports to publish on (required)',
      '--tag <tag>            (repeatable)',
      DATA_HELP,
    ],
    async run(ctx) {
      const body: HostCreate = {
        name: ctx.positionals[0]!,
        endpoint: endpointOf(ctx),
        public_ip: requireStr(ctx, 'public-ip'),
        location: {
          city: requireStr(ctx, 'city'),
          country: requireStr(ctx, 'country'),
          continent: requireStr(ctx, 'continent'),
          ...(str(ctx, 'region') ? { region: str(ctx, 'region')! } : {}),
          ...(str(ctx, 'administrative-division')
            ? { administrative_division: str(ctx, 'administrative-division')! }
            : {}),
          ...(str(ctx, 'timezone') ? { timezone: str(ctx, 'timezone')! } : {}),
          latitude: required(num(ctx, 'lat'), 'lat'),
          longitude: required(num(ctx, 'lon'), 'lon'),
        },
        cpu_units: required(int(ctx, 'cpu'), 'cpu'),
        memory_mb: required(int(ctx, 'memory'), 'memory'),
        ...portRange(ctx),
        ...(strs(ctx, 'tag').length > 0 ? { tags: strs(ctx, 'tag') } : {}),
        ...data(ctx),
      };
      const host = await ctx.client().hosts.addHost(body);
      emit(ctx, host, () => hostDetails(host));
    },
  },
  {
    path: ['hosts', 'list'],
    summary: "List the fleet's hosts with used/total capacity",
    example: 'rallypoint hosts list',
    async run(ctx) {
      const result = await ctx.client().hosts.listHosts();
      emit(ctx, result, () =>
        table(
          ['NAME', 'STATE', 'LOCATION', 'PUBLIC_IP', 'CPU', 'MEMORY_MB', 'PORTS', 'DEPLOYMENTS'],
          result.hosts.map(hostRow),
        ),
      );
    },
  },
  {
    path: ['hosts', 'show'],
    summary: 'Show a host and your deployments on it',
    args: '<name>',
    minArgs: 1,
    example: 'rallypoint hosts show fra-1',
    async run(ctx) {
      const host = await ctx.client().hosts.getHost(ctx.positionals[0]!);
      emit(ctx, host, () => hostDetails(host));
    },
  },
  {
    path: ['hosts', 'drain'],
    summary: 'Schedule nothing new on a host; what runs keeps running',
    args: '<name>',
    minArgs: 1,
    example: 'rallypoint hosts drain fra-1',
    async run(ctx) {
      const host = await ctx.client().hosts.drainHost(ctx.positionals[0]!);
      emit(ctx, host, () => `Host ${host.name} is draining; ${host.deployment_count} deployment(s) still on it.\n`);
    },
  },
  {
    path: ['hosts', 'activate'],
    summary: 'Put a drained or down host back into the pool',
    args: '<name>',
    minArgs: 1,
    example: 'rallypoint hosts activate fra-1',
    async run(ctx) {
      const host = await ctx.client().hosts.activateHost(ctx.positionals[0]!);
      emit(ctx, host, () => `Host ${host.name} is active.\n`);
    },
  },
  {
    path: ['hosts', 'remove'],
    summary: 'Remove a host no live deployment runs on',
    args: '<name>',
    minArgs: 1,
    example: 'rallypoint hosts remove fra-1',
    async run(ctx) {
      const removed = await ctx.client().hosts.removeHost(ctx.positionals[0]!);
      emit(ctx, removed, () => `${removed.message}\n`);
    },
  },
];
