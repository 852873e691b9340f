/**
 * Prometheus metrics. One registry per service instance (tests run several in one process).
 * Labels are bounded: route templates, status codes, session states, app/version/city names,
 * and `org`, the organisation's id, on every series about tenants' resources, so two
 * organisations' same-named apps never merge — never session or deployment ids. Names follow
 * Prometheus: base units (`_seconds`, `_bytes`), `_total` on counters only; the default process
 * and Node.js series keep their standard names. README.md lists every series.
 */
import { timingSafeEqual } from 'node:crypto';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../app/deps.js';
import type { Queryable } from '../db/db.js';
import { countDueJobs, countJobsByState, JOB_STATES } from '../db/queries/jobs.js';
import { countSessionsByStatus, sumSeatsByVersionAndCity } from '../db/queries/fleet-stats.js';
import { registerHostGauges } from './host-metrics.js';

export interface Metrics {
  registry: Registry;
  /** Placement outcome and how long placement took, in seconds, for an organisation. */
  observePlacement(outcome: 'linked' | 'autodeployed' | 'unprocessable', seconds: number, orgId: number): void;
  /** Webhook delivery attempt outcome and latency, in seconds, for an organisation. */
  observeWebhook(outcome: 'delivered' | 'failed' | 'dead', seconds: number, orgId: number): void;
}

/** How often nodejs_eventloop_lag_* samples the event loop. */
const EVENT_LOOP_SAMPLE_MS = 100;

export function createMetrics(
  deps: Pick<AppDeps, 'db' | 'clock'>,
): Metrics & { attach(app: FastifyInstance): void; attachObserver(deps: AppDeps): void } {
  const registry = new Registry();
  // The event-loop delay histogram samples every EVENT_LOOP_SAMPLE_MS. prom-client's default of
  // 10 ms wakes an idle server 100 times a second, which cost about 0.4% of a core on its own
  // (bench/idle.ts); at 100 ms it costs under 0.05%, and a stall shorter than that still shows as
  // the delay of the sample that waited behind it.
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS });

  const requests = new Counter({
    name: 'rallypoint_http_requests_total',
    help: 'HTTP requests by organisation (none: unauthenticated), route template, method and status',
    labelNames: ['org', 'method', 'route', 'status'],
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'rallypoint_http_request_duration_seconds',
    help: 'HTTP request latency by route template and method',
    labelNames: ['method', 'route'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  const placements = new Counter({
    name: 'rallypoint_placements_total',
    help: 'Session placements by organisation and outcome',
    labelNames: ['org', 'outcome'],
    registers: [registry],
  });
  const placementLatency = new Histogram({
    name: 'rallypoint_placement_duration_seconds',
    help: 'Time to place a session (transaction included)',
    labelNames: ['outcome'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [registry],
  });
  const webhooks = new Counter({
    name: 'rallypoint_webhook_deliveries_total',
    help: 'Webhook delivery attempts by organisation and outcome',
    labelNames: ['org', 'outcome'],
    registers: [registry],
  });
  const webhookLatency = new Histogram({
    name: 'rallypoint_webhook_delivery_duration_seconds',
    help: 'Webhook delivery attempt latency by organisation and outcome',
    labelNames: ['org', 'outcome'],
    buckets: [0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30],
    registers: [registry],
  });

  const db: Queryable = deps.db;
  new Gauge({
    name: 'rallypoint_sessions',
    help: 'Visible sessions by organisation, status and kind',
    labelNames: ['org', 'status', 'kind'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const row of await countSessionsByStatus(db))
        this.set({ org: String(row.org_id), status: row.status, kind: row.kind }, Number(row.count));
    },
  });
  const seatLabels = ['org', 'app', 'version', 'city'];
  // The registry collects every metric at once: both seat gauges share the query in flight,
  // so capacity and use come from one snapshot (and neither shows the previous scrape's).
  let seatsQuery: ReturnType<typeof sumSeatsByVersionAndCity> | undefined;
  const seatRows = () =>
    (seatsQuery ??= sumSeatsByVersionAndCity(db).finally(() => {
      seatsQuery = undefined;
    }));
  for (const [name, help, column] of [
    ['rallypoint_seats_capacity', 'Seats offered by live deployments', 'total'],
    ['rallypoint_seats_used', 'Seats held by sessions on live deployments', 'used'],
  ] as const) {
    new Gauge({
      name,
      help,
      labelNames: seatLabels,
      registers: [registry],
      async collect() {
        const rows = await seatRows();
        this.reset();
        for (const row of rows)
          this.set({ org: String(row.org_id), app: row.app, version: row.version, city: row.city }, row[column]);
      },
    });
  }
  new Gauge({
    name: 'rallypoint_jobs_due',
    help: 'Background jobs due now and not yet taken',
    registers: [registry],
    async collect() {
      this.set(await countDueJobs(db, deps.clock.now()));
    },
  });
  new Gauge({
    name: 'rallypoint_jobs',
    help: 'Background jobs by state (pending, running, failed, dead)',
    labelNames: ['state'],
    registers: [registry],
    async collect() {
      const counts = new Map((await countJobsByState(db)).map((row) => [row.state, row.count]));
      // Every state, zeros included, so an alert on dead jobs sees 0 rather than no series.
      for (const state of JOB_STATES) this.set({ state }, counts.get(state) ?? 0);
    },
  });
  registerHostGauges(registry, db);
  const fullDb = deps.db as AppDeps['db'];
  new Gauge({
    name: 'rallypoint_db_pool_connections',
    help: 'Database pool connections by state',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      const stats = fullDb.poolStats();
      this.set({ state: 'total' }, stats.total);
      this.set({ state: 'idle' }, stats.idle);
      this.set({ state: 'waiting' }, stats.waiting);
    },
  });

  const metrics: Metrics = {
    registry,
    observePlacement(outcome, seconds, orgId) {
      placements.inc({ org: String(orgId), outcome });
      placementLatency.observe({ outcome }, seconds);
    },
    observeWebhook(outcome, seconds, orgId) {
      webhooks.inc({ org: String(orgId), outcome });
      webhookLatency.observe({ org: String(orgId), outcome }, seconds);
    },
  };

  return {
    ...metrics,
    attach(app) {
      app.addHook('onResponse', (request, reply, done) => {
        const route = request.routeOptions.url ?? 'unmatched';
        if (route === '/metrics') return done();
        requests.inc({
          org: request.orgId ? String(request.orgId) : 'none',
          method: request.method,
          route,
          status: String(reply.statusCode),
        });
        latency.observe({ method: request.method, route }, reply.elapsedTime / 1000);
        done();
      });
    },
    attachObserver(appDeps) {
      appDeps.observer = metrics;
    },
  };
}

export interface MetricsAccess {
  /** The bearer token a scraper must send (METRICS_TOKEN). */
  token: string | undefined;
  /** Without a token, serve metrics to anyone (METRICS_PUBLIC): an explicit opt-in. */
  isPublic: boolean;
}

function hasToken(authorization: string | undefined, token: string): boolean {
  const given = Buffer.from(authorization ?? '');
  const expected = Buffer.from(`Bearer ${token}`);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/**
 * GET /metrics in Prometheus text format. The series name every organisation's apps, cities
 * and volumes, so they are private by default: a bearer token, or an explicit opt-in to serve
 * them to anyone; with neither, the route answers 401 and says how to turn it on.
 */
export function registerMetricsRoute(app: FastifyInstance, metrics: Metrics, access: MetricsAccess): void {
  app.get('/metrics', { schema: { hide: true } }, async (request, reply) => {
    const { token, isPublic } = access;
    if (token === undefined && !isPublic) {
      return reply.code(401).send({
        message: 'Metrics are off: set METRICS_TOKEN (or METRICS_PUBLIC=true) to serve them.',
        code: 'UNAUTHORIZED',
      });
    }
    if (token !== undefined && !hasToken(request.headers.authorization, token)) {
      return reply
        .code(401)
        .send({ message: 'Metrics need "Authorization: Bearer <METRICS_TOKEN>".', code: 'UNAUTHORIZED' });
    }
    reply.header('content-type', metrics.registry.contentType);
    return metrics.registry.metrics();
  });
}
