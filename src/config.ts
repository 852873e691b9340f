/**
 * The one place that reads the environment. Parsed once, validated, frozen.
 * Every other module receives the values it needs as arguments.
 */
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
  /** When set, GET /metrics requires `Authorization: Bearer <token>`. */
  readonly metricsToken: string | undefined;
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
    metricsToken: text(env, 'METRICS_TOKEN'),
  };
  return Object.freeze(config);
}
