/**
 * The one place that reads the environment. Parsed once, validated, frozen.
 * Every other module receives the values it needs as arguments.
 */
import { DEFAULT_WEBHOOK_DENY_CIDRS, parseCidr } from './app/webhook-url.js';

export interface Config {
  readonly host: string;
  readonly port: number;
  /** PostgreSQL connection string; when absent the embedded PGlite engine is used. */
  readonly databaseUrl: string | undefined;
  /** Directory of the embedded database; `memory://` keeps it in memory. */
  readonly dataDir: string;
  readonly databasePoolSize: number;
  /** A key to create on first start instead of a random one. */
  readonly bootstrapApiKey: string | undefined;
  readonly logLevel: string;
  /** Request bodies larger than this are refused with 413. */
  readonly bodyLimitBytes: number;
  /** How long SIGTERM waits for in-flight requests before closing anyway. */
  readonly shutdownGraceMs: number;
  /** How often each process looks for due background jobs. */
  readonly jobPollMs: number;
  /** Public base URL of this service, used in links handed to game servers. */
  readonly publicUrl: string;
  /** Providers that can host deployments (PROVIDERS, comma separated): `registered`, `process`. */
  readonly providers: readonly string[];
  /** How often lifetimes (empty_ttl, session_max_duration, heartbeats) are swept. */
  readonly lifetimeSweepMs: number;
  readonly process: ProcessProviderConfig;
  /** When set, GET /metrics requires `Authorization: Bearer <token>`. */
  readonly metricsToken: string | undefined;
  /** How often committed events are numbered and announced on the stream (EVENT_SEQUENCE_MS). */
  readonly eventSequenceMs: number;
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
  /** First retry delay; each later one doubles, up to an hour, with jitter (WEBHOOK_RETRY_BASE_MS). */
  readonly webhookRetryBaseMs: number;
  /** Addresses webhooks may never reach (WEBHOOK_DENY_CIDRS, comma separated); replaces the default list. */
  readonly webhookDenyCidrs: readonly string[];
}

/** The local process provider (see src/providers/process.ts). */
export interface ProcessProviderConfig {
  /** Where its deployments are said to be (PROCESS_LOCATION, JSON with the wire location fields). */
  readonly location: {
    city: string; country: string; continent: string; administrativeDivision: string; region: string; timezone: string;
    latitude: number | null; longitude: number | null;
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

export class ConfigError extends Error {}

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name} must be an integer from ${min} to ${max}, got "${raw}"`);
  }
  return value;
}

function text(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const raw = env[name];
  return raw === undefined || raw.trim() === '' ? undefined : raw.trim();
}

function processLocation(env: NodeJS.ProcessEnv): ProcessProviderConfig['location'] {
  const fallback = { city: 'Local', country: 'Local', continent: 'Local', administrativeDivision: '', region: '', timezone: 'UTC', latitude: null, longitude: null };
  const raw = text(env, 'PROCESS_LOCATION');
  if (raw === undefined) return fallback;
  let given: Record<string, unknown>;
  try {
    given = JSON.parse(raw) as Record<string, unknown>;
  } catch {
    throw new ConfigError('PROCESS_LOCATION must be a JSON object like {"city":"Montreal","country":"Canada","latitude":45.5,"longitude":-73.6}');
  }
  if (typeof given !== 'object' || given === null) throw new ConfigError('PROCESS_LOCATION must be a JSON object');
  const str = (key: string, base: string) => (typeof given[key] === 'string' ? (given[key] as string) : base);
  const num = (key: string) => (typeof given[key] === 'number' && Number.isFinite(given[key]) ? (given[key] as number) : null);
  return {
    city: str('city', fallback.city), country: str('country', fallback.country), continent: str('continent', fallback.continent),
    administrativeDivision: str('administrative_division', ''), region: str('region', ''), timezone: str('timezone', fallback.timezone),
    latitude: num('latitude'), longitude: num('longitude'),
  };
}

function processConfig(env: NodeJS.ProcessEnv): ProcessProviderConfig {
  const inherit = (text(env, 'PROCESS_INHERIT_ENV') ?? 'PATH,HOME,LANG,TZ,SYSTEMROOT').split(',').map((n) => n.trim()).filter(Boolean);
  return Object.freeze({
    location: Object.freeze(processLocation(env)),
    publicIp: text(env, 'PROCESS_PUBLIC_IP') ?? '127.0.0.1',
    udpReadyMs: integer(env, 'PROCESS_UDP_READY_MS', 1000, 0, 600_000),
    readyTimeoutMs: integer(env, 'PROCESS_READY_TIMEOUT_MS', 120_000, 100, 3_600_000),
    stopGraceSeconds: integer(env, 'PROCESS_STOP_GRACE_SECONDS', 10, 0, 3600),
    workDir: text(env, 'PROCESS_WORKDIR') ?? process.cwd(),
    logDir: text(env, 'PROCESS_LOG_DIR') ?? `${env['TMPDIR'] ?? '/tmp'}/rallypoint-process-logs`,
    inheritedEnv: Object.freeze(Object.fromEntries(inherit.flatMap((name) => (env[name] !== undefined ? [[name, env[name]!]] : [])))),
    keepOnShutdown: env['PROCESS_KEEP_ON_SHUTDOWN'] === 'true',
  });
}

function webhookDenyCidrs(env: NodeJS.ProcessEnv): readonly string[] {
  const raw = text(env, 'WEBHOOK_DENY_CIDRS');
  if (raw === undefined) return DEFAULT_WEBHOOK_DENY_CIDRS;
  const cidrs = raw.split(',').map((c) => c.trim()).filter(Boolean);
  const bad = cidrs.filter((c) => parseCidr(c) === undefined);
  if (bad.length > 0) throw new ConfigError(`WEBHOOK_DENY_CIDRS must be comma-separated CIDRs like 169.254.0.0/16,fe80::/10; not a CIDR: ${bad.join(', ')}`);
  return Object.freeze(cidrs);
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const host = text(env, 'HOST') ?? '127.0.0.1';
  const port = integer(env, 'PORT', 8080, 0, 65535);
  const config: Config = {
    host,
    port,
    databaseUrl: text(env, 'DATABASE_URL'),
    dataDir: text(env, 'RALLYPOINT_DATA_DIR') ?? './data/rallypoint',
    databasePoolSize: integer(env, 'DATABASE_POOL_SIZE', 10, 1, 500),
    bootstrapApiKey: text(env, 'RALLYPOINT_API_KEY'),
    logLevel: text(env, 'LOG_LEVEL') ?? 'info',
    bodyLimitBytes: integer(env, 'BODY_LIMIT_BYTES', 1024 * 1024, 1024, 64 * 1024 * 1024),
    shutdownGraceMs: integer(env, 'SHUTDOWN_GRACE_MS', 10_000, 0, 600_000),
    jobPollMs: integer(env, 'JOB_POLL_MS', 500, 10, 60_000),
    publicUrl: text(env, 'RALLYPOINT_PUBLIC_URL') ?? `http://${host}:${port}`,
    providers: Object.freeze((text(env, 'PROVIDERS') ?? 'registered').split(',').map((p) => p.trim()).filter(Boolean)),
    lifetimeSweepMs: integer(env, 'LIFETIME_SWEEP_MS', 15_000, 10, 3_600_000),
    process: processConfig(env),
    metricsToken: text(env, 'METRICS_TOKEN'),
    eventSequenceMs: integer(env, 'EVENT_SEQUENCE_MS', 20, 1, 60_000),
    createBatchMax: integer(env, 'CREATE_BATCH_MAX', 32, 1, 1_000),
    createBatchRunners: env['CREATE_BATCH_RUNNERS'] ? integer(env, 'CREATE_BATCH_RUNNERS', 1, 1, 500) : undefined,
    rateLimitPerSecond: integer(env, 'RATE_LIMIT_PER_SECOND', 0, 0, 1_000_000),
    rateLimitBurst: integer(env, 'RATE_LIMIT_BURST', 0, 0, 1_000_000),
    webhookTimeoutMs: integer(env, 'WEBHOOK_TIMEOUT_MS', 10_000, 10, 120_000),
    webhookMaxAgeMs: integer(env, 'WEBHOOK_MAX_AGE_MS', 24 * 3_600_000, 0, 30 * 24 * 3_600_000),
    webhookRetryBaseMs: integer(env, 'WEBHOOK_RETRY_BASE_MS', 5_000, 1_000, 3_600_000),
    webhookDenyCidrs: webhookDenyCidrs(env),
  };
  return Object.freeze(config);
}
