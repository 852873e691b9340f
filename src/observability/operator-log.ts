/**
 * What an operator reads in the log besides requests: game servers starting, exiting and
 * failing, and webhook deliveries that fail or die. One line each, with ids to look further.
 */
import type { ChangeListeners, DeploymentEvent } from '../app/deps.js';
import type { DeploymentRecord } from '../domain/records.js';
import type { TargetBackoffReport, UndeliveredReport } from '../jobs/webhooks/delivery-worker.js';

export interface OperatorLogger {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
}

const MESSAGES: Partial<Record<DeploymentEvent, { level: 'info' | 'warn'; message: string }>> = {
  created: { level: 'info', message: 'game server requested' },
  ready: { level: 'info', message: 'game server started' },
  stopped: { level: 'info', message: 'game server exited' },
  error: { level: 'warn', message: 'game server failed' },
};

/**
 * Logs deployment changes once their transaction has done all its work (just before COMMIT), so
 * a change that fails midway is not reported.
 */
export function registerDeploymentLog(listeners: ChangeListeners, log: () => OperatorLogger): void {
  listeners.deployment.push(async (tx, event, deployment: DeploymentRecord) => {
    const entry = MESSAGES[event];
    if (!entry) return;
    tx.beforeCommit(async () => {
      log()[entry.level](
        {
          request_id: deployment.requestId,
          org: deployment.orgId,
          provider: deployment.provider,
          status: deployment.status,
          ...(deployment.errorDetail ? { error: deployment.errorDetail } : {}),
        },
        entry.message,
      );
    });
  });
}

export function logUndeliveredWebhook(log: OperatorLogger, report: UndeliveredReport): void {
  const fields = {
    delivery_id: report.deliveryId,
    event: report.event,
    attempts: report.attempts,
    http_status: report.status,
    error: report.error,
    ...(report.nextAttemptAt ? { next_attempt_at: report.nextAttemptAt.toISOString() } : {}),
  };
  log.warn(
    fields,
    report.outcome === 'dead'
      ? 'webhook delivery dead: no more retries (replay it to try again)'
      : 'webhook delivery failed; will retry',
  );
}

export function logWebhookTargetBackoff(log: OperatorLogger, report: TargetBackoffReport): void {
  log.warn(
    {
      target: report.target,
      consecutive_failures: report.consecutiveFailures,
      blocked_until: report.blockedUntil.toISOString(),
      error: report.error,
    },
    'webhook target not answering: its deliveries wait until blocked_until',
  );
}

/** Routes polled by machines or serving files: logged per request only at debug level. */
const QUIET_ROUTES = new Set([
  '/healthz',
  '/readyz',
  '/metrics',
  '/dashboard',
  '/dashboard/:file',
  '/docs',
  '/docs/*',
  '/docs/static/*',
  '/openapi.json',
  '/favicon.ico',
]);

export function isQuietRoute(route: string): boolean {
  return QUIET_ROUTES.has(route) || route.startsWith('/docs/');
}
