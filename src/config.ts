/**
 * The one place that reads the environment. Parsed once, validated against the settings schema
 * (src/config-schema.ts) before anything else runs, frozen. Every other module receives the
 * values it needs as arguments.
 */
import type { Static, TObject, TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { DEFAULT_WEBHOOK_DENY_CIDRS } from './app/webhook-url.js';
import { CliSettingsSchema, describeAccepted, SettingsSchema } from './config-schema.js';

export interface Config {
  readonly host: string;
  readonly port: number;
  /** PostgreSQL connection string; when absent the embedded PostgreSQL server is started. */
  readonly databaseUrl: string | undefined;
  /** Directory of the embedded PostgreSQL server (its cluster, socket and lock). */
  readonly dataDir: string;
  /** Also let the embedded server listen on 127.0.0.1 at this port; unset: its unix socket only. */
  readonly embeddedPort: number | undefined;
  readonly databasePoolSize: number;
  /** Apply pending migrations at start (MIGRATE_ON_START); when false, refuse a database not at this build's schema. */
  readonly migrateOnStart: boolean;
  /** How long a start waits for the migration lock (MIGRATION_LOCK_TIMEOUT_MS). */
  readonly migrationLockTimeoutMs: number;
  /** A key to create on first start instead of a random one. */
  readonly bootstrapApiKey: string | undefined;
  readonly logLevel: Static<typeof SettingsSchema.properties.LOG_LEVEL>;
  /** Request bodies larger than this are refused with 413. */
  readonly bodyLimitBytes: number;
  /** How long SIGTERM waits for in-flight requests before closing anyway. */
  readonly shutdownGraceMs: number;
  /** How often each process looks for due background jobs. */
  readonly jobPollMs: number;
  /** Whether adding a job wakes the job workers at once (else they find it on their next poll). */
  readonly jobWakeOnInsert: boolean;
  /** With jobWakeOnInsert, the longest a job worker sleeps when no job is due sooner. */
  readonly jobFallbackPollMs: number;
  /** Dead jobs are deleted once dead this long (0: never). */
  readonly jobDeadRetentionMs: number;
  /** Public base URL of this service, used in links handed to game servers. */
  readonly publicUrl: string;
  /** Providers that can host deployments (PROVIDERS, comma separated): `registered`, `process`. */
  readonly providers: readonly string[];
  /** How often lifetimes (empty_ttl, session_max_duration, heartbeats) are swept. */
  readonly lifetimeSweepMs: number;
  readonly process: ProcessProviderConfig;
  readonly docker: DockerProviderConfig;
  /** When set, GET /metrics requires `Authorization: Bearer <token>`. */
  readonly metricsToken: string | undefined;
  /** Without a token, GET /metrics answers anyone (METRICS_PUBLIC); else it answers 401. */
  readonly isMetricsPublic: boolean;
  /** Server timeouts (REQUEST_TIMEOUT_MS, HEADERS_TIMEOUT_MS, KEEP_ALIVE_TIMEOUT_MS, CONNECTION_TIMEOUT_MS). */
  readonly timeouts: {
    readonly requestMs: number;
    readonly headersMs: number;
    readonly keepAliveMs: number;
    readonly connectionMs: number;
  };
  /** Load shedding (LOAD_SHED_MAX_EVENT_LOOP_DELAY_MS: 0 = off, LOAD_SHED_RETRY_AFTER_SECONDS). */
  readonly loadShedding: { readonly maxEventLoopDelayMs: number; readonly retryAfterSeconds: number };
  /** Most time between a commit and its events' numbering; least between two numberings (EVENT_SEQUENCE_MS). */
  readonly eventSequenceMs: number;
  /** How often events are numbered with no commit waking the sequencer (EVENT_SEQUENCE_FALLBACK_MS). */
  readonly eventSequenceFallbackMs: number;
  /** Limits of /v1/events (EVENT_STREAMS_PER_KEY, EVENT_STREAMS_PER_ORG, EVENT_REPLAY_MAX_EVENTS, EVENT_STREAM_QUEUE_MAX). */
  readonly eventStreams: {
    readonly perKey: number;
    readonly perOrg: number;
    readonly replayMaxEvents: number;
    readonly queueMax: number;
  };
  /** Most session creates that share one transaction under load (CREATE_BATCH_MAX; 1: none). */
  readonly createBatchMax: number;
  /** Create transactions running at once (CREATE_BATCH_RUNNERS); default 2 (1 with a pool of 1). */
  readonly createBatchRunners: number | undefined;
  /** Requests per second allowed per API key in each process; 0 turns limiting off (the default). */
  readonly rateLimitPerSecond: number;
  /** Requests a key may send at once before the per-second rate applies (default: one second's worth). */
  readonly rateLimitBurst: number;
  /** Each webhook POST is abandoned (and retried later) after this long (WEBHOOK_TIMEOUT_MS). */
  readonly webhookTimeoutMs: number;
  /** A delivery is retried for this long after it was written, then marked dead (WEBHOOK_MAX_AGE_MS). */
  readonly webhookMaxAgeMs: number;
  /** WEBHOOK_RETENTION_HOURS in ms (0: finished deliveries are kept). */
  readonly webhookRetentionMs: number;
  /** First retry delay; each later one doubles, up to an hour, with jitter (WEBHOOK_RETRY_BASE_MS). */
  readonly webhookRetryBaseMs: number;
  /** Addresses webhooks may never reach (WEBHOOK_DENY_CIDRS, comma separated); replaces the default list. */
  readonly webhookDenyCidrs: readonly string[];
}

/** The local process provider (see src/providers/process.ts). */
export interface ProcessProviderConfig {
  /** Where its deployments are said to be (PROCESS_LOCATION, JSON with the wire location fields). */
  readonly location: {
    city: string;
    country: string;
    continent: string;
    administrativeDivision: string;
    region: string;
    timezone: string;
    latitude: number | null;
    longitude: number | null;
  };
  /** Address players reach the processes at (PROCESS_PUBLIC_IP). */
  readonly publicIp: string;
  /** A deployment with no TCP port is ready once its process stayed up this long. */
  readonly udpReadyMs: number;
  /** A process whose TCP ports do not all accept connections by then is failed. */
  readonly readyTimeoutMs: number;
  /** SIGTERM to SIGKILL when the version has no termination_grace_period_seconds. */
  readonly stopGraceSeconds: number;
  /** Working directory of the game servers (relative `arguments` paths resolve from here). */
  readonly workDir: string;
  /** Each deployment's stdout and stderr go to `<logDir>/<request_id>.log`. */
  readonly logDir: string;
  /** Variables of this server's environment passed on to game servers (PATH and the like, never secrets). */
  readonly inheritedEnv: Readonly<Record<string, string>>;
  /** Leave game servers running when this server shuts down; the next start adopts them. */
  readonly keepOnShutdown: boolean;
}

/** The docker provider (src/providers/docker/): containers on the fleet's hosts. Meanings in config-schema.ts. */
export interface DockerProviderConfig {
  /** Base URL for the context and self-stop links; port 0 means the listening port. Default: the public URL. */
  readonly callbackUrl: string | undefined;
  readonly bindAllInterfaces: boolean;
  readonly udpReadyMs: number;
  readonly readyTimeoutMs: number;
  readonly stopGraceSeconds: number;
  readonly pullTimeoutMs: number;
  readonly reconcileMs: number;
  readonly engineTimeoutMs: number;
  readonly hostDownAfterMs: number;
}

/** Every bad setting, one line each: the variable and what it accepts. */
export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(problems.join('\n'));
    this.name = 'ConfigError';
  }
}

type Settings = Static<typeof SettingsSchema>;

/** The raw text as the schema's type: numbers, booleans, comma lists, JSON objects. */
function coerce(schema: TSchema, raw: string): unknown {
  if (schema.type === 'integer') return /^[+-]?\d+$/.test(raw) ? Number(raw) : raw;
  if (schema.type === 'boolean')
    return raw === 'true' || raw === '1' ? true : raw === 'false' || raw === '0' ? false : raw;
  if (schema.type === 'array')
    return raw
      .split(',')
      .map((item) => item.trim())
      .filter(Boolean);
  if (schema.type === 'object') {
    try {
      return JSON.parse(raw) as unknown;
    } catch {
      return raw;
    }
  }
  return raw;
}

/** The line for a value `schema` refuses: what it accepts, and the value unless it is secret. */
const refusal = (name: string, schema: TSchema, raw: string) =>
  `${name} must be ${describeAccepted(schema)}${schema['secret'] ? '' : `, got "${raw}"`}`;

/**
 * Reads and checks every setting of the schema. Unset or blank means the default. Throws one
 * ConfigError listing every bad variable, so an operator fixes them all in one go.
 */
export function readSettings(env: NodeJS.ProcessEnv): Partial<Settings> {
  return readSchemaSettings(SettingsSchema, env);
}

/** readSettings for any schema of variables (the service's, the CLI's). */
export function readSchemaSettings<T extends TObject>(settingsSchema: T, env: NodeJS.ProcessEnv): Partial<Static<T>> {
  const values: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const [name, schema] of Object.entries(settingsSchema.properties) as Array<[string, TSchema]>) {
    const raw = env[name]?.trim();
    if (raw === undefined || raw === '') {
      if (schema['default'] !== undefined) values[name] = schema['default'];
      continue;
    }
    const value = coerce(schema, raw);
    if (Value.Check(schema, value)) {
      values[name] = value;
    } else {
      problems.push(refusal(name, schema, raw));
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return values as Partial<Static<T>>;
}

/** Where the CLI's API commands go and the key they send. */
export interface CliConnection {
  readonly baseUrl: string;
  readonly apiKey: string | undefined;
}

/**
 * The CLI's connection: `--url`/`--key` when given, else RALLYPOINT_URL / RALLYPOINT_API_KEY,
 * each checked against CliSettingsSchema (a variable a flag overrides is not read). Throws one
 * ConfigError listing every bad value, flags named as flags.
 */
export function loadCliConnection(
  flags: { url?: string | undefined; key?: string | undefined },
  env: NodeJS.ProcessEnv,
): CliConnection {
  const { RALLYPOINT_URL: urlSchema, RALLYPOINT_API_KEY: keySchema } = CliSettingsSchema.properties;
  const problems: string[] = [];
  let fromEnv: Partial<Static<typeof CliSettingsSchema>> = {};
  try {
    fromEnv = readSchemaSettings(CliSettingsSchema, {
      RALLYPOINT_URL: flags.url === undefined ? env['RALLYPOINT_URL'] : undefined,
      RALLYPOINT_API_KEY: flags.key === undefined ? env['RALLYPOINT_API_KEY'] : undefined,
    });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    problems.push(...error.problems);
  }
  if (flags.url !== undefined && !Value.Check(urlSchema, flags.url))
    problems.push(refusal('--url', urlSchema, flags.url));
  if (flags.key !== undefined && !Value.Check(keySchema, flags.key))
    problems.push(refusal('--key', keySchema, flags.key));
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze({
    baseUrl: flags.url ?? fromEnv.RALLYPOINT_URL!,
    apiKey: flags.key ?? fromEnv.RALLYPOINT_API_KEY,
  });
}

function processConfig(s: Partial<Settings>, env: NodeJS.ProcessEnv): ProcessProviderConfig {
  const given = s.PROCESS_LOCATION ?? {};
  const location = {
    city: given.city ?? 'Local',
    country: given.country ?? 'Local',
    continent: given.continent ?? 'Local',
    administrativeDivision: given.administrative_division ?? '',
    region: given.region ?? '',
    timezone: given.timezone ?? 'UTC',
    latitude: given.latitude ?? null,
    longitude: given.longitude ?? null,
  };
  const inherit = s.PROCESS_INHERIT_ENV ?? [];
  return Object.freeze({
    location: Object.freeze(location),
    publicIp: s.PROCESS_PUBLIC_IP!,
    udpReadyMs: s.PROCESS_UDP_READY_MS!,
    readyTimeoutMs: s.PROCESS_READY_TIMEOUT_MS!,
    stopGraceSeconds: s.PROCESS_STOP_GRACE_SECONDS!,
    workDir: s.PROCESS_WORKDIR ?? process.cwd(),
    logDir: s.PROCESS_LOG_DIR ?? `${env['TMPDIR'] ?? '/tmp'}/rallypoint-process-logs`,
    inheritedEnv: Object.freeze(
      Object.fromEntries(inherit.flatMap((name) => (env[name] !== undefined ? [[name, env[name]!]] : []))),
    ),
    keepOnShutdown: s.PROCESS_KEEP_ON_SHUTDOWN!,
  });
}

function dockerConfig(s: Partial<Settings>): DockerProviderConfig {
  return Object.freeze({
    callbackUrl: s.DOCKER_CALLBACK_URL,
    bindAllInterfaces: s.DOCKER_BIND_ALL_INTERFACES!,
    udpReadyMs: s.DOCKER_UDP_READY_MS!,
    readyTimeoutMs: s.DOCKER_READY_TIMEOUT_MS!,
    stopGraceSeconds: s.DOCKER_STOP_GRACE_SECONDS!,
    pullTimeoutMs: s.DOCKER_PULL_TIMEOUT_MS!,
    reconcileMs: s.DOCKER_RECONCILE_MS!,
    engineTimeoutMs: s.DOCKER_ENGINE_TIMEOUT_MS!,
    hostDownAfterMs: s.DOCKER_HOST_DOWN_AFTER_MS!,
  });
}

/** Validates the environment against the settings schema and returns the frozen config. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const s = readSettings(env);
  const host = s.HOST!;
  const port = s.PORT!;
  const config: Config = {
    host,
    port,
    databaseUrl: s.DATABASE_URL,
    dataDir: s.RALLYPOINT_DATA_DIR!,
    embeddedPort: s.RALLYPOINT_EMBEDDED_PORT,
    databasePoolSize: s.DATABASE_POOL_SIZE!,
    migrateOnStart: s.MIGRATE_ON_START!,
    migrationLockTimeoutMs: s.MIGRATION_LOCK_TIMEOUT_MS!,
    bootstrapApiKey: s.RALLYPOINT_API_KEY,
    logLevel: s.LOG_LEVEL!,
    bodyLimitBytes: s.BODY_LIMIT_BYTES!,
    shutdownGraceMs: s.SHUTDOWN_GRACE_MS!,
    jobPollMs: s.JOB_POLL_MS!,
    jobWakeOnInsert: s.JOB_WAKE_ON_INSERT!,
    jobFallbackPollMs: s.JOB_FALLBACK_POLL_MS!,
    jobDeadRetentionMs: s.JOB_DEAD_RETENTION_HOURS! * 3_600_000,
    publicUrl: s.RALLYPOINT_PUBLIC_URL ?? `http://${host}:${port}`,
    providers: Object.freeze([...new Set(s.PROVIDERS!)]),
    lifetimeSweepMs: s.LIFETIME_SWEEP_MS!,
    process: processConfig(s, env),
    docker: dockerConfig(s),
    metricsToken: s.METRICS_TOKEN,
    isMetricsPublic: s.METRICS_PUBLIC!,
    timeouts: Object.freeze({
      requestMs: s.REQUEST_TIMEOUT_MS!,
      headersMs: s.HEADERS_TIMEOUT_MS!,
      keepAliveMs: s.KEEP_ALIVE_TIMEOUT_MS!,
      connectionMs: s.CONNECTION_TIMEOUT_MS!,
    }),
    loadShedding: Object.freeze({
      maxEventLoopDelayMs: s.LOAD_SHED_MAX_EVENT_LOOP_DELAY_MS!,
      retryAfterSeconds: s.LOAD_SHED_RETRY_AFTER_SECONDS!,
    }),
    eventSequenceMs: s.EVENT_SEQUENCE_MS!,
    eventSequenceFallbackMs: s.EVENT_SEQUENCE_FALLBACK_MS!,
    eventStreams: Object.freeze({
      perKey: s.EVENT_STREAMS_PER_KEY!,
      perOrg: s.EVENT_STREAMS_PER_ORG!,
      replayMaxEvents: s.EVENT_REPLAY_MAX_EVENTS!,
      queueMax: s.EVENT_STREAM_QUEUE_MAX!,
    }),
    createBatchMax: s.CREATE_BATCH_MAX!,
    createBatchRunners: s.CREATE_BATCH_RUNNERS,
    rateLimitPerSecond: s.RATE_LIMIT_PER_SECOND!,
    rateLimitBurst: s.RATE_LIMIT_BURST!,
    webhookTimeoutMs: s.WEBHOOK_TIMEOUT_MS!,
    webhookMaxAgeMs: s.WEBHOOK_MAX_AGE_MS!,
    webhookRetentionMs: s.WEBHOOK_RETENTION_HOURS! * 3_600_000,
    webhookRetryBaseMs: s.WEBHOOK_RETRY_BASE_MS!,
    webhookDenyCidrs: Object.freeze(s.WEBHOOK_DENY_CIDRS ?? DEFAULT_WEBHOOK_DENY_CIDRS),
  };
  return Object.freeze(config);
}
