/**
 * The outbox side of webhooks: change listeners that write a delivery row in the transaction of
 * the change, so a webhook is sent if and only if the change committed, even across crashes.
 */
import { randomBytes } from 'node:crypto';
import type { Tx } from '../../db/db.js';
import { insertWebhookDelivery } from '../../db/queries/webhooks.js';
import { selectSessionsOfDeployment } from '../../db/queries/sessions.js';
import { sessionContextView, statusView } from '../../contract/views.js';
import type { DeploymentRecord, SessionRecord } from '../../domain/records.js';
import { webhookTarget } from '../../domain/webhook-targets.js';
import type { ChangeListeners, Clock, DeploymentEvent, SessionEvent } from '../../app/deps.js';

/** Session transitions that webhooks report (docs/wire-contract.md#webhooks), and their Rallypoint-Event names. */
const SESSION_EVENTS: Partial<Record<SessionEvent, string>> = {
  ready: 'session.ready',
  unprocessable: 'session.unprocessable',
  error: 'session.error',
};
const DEPLOYMENT_EVENTS: Partial<Record<DeploymentEvent, string>> = {
  ready: 'deployment.ready',
  error: 'deployment.error',
};

export function newDeliveryId(): string {
  return `whd_${randomBytes(10).toString('hex')}`;
}

export interface OutboxOptions {
  clock: Clock;
  /** How long a delivery is retried before it turns dead. */
  maxAgeMs: number;
  /** Called once a transaction that wrote deliveries has committed (wakes the delivery worker). */
  onCommitted?: () => void;
}

async function enqueue(
  tx: Tx,
  options: OutboxOptions,
  d: {
    orgId: number;
    subject: string;
    sessionId: string | null;
    requestId: string | null;
    event: string;
    url: string;
    body: unknown;
  },
): Promise<void> {
  const now = options.clock.now();
  if (options.onCommitted) tx.afterCommit(options.onCommitted);
  await insertWebhookDelivery(tx, {
    deliveryId: newDeliveryId(),
    orgId: d.orgId,
    subject: d.subject,
    sessionId: d.sessionId,
    requestId: d.requestId,
    event: d.event,
    url: d.url,
    target: webhookTarget(d.url),
    body: JSON.stringify(d.body),
    now,
    retryUntil: new Date(now.getTime() + options.maxAgeMs),
  });
}

/** Adds the webhook listeners to `listeners` (the deps' lists, shared with every use case). */
export function registerWebhookOutbox(listeners: ChangeListeners, options: OutboxOptions): void {
  listeners.session.push(
    async (tx: Tx, event: SessionEvent, session: SessionRecord, deployment: DeploymentRecord | null) => {
      const name = SESSION_EVENTS[event];
      if (!name || !session.webhookUrl) return;
      const requestId = deployment?.requestId ?? null;
      await enqueue(tx, options, {
        orgId: session.orgId,
        subject: `session:${session.sessionId}`,
        sessionId: session.sessionId,
        requestId,
        event: name,
        url: session.webhookUrl,
        body: sessionContextView(session, requestId),
      });
    },
  );
  listeners.deployment.push(async (tx: Tx, event: DeploymentEvent, deployment: DeploymentRecord) => {
    const name = DEPLOYMENT_EVENTS[event];
    if (!name || !deployment.webhookUrl) return;
    const sessions = await selectSessionsOfDeployment(tx, deployment.id);
    await enqueue(tx, options, {
      orgId: deployment.orgId,
      subject: `deployment:${deployment.requestId}`,
      sessionId: null,
      requestId: deployment.requestId,
      event: name,
      url: deployment.webhookUrl,
      body: statusView(deployment, sessions, options.clock.now()),
    });
  });
}
