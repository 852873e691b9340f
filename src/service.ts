/**
 * Assembles a running service from a config: database, migrations, first-start bootstrap, HTTP
 * server and background workers. main.ts, the CLI's `serve` and the tests all start it this way.
 */
import type { FastifyInstance } from 'fastify';
import type { Config } from './config.js';
import { emptyListeners, noGeo, systemClock, type AppDeps, type Clock, type GeoLocator } from './app/deps.js';
import { bootstrapOrganisation } from './app/keys.js';
import type { Db } from './db/db.js';
import { migrate } from './db/migrate.js';
import { openDb } from './db/open-db.js';
import { buildServer, type ServerOptions } from './http/server.js';
import { deploymentJobHandlers } from './jobs/deployment-jobs.js';
import { createJobWorker, type JobHandler, type JobWorker } from './jobs/worker.js';
import { ProviderRegistry, type Provider } from './providers/provider.js';
import { createRegisteredProvider } from './providers/registered.js';
import { createMetrics, registerMetricsRoute, type Metrics } from './observability/metrics.js';

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
  /** Set when this start created the first organisation with a random key. */
  printedKey: string | undefined;
  close(): Promise<void>;
}

export async function startService(options: ServiceOptions): Promise<Service> {
  const { config } = options;
  const ownsDb = options.db === undefined;
  const db = options.db ?? (await openDb({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, poolSize: config.databasePoolSize }));
  await migrate(db);
  const bootstrap = await bootstrapOrganisation({ db }, config.bootstrapApiKey);
  const deps: AppDeps = {
    db,
    clock: options.clock ?? systemClock,
    geo: options.geo ?? noGeo,
    providers: new ProviderRegistry([createRegisteredProvider(), ...(options.providers ?? [])]),
    listeners: emptyListeners(),
  };
  const metrics = createMetrics(deps);
  metrics.attachObserver(deps);
  const serverOptions = options.server ?? {};
  const app = await buildServer(deps, {
    logLevel: config.logLevel, bodyLimitBytes: config.bodyLimitBytes, ...serverOptions,
    publicRoutes: [
      (root) => {
        metrics.attach(root);
        registerMetricsRoute(root, metrics, config.metricsToken);
      },
      ...(serverOptions.publicRoutes ?? []),
    ],
  });
  const jobs = createJobWorker({
    db, clock: deps.clock, pollMs: config.jobPollMs,
    handlers: { ...deploymentJobHandlers(deps), ...(options.jobHandlers?.(deps) ?? {}) },
    onError: (error, job) => app.log.error({ err: error, job: job?.kind }, 'background job failed'),
  });
  return {
    deps, app, jobs, metrics, printedKey: bootstrap.printedKey,
    async close() {
      await app.close();
      await jobs.stop();
      for (const provider of deps.providers.all()) await provider.close?.();
      if (ownsDb) await db.close();
    },
  };
}
