/**
 * Every environment variable Rallypoint reads, as one TypeBox schema: its type and bounds, its
 * default and what it means. loadConfig validates against it; the README's settings table is
 * rendered from it (`npm run docs:settings`), so a setting cannot exist undocumented.
 *
 * Extra schema options used here:
 * - `docDefault`: the default as the README shows it, when it is computed at start.
 * - `accepts`: what the value must look like, when the type alone does not say it.
 * - `secret`: never echo the value in an error.
 */
import { FormatRegistry, Type, type TSchema } from '@sinclair/typebox';
import { parseCidr } from './app/webhook-url.js';

FormatRegistry.Set('cidr', (value) => parseCidr(value) !== undefined);

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
/** Providers this build can run; `registered` is always on. */
export const PROVIDER_NAMES = ['registered', 'process', 'docker'] as const;

const oneOf = <T extends readonly string[]>(values: T) => Type.Union(values.map((v) => Type.Literal(v)));
const int = (
  minimum: number,
  maximum: number,
  defaultValue: number | undefined,
  description: string,
  extra: object = {},
) =>
  Type.Integer({
    minimum,
    maximum,
    ...(defaultValue !== undefined ? { default: defaultValue } : {}),
    description,
    ...extra,
  });
const text = (description: string, extra: object = {}) => Type.String({ minLength: 1, description, ...extra });

/** What every Rallypoint API key looks like (issued keys are `rp_` and 43 base64url characters). */
const API_KEY_FORMAT = {
  pattern: '^rp_[A-Za-z0-9_-]{16,}$',
  accepts: 'a key like rp_ followed by at least 16 letters, digits, _ or -',
};

export const SettingsSchema = Type.Object({
  HOST: text('address to listen on', { default: '127.0.0.1' }),
  PORT: int(0, 65535, 8080, 'port to listen on (0: any free port)'),
  DATABASE_URL: text('PostgreSQL connection string; unset = the embedded PostgreSQL in `RALLYPOINT_DATA_DIR`', {
    pattern: '^postgres(ql)?://',
    accepts: 'a URL like postgres://user:password@host:5432/dbname',
    secret: true,
  }),
  RALLYPOINT_DATA_DIR: text("the embedded PostgreSQL's directory (cluster, socket, lock)", {
    default: './data/rallypoint',
  }),
  RALLYPOINT_EMBEDDED_PORT: int(
    1,
    65535,
    undefined,
    'also let the embedded PostgreSQL listen on `127.0.0.1` at this port (unset: unix socket only)',
  ),
  DATABASE_POOL_SIZE: int(1, 500, 10, 'PostgreSQL connections per process'),
  MIGRATE_ON_START: Type.Boolean({
    default: true,
    description:
      'apply pending migrations at start; `false`: refuse to start unless `rallypoint migrate up` already did',
  }),
  MIGRATION_LOCK_TIMEOUT_MS: int(
    100,
    3_600_000,
    60_000,
    "how long a start waits for another process's migrations before giving up",
  ),
  RALLYPOINT_API_KEY: text(
    'key to create on first start instead of a random one (or to add to the first organisation)',
    {
      ...API_KEY_FORMAT,
      secret: true,
    },
  ),
  LOG_LEVEL: Type.Union(
    LOG_LEVELS.map((v) => Type.Literal(v)),
    { default: 'info', description: 'structured JSON logs on stdout at this level and above' },
  ),
  RALLYPOINT_PUBLIC_URL: text('base URL game servers reach this service at (links handed to them)', {
    pattern: '^https?://',
    accepts: 'an http:// or https:// URL',
    docDefault: '`http://HOST:PORT`',
  }),
  PROVIDERS: Type.Array(oneOf(PROVIDER_NAMES), {
    default: ['registered'],
    description: 'where deployments come from, comma separated',
    accepts: `a comma-separated list of ${PROVIDER_NAMES.join(', ')}`,
  }),
  BODY_LIMIT_BYTES: int(1024, 64 * 1024 * 1024, 1024 * 1024, 'larger request bodies get 413'),
  SHUTDOWN_GRACE_MS: int(0, 600_000, 10_000, 'how long SIGTERM waits for in-flight requests'),
  JOB_POLL_MS: int(
    10,
    60_000,
    500,
    'how soon each process looks again while due work waits behind a cap (a webhook target at its concurrency limit, a job behind a running one of its key); with `JOB_WAKE_ON_INSERT=false`, how often job and webhook workers poll',
  ),
  JOB_WAKE_ON_INSERT: Type.Boolean({
    default: true,
    description:
      "a job added anywhere wakes every process's job worker at once (LISTEN/NOTIFY), and a webhook delivery wakes its own process's delivery worker once committed; each then sleeps until its next work is due; `false`: workers find work by polling every `JOB_POLL_MS`",
  }),
  JOB_FALLBACK_POLL_MS: int(
    100,
    3_600_000,
    30_000,
    'with `JOB_WAKE_ON_INSERT`, the longest a job or webhook worker sleeps when nothing is due sooner (a safety net for a missed notification, or deliveries another process wrote and could not send)',
  ),
  JOB_DEAD_RETENTION_HOURS: int(
    0,
    87_600,
    168,
    'dead background jobs are deleted this long after they died; `0` = kept until `rallypoint jobs delete`',
  ),
  LIFETIME_SWEEP_MS: int(
    10,
    3_600_000,
    15_000,
    'how often lifetimes (empty_ttl, session_max_duration, heartbeats) are checked',
  ),
  EVENT_SEQUENCE_MS: int(
    1,
    60_000,
    20,
    'committed events are numbered and sent to `/v1/events` subscribers at most this long after their commit (commits within it share one numbering)',
  ),
  EVENT_SEQUENCE_FALLBACK_MS: int(
    10,
    3_600_000,
    1_000,
    'how often each process also numbers events nothing woke it for (written by another tool, or by a process that died before numbering them)',
  ),
  EVENT_STREAMS_PER_KEY: int(
    1,
    100_000,
    50,
    'most `/v1/events` streams one API key may hold open in each process; past it, 429 `TOO_MANY_STREAMS`',
  ),
  EVENT_STREAMS_PER_ORG: int(
    1,
    100_000,
    200,
    'most `/v1/events` streams one organisation (all its keys) may hold open in each process; past it, 429 `TOO_MANY_STREAMS`',
  ),
  EVENT_REPLAY_MAX_EVENTS: int(
    1,
    10_000_000,
    10_000,
    'a `Last-Event-ID` more than this many events behind gets a `resync` event instead of a replay',
  ),
  EVENT_STREAM_QUEUE_MAX: int(
    1,
    1_000_000,
    1_000,
    'events held for a stream whose client reads slower than they come; past it, the stream ends with a `resync` event',
  ),
  CREATE_BATCH_MAX: int(
    1,
    1_000,
    32,
    'most session creates that share one transaction under load (group commit); `1` turns it off',
  ),
  CREATE_BATCH_RUNNERS: int(1, 500, undefined, 'create transactions running at once per process', {
    docDefault: '`2` (`1` with a pool of 1)',
  }),
  METRICS_TOKEN: text(
    '`GET /metrics` needs `Authorization: Bearer <token>`; unset: metrics answer 401 unless `METRICS_PUBLIC=true`',
    { secret: true },
  ),
  METRICS_PUBLIC: Type.Boolean({
    default: false,
    description:
      "serve `GET /metrics` to anyone when `METRICS_TOKEN` is unset (the series name every organisation's apps and volumes)",
  }),
  REQUEST_TIMEOUT_MS: int(1_000, 3_600_000, 30_000, 'a request not received whole by then is answered 408 and closed'),
  HEADERS_TIMEOUT_MS: int(
    1_000,
    3_600_000,
    10_000,
    'a request whose line and headers are not received by then is answered 408 (at most `REQUEST_TIMEOUT_MS`)',
  ),
  KEEP_ALIVE_TIMEOUT_MS: int(
    0,
    3_600_000,
    72_000,
    "an idle keep-alive connection is closed after this long (above a load balancer's idle timeout)",
  ),
  CONNECTION_TIMEOUT_MS: int(
    0,
    3_600_000,
    120_000,
    'a connection with no traffic at all is closed after this long (`/v1/events` sends a heartbeat every 15 s); `0` = never',
  ),
  LOAD_SHED_MAX_EVENT_LOOP_DELAY_MS: int(
    0,
    60_000,
    1_000,
    'when the event loop falls behind by more than this, new requests answer 503 with `Retry-After`; `0` = never',
  ),
  LOAD_SHED_RETRY_AFTER_SECONDS: int(1, 3600, 5, 'the `Retry-After` of a shed request'),
  RATE_LIMIT_PER_SECOND: int(
    0,
    1_000_000,
    0,
    'requests per second allowed per API key in each process; `0` = no limit',
  ),
  RATE_LIMIT_BURST: int(0, 1_000_000, 0, 'requests a key may send at once before the per-second rate applies', {
    docDefault: "one second's worth",
  }),
  WEBHOOK_TIMEOUT_MS: int(10, 120_000, 10_000, 'each webhook POST is abandoned (and retried later) after this long'),
  WEBHOOK_MAX_AGE_MS: int(
    0,
    30 * 24 * 3_600_000,
    24 * 3_600_000,
    'a delivery is retried for this long after it was written, then marked dead',
  ),
  WEBHOOK_RETENTION_HOURS: int(
    0,
    87_600,
    168,
    'delivered and dead webhook deliveries are deleted this long after they were written, and a target with nothing pending and no answer for as long is forgotten; `0` = kept',
  ),
  WEBHOOK_RETRY_BASE_MS: int(
    1_000,
    3_600_000,
    5_000,
    'first webhook retry delay; each later one doubles, up to an hour, with jitter',
  ),
  WEBHOOK_DENY_CIDRS: Type.Array(Type.String({ format: 'cidr' }), {
    description: 'addresses webhooks may never reach, comma separated; replaces the default list',
    accepts: 'comma-separated CIDRs like 169.254.0.0/16,fe80::/10',
    docDefault: 'link-local and cloud metadata addresses',
  }),
  PROCESS_LOCATION: Type.Object(
    {
      city: Type.Optional(Type.String()),
      country: Type.Optional(Type.String()),
      continent: Type.Optional(Type.String()),
      administrative_division: Type.Optional(Type.String()),
      region: Type.Optional(Type.String()),
      timezone: Type.Optional(Type.String()),
      latitude: Type.Optional(Type.Number({ minimum: -90, maximum: 90 })),
      longitude: Type.Optional(Type.Number({ minimum: -180, maximum: 180 })),
    },
    {
      description: '`process` provider: where its deployments are said to be',
      docDefault: 'city, country and continent `Local`',
      accepts: 'a JSON object like {"city":"Montreal","country":"Canada","latitude":45.5,"longitude":-73.6}',
    },
  ),
  PROCESS_PUBLIC_IP: text('`process` provider: address players reach the game servers at', { default: '127.0.0.1' }),
  PROCESS_UDP_READY_MS: int(
    0,
    600_000,
    1000,
    '`process` provider: a deployment without a TCP port is ready once its process stayed up this long',
  ),
  PROCESS_READY_TIMEOUT_MS: int(
    100,
    3_600_000,
    120_000,
    '`process` provider: a process whose TCP ports do not all accept connections by then is failed',
  ),
  PROCESS_STOP_GRACE_SECONDS: int(
    0,
    3600,
    10,
    '`process` provider: SIGTERM to SIGKILL when the version sets no termination grace period',
  ),
  PROCESS_WORKDIR: text('`process` provider: working directory of the game servers', {
    docDefault: 'the current directory',
  }),
  PROCESS_LOG_DIR: text("`process` provider: each deployment's output goes to `<dir>/<request_id>.log`", {
    docDefault: '`$TMPDIR/rallypoint-process-logs`',
  }),
  PROCESS_INHERIT_ENV: Type.Array(Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]*$' }), {
    default: ['PATH', 'HOME', 'LANG', 'TZ', 'SYSTEMROOT'],
    description: '`process` provider: variables of this environment passed on to game servers (never secrets)',
    accepts: 'a comma-separated list of variable names',
  }),
  PROCESS_KEEP_ON_SHUTDOWN: Type.Boolean({
    default: false,
    description: '`process` provider: leave game servers running at shutdown; the next start adopts them',
  }),
  DOCKER_CALLBACK_URL: text(
    '`docker` provider: base URL game servers in containers reach this service at (context and self-stop); port 0 means the port it listens on',
    {
      pattern: '^https?://',
      accepts: 'an http:// or https:// URL',
      docDefault: '`RALLYPOINT_PUBLIC_URL`',
    },
  ),
  DOCKER_BIND_ALL_INTERFACES: Type.Boolean({
    default: false,
    description:
      '`docker` provider: publish ports on every interface of a host instead of its public address (hosts behind NAT)',
  }),
  DOCKER_UDP_READY_MS: int(
    0,
    600_000,
    2000,
    '`docker` provider: a container without a TCP port is ready once it stayed up this long',
  ),
  DOCKER_READY_TIMEOUT_MS: int(
    100,
    3_600_000,
    120_000,
    '`docker` provider: a container whose TCP ports do not all accept connections by then is failed',
  ),
  DOCKER_STOP_GRACE_SECONDS: int(
    0,
    3600,
    10,
    '`docker` provider: stop grace when the version sets no termination grace period',
  ),
  DOCKER_PULL_TIMEOUT_MS: int(
    1000,
    3_600_000,
    600_000,
    '`docker` provider: an image pull that takes longer fails the deployment',
  ),
  DOCKER_RECONCILE_MS: int(
    100,
    3_600_000,
    15_000,
    "`docker` provider: how often every host's containers are compared with the database",
  ),
  DOCKER_ENGINE_TIMEOUT_MS: int(
    100,
    600_000,
    5000,
    '`docker` provider: an engine that takes longer to list its containers counts as not answering',
  ),
  DOCKER_HOST_DOWN_AFTER_MS: int(
    0,
    86_400_000,
    60_000,
    '`docker` provider: a host whose engine has not answered for this long is marked down (0: at the first miss)',
  ),
});

export type SettingName = keyof typeof SettingsSchema.properties;

/**
 * What the `rallypoint` command's API commands read from the environment: where the service is
 * and the key to call it with (`--url` and `--key` override them). Checked like the service's
 * settings, so a bad value is one line naming it; the README's CLI table is rendered from here.
 */
export const CliSettingsSchema = Type.Object({
  RALLYPOINT_URL: text("the service the CLI's API commands call; `--url` overrides it", {
    default: 'http://127.0.0.1:8080',
    pattern: '^https?://[^\\s/?#]+([/?#]\\S*)?$',
    accepts: 'an http:// or https:// URL like http://127.0.0.1:8080',
  }),
  RALLYPOINT_API_KEY: text(
    "the API key the CLI's API commands send; `--key` overrides it (`serve` instead reads it as the key to create on first start)",
    {
      ...API_KEY_FORMAT,
      secret: true,
    },
  ),
});

/** What a setting accepts, in words, for errors and docs. */
export function describeAccepted(schema: TSchema): string {
  if (typeof schema['accepts'] === 'string') return schema['accepts'];
  if (schema.type === 'integer') return `an integer from ${schema['minimum']} to ${schema['maximum']}`;
  if (schema.type === 'boolean') return 'true or false';
  if (Array.isArray(schema['anyOf']))
    return `one of ${(schema['anyOf'] as TSchema[]).map((s) => s['const']).join(', ')}`;
  return 'non-empty text';
}
