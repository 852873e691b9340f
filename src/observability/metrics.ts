/**
 * Prometheus metrics. One registry per service instance (tests run several in one process).
 * Labels are bounded: route templates, status codes, session states, app/version/city names of
 * the operator's own fleet — never ids.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../app/deps.js';
import type { Queryable } from '../db/db.js';
import { countDueJobs } from '../db/queries/jobs.js';
import { countSessionsByStatus, sumSeatsByVersionAndCity } from '../db/queries/fleet-stats.js';

export interface Metrics {
  registry: Registry;
  /** Placement outcome and how long placement took, in seconds. */
  observePlacement(outcome: 'linked' | 'autodeployed' | 'unprocessable', seconds: number): void;
  /** Webhook delivery attempt outcome and latency, in seconds. */
  observeWebhook(outcome: 'delivered' | 'failed' | 'dead', seconds: number): void;
}

export function createMetrics(deps: Pick<AppDeps, 'db' | 'clock'>): Metrics & { attach(app: FastifyInstance): void; attachObserver(deps: AppDeps): void } {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'rallypoint_' });

  const requests = new Counter({ name: 'rallypoint_http_requests_total', help: 'HTTP requests by route template, method and status', labelNames: ['method', 'route', 'status'], registers: [registry] });
  const latency = new Histogram({
    name: 'rallypoint_http_request_duration_seconds', help: 'HTTP request latency by route template and method', labelNames: ['method', 'route'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5], registers: [registry],
  });
  const placements = new Counter({ name: 'rallypoint_placements_total', help: 'Session placements by outcome', labelNames: ['outcome'], registers: [registry] });
  const placementLatency = new Histogram({
    name: 'rallypoint_placement_duration_seconds', help: 'Time to place a session (transaction included)', labelNames: ['outcome'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1], registers: [registry],
  });
  const webhooks = new Counter({ name: 'rallypoint_webhook_deliveries_total', help: 'Webhook delivery attempts by outcome', labelNames: ['outcome'], registers: [registry] });
  const webhookLatency = new Histogram({
    name: 'rallypoint_webhook_delivery_duration_seconds', help: 'Webhook delivery attempt latency', labelNames: ['outcome'],
    buckets: [0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30], registers: [registry],
  });

  const db: Queryable = deps.db;
  new Gauge({
    name: 'rallypoint_sessions', help: 'Visible sessions by status and kind', labelNames: ['status', 'kind'], registers: [registry],
    async collect() {
      this.reset();
      for (const row of await countSessionsByStatus(db)) this.set({ status: row.status, kind: row.kind }, row.count);
    },
  });
  const seatsTotal = new Gauge({ name: 'rallypoint_seats_total', help: 'Seats offered by live deployments', labelNames: ['app', 'version', 'city'], registers: [registry] });
  new Gauge({
    name: 'rallypoint_seats_used', help: 'Seats held by sessions on live deployments', labelNames: ['app', 'version', 'city'], registers: [registry],
    async collect() {
      this.reset();
      seatsTotal.reset();
      for (const row of await sumSeatsByVersionAndCity(db)) {
        const labels = { app: row.app, version: row.version, city: row.city };
        this.set(labels, row.used);
        seatsTotal.set(labels, row.total);
      }
    },
  });
  new Gauge({
    name: 'rallypoint_jobs_due', help: 'Background jobs due now and not yet taken', registers: [registry],
    async collect() {
      this.set(await countDueJobs(db, deps.clock.now()));
    },
  });
  const fullDb = deps.db as AppDeps['db'];
  new Gauge({
    name: 'rallypoint_db_pool_connections', help: 'Database pool connections by state', labelNames: ['state'], registers: [registry],
    collect() {
      const stats = fullDb.poolStats();
      this.set({ state: 'total' }, stats.total);
      this.set({ state: 'idle' }, stats.idle);
      this.set({ state: 'waiting' }, stats.waiting);
    },
  });

  const metrics: Metrics = {
    registry,
    observePlacement(outcome, seconds) {
      placements.inc({ outcome });
      placementLatency.observe({ outcome }, seconds);
    },
    observeWebhook(outcome, seconds) {
      webhooks.inc({ outcome });
      webhookLatency.observe({ outcome }, seconds);
    },
  };

  return {
    ...metrics,
    attach(app) {
      app.addHook('onResponse', async (request, reply) => {
        const route = request.routeOptions.url ?? 'unmatched';
        if (route === '/metrics') return;
        requests.inc({ method: request.method, route, status: String(reply.statusCode) });
        latency.observe({ method: request.method, route }, reply.elapsedTime / 1000);
      });
    },
    attachObserver(appDeps) {
      appDeps.observer = metrics;
    },
  };
}

/** GET /metrics in Prometheus text format; guarded by a bearer token when one is configured. */
export function registerMetricsRoute(app: FastifyInstance, metrics: Metrics, token: string | undefined): void {
  app.get('/metrics', { schema: { hide: true } }, async (request, reply) => {
    if (token && request.headers.authorization !== `Bearer ${token}`) {
      return reply.code(401).send({ message: 'Metrics need "Authorization: Bearer <METRICS_TOKEN>".', code: 'UNAUTHORIZED' });
    }
    reply.header('content-type', metrics.registry.contentType);
    return metrics.registry.metrics();
  });
}
