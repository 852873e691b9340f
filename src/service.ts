/**
 * Assembles a running service from a config: database, migrations, first-start bootstrap, HTTP
 * server and background workers. main.ts, the CLI's `serve` and the tests all start it this way.
 */
import type { FastifyInstance } from 'fastify';
import type { Config } from './config.js';
import { emptyListeners, systemClock, type AppDeps, type Clock, type GeoLocator } from './app/deps.js';
import { bootstrapOrganisation } from './app/keys.js';
import type { Db } from './db/db.js';
import { assertMigrated, loadMigrations, migrate, MigrationRefusedError } from './db/migrate.js';
import { openDb } from './db/open-db.js';
import { createTransactionBatcher } from './db/transaction-batcher.js';
import { loadDbipLocator } from './geo/dbip-locator.js';
import { buildServer, type ServerOptions } from './http/server.js';
import { deploymentJobHandlers } from './jobs/deployment-jobs.js';
import { createJobWorker, type JobHandler, type JobWorker } from './jobs/worker.js';
import { ProviderRegistry, type Provider } from './providers/provider.js';
import { createRegisteredProvider } from './providers/registered.js';
import { addProcessProvider, reconcileProviders } from './providers/process/wiring.js';
import { addDockerProvider } from './providers/docker/wiring.js';
import { registerDeploymentTelemetryRoutes, registerGameServerRoutes } from './http/routes/game-servers.js';
import { lifetimeJobHandlers, scheduleLifetimeSweep } from './jobs/lifetimes.js';
import { createMetrics, registerMetricsRoute, type Metrics } from './observability/metrics.js';
import { createWebhookDenyList } from './app/webhook-url.js';
import { registerWebhookRoutes } from './http/routes/webhooks.js';
import { createWebhookWorker, DELIVERY_BACKOFF, type WebhookWorker } from './jobs/webhooks/delivery-worker.js';
import { registerWebhookOutbox } from './jobs/webhooks/outbox.js';
import { registerEventLog } from './events/event-log.js';
import { logUndeliveredWebhook, logWebhookTargetBackoff, registerDeploymentLog } from './observability/operator-log.js';
import { TARGET_BACKOFF } from './domain/webhook-targets.js';
import { createEventBus, type EventBus } from './events/event-bus.js';
import { startEventSequencer, type EventSequencer } from './events/event-sequencer.js';
import { eventRoutes } from './http/routes/events.js';
import { createLogThrottle } from './observability/log-throttle.js';
import { registerDashboardPage, registerDashboardState } from './http/routes/dashboard.js';

export interface ServiceOptions {
  config: Config;
  /** Use this database instead of opening one from the config (tests share an engine). */
  db?: Db;
  clock?: Clock;
  geo?: GeoLocator;
  providers?: Provider[];
  server?: Omit<ServerOptions, 'logLevel' | 'bodyLimitBytes'>;
  /** Extra durable job handlers, by job kind. */
  jobHandlers?: (deps: AppDeps) => Record<string, JobHandler>;
}

export interface Service {
  deps: AppDeps;
  app: FastifyInstance;
  metrics: Metrics;
  jobs: JobWorker;
  /** Webhook delivery; runDue() attempts every due delivery now (tests drive time through it). */
  webhooks: WebhookWorker;
  /** Migrations this start applied (empty when the schema was already current). */
  migrationsApplied: string[];
  /** The newest migration of the schema the service runs on. */
  schemaVersion: number;
  /** Set when this start created the first organisation with a random key. */
  printedKey: string | undefined;
  /** Committed session and deployment events of every process, for /v1/events subscribers. */
  events: EventBus;
  /** Numbers committed events for the stream; runDue() does it now. */
  eventSequencer: EventSequencer;
  close(): Promise<void>;
}

export async function startService(options: ServiceOptions): Promise<Service> {
  const { config } = options;
  const ownsDb = options.db === undefined;
  const db =
    options.db ??
    (await openDb({
      databaseUrl: config.databaseUrl,
      dataDir: config.dataDir,
      embeddedPort: config.embeddedPort,
      poolSize: config.databasePoolSize,
    }));
  const migrations = await loadMigrations();
  let migrationsApplied: string[] = [];
  if (config.migrateOnStart)
    migrationsApplied = await migrate(db, { migrations, lockTimeoutMs: config.migrationLockTimeoutMs });
  else {
    await assertMigrated(db, migrations).catch((error: unknown) => {
      // Say why this process did not migrate it itself.
      throw error instanceof MigrationRefusedError
        ? new MigrationRefusedError(`${error.message} (MIGRATE_ON_START is false)`)
        : error;
    });
  }
  const schemaVersion = Math.max(0, ...migrations.map((m) => m.id));
  const bootstrap = await bootstrapOrganisation({ db }, config.bootstrapApiKey);
  const deps: AppDeps = {
    db,
    clock: options.clock ?? systemClock,
    // Default: the DB-IP city database from node_modules, loaded once per process.
    geo: options.geo ?? (await loadDbipLocator()),
    providers: new ProviderRegistry([createRegisteredProvider(), ...(options.providers ?? [])]),
    listeners: emptyListeners(),
    webhookDenyList: createWebhookDenyList(config.webhookDenyCidrs),
    createBatcher: createTransactionBatcher(db, {
      maxBatch: config.createBatchMax,
      // Fewer runners make bigger batches: two runners did 610-644 creates/s against 528 for one
      // and 445 for five (pool of 10, 64 clients).
      maxConcurrent: config.createBatchRunners ?? Math.max(1, Math.min(2, config.databasePoolSize - 1)),
    }),
  };
  // Set once the delivery worker runs; deliveries committed before that are found by its first look.
  let wakeWebhooks = () => {};
  registerWebhookOutbox(deps.listeners, {
    clock: deps.clock,
    maxAgeMs: config.webhookMaxAgeMs,
    onCommitted: () => wakeWebhooks(),
  });
  // Set once the sequencer runs (after the server is built); commits before that are numbered by its first run.
  let wakeSequencer = () => {};
  registerEventLog(deps, { onCommitted: () => wakeSequencer() });
  registerDeploymentLog(deps.listeners, () => app.log);
  // Background loops fail on every run while the database is down; one line per kind of failure
  // per window is enough to see the outage.
  const throttle = createLogThrottle({ windowMs: 10_000, nowMs: () => performance.now() });
  const logThrottled = (message: string) => (error: unknown) => {
    const { shouldLog, suppressed } = throttle.check(
      `${message}: ${error instanceof Error ? error.message : String(error)}`,
    );
    if (shouldLog) app.log.error({ err: error, ...(suppressed > 0 ? { suppressed } : {}) }, message);
  };
  const events = createEventBus({ db, onError: logThrottled('event stream') });
  if (config.providers.includes('process')) {
    addProcessProvider(deps, config, {
      log: (message, error) => app.log.error({ err: error }, message),
      listeningPort: () => (app.server.address() as { port?: number } | null)?.port,
    });
  }
  const docker = config.providers.includes('docker')
    ? addDockerProvider(deps, config, {
        log: (message, error) => app.log.error({ err: error }, message),
        listeningPort: () => (app.server.address() as { port?: number } | null)?.port,
      })
    : undefined;
  const metrics = createMetrics(deps);
  metrics.attachObserver(deps);
  const serverOptions = options.server ?? {};
  const app = await buildServer(deps, {
    logLevel: config.logLevel,
    bodyLimitBytes: config.bodyLimitBytes,
    timeouts: config.timeouts,
    loadShedding: config.loadShedding,
    ...serverOptions,
    rateLimit: {
      perSecond: config.rateLimitPerSecond,
      burst: Math.max(1, config.rateLimitBurst || config.rateLimitPerSecond),
    },
    publicRoutes: [
      (root) => {
        metrics.attach(root);
        registerMetricsRoute(root, metrics, { token: config.metricsToken, isPublic: config.isMetricsPublic });
      },
      registerGameServerRoutes,
      registerDashboardPage,
      ...(serverOptions.publicRoutes ?? []),
    ],
    extraRoutes: [
      (v1, d) => registerWebhookRoutes(v1, d, { maxAgeMs: config.webhookMaxAgeMs }),
      eventRoutes({
        bus: events,
        ...config.eventStreams,
        replayReadsAtOnce: Math.max(1, Math.floor(config.databasePoolSize / 4)),
      }),
      registerDashboardState,
      registerDeploymentTelemetryRoutes,
      ...(serverOptions.extraRoutes ?? []),
    ],
  });
  await events.start();
  const eventSequencer = startEventSequencer({
    db,
    minGapMs: config.eventSequenceMs,
    fallbackMs: config.eventSequenceFallbackMs,
    onError: logThrottled('event sequencer'),
  });
  wakeSequencer = () => eventSequencer.wake();
  eventSequencer.wake();
  const jobs = createJobWorker({
    db,
    clock: deps.clock,
    pollMs: config.jobPollMs,
    wakeOnInsert: config.jobWakeOnInsert,
    fallbackPollMs: config.jobFallbackPollMs,
    deadRetentionMs: config.jobDeadRetentionMs,
    handlers: {
      ...deploymentJobHandlers(deps),
      ...lifetimeJobHandlers(deps, config.lifetimeSweepMs),
      ...docker?.jobHandlers,
      ...(options.jobHandlers?.(deps) ?? {}),
    },
    onError: (error, job, outcome) => {
      if (!job) return logThrottled('background jobs')(error);
      const context = {
        err: error,
        job: job.kind,
        job_id: job.id,
        attempts: job.attempts,
        max_attempts: job.maxAttempts,
        outcome,
      };
      if (outcome === 'dead')
        app.log.error(context, 'background job is dead after its last attempt; `rallypoint jobs retry` puts it back');
      else app.log.error(context, 'background job failed');
    },
  });
  await jobs.ready;
  await scheduleLifetimeSweep(db, { at: deps.clock.now(), intervalMs: config.lifetimeSweepMs, nextSlot: false });
  await reconcileProviders(deps);
  await docker?.schedule();
  const webhooks = createWebhookWorker({
    db,
    clock: deps.clock,
    denyList: deps.webhookDenyList!,
    timeoutMs: config.webhookTimeoutMs,
    pollMs: config.jobPollMs,
    fallbackPollMs: config.jobWakeOnInsert ? config.jobFallbackPollMs : undefined,
    retentionMs: config.webhookRetentionMs,
    schedule: { ...DELIVERY_BACKOFF, firstMs: config.webhookRetryBaseMs },
    targetSchedule: { ...TARGET_BACKOFF, firstMs: config.webhookRetryBaseMs },
    onError: (error) => app.log.error({ err: error }, 'webhook delivery failed'),
    observe: (outcome, seconds, orgId) => metrics.observeWebhook(outcome, seconds, orgId),
    onUndelivered: (report) => logUndeliveredWebhook(app.log, report),
    onTargetBackedOff: (report) => logWebhookTargetBackoff(app.log, report),
  });
  if (config.jobWakeOnInsert) {
    wakeWebhooks = () => webhooks.wake();
    webhooks.wake();
  }
  return {
    deps,
    app,
    jobs,
    webhooks,
    metrics,
    events,
    eventSequencer,
    printedKey: bootstrap.printedKey,
    migrationsApplied,
    schemaVersion,
    async close() {
      await app.close();
      await eventSequencer.stop();
      await events.stop();
      await jobs.stop();
      await webhooks.stop();
      for (const provider of deps.providers.all()) await provider.close?.();
      if (ownsDb) await db.close();
    },
  };
}
