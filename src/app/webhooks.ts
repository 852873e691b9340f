/** Webhook use cases behind the (ext) /v1/webhooks routes: the secret, the delivery log, replay. */
import {
  replayDeadWebhookDelivery,
  selectWebhookDeliveries,
  selectWebhookDelivery,
  type WebhookDeliveryRecord,
} from '../db/queries/webhooks.js';
import { fail, ok, type Result } from '../domain/errors.js';
import type { AppDeps } from './deps.js';
import { readWebhookSecret, rotateWebhookSecret } from './keys.js';

export { readWebhookSecret, rotateWebhookSecret };

export interface DeliveryQuery {
  sessionId?: string;
  requestId?: string;
  limit: number;
}

/** The organisation's newest deliveries, optionally of one session or deployment. */
export function listDeliveries(
  deps: Pick<AppDeps, 'db'>,
  orgId: number,
  query: DeliveryQuery,
): Promise<WebhookDeliveryRecord[]> {
  return selectWebhookDeliveries(deps.db, { orgId, ...query });
}

/**
 * A dead delivery is attempted again at once, with a fresh retry window of `maxAgeMs`. It keeps
 * its delivery id: a receiver that did get it (and answered badly) can still de-duplicate.
 */
export async function replayDelivery(
  deps: Pick<AppDeps, 'db' | 'clock'>,
  orgId: number,
  deliveryId: string,
  maxAgeMs: number,
): Promise<Result<WebhookDeliveryRecord>> {
  const now = deps.clock.now();
  const replayed = await replayDeadWebhookDelivery(deps.db, {
    orgId,
    deliveryId,
    now,
    retryUntil: new Date(now.getTime() + maxAgeMs),
  });
  if (replayed) return ok(replayed);
  const found = await selectWebhookDelivery(deps.db, orgId, deliveryId);
  if (!found) return fail('DELIVERY_NOT_FOUND', `Webhook delivery ${deliveryId} does not exist.`);
  return fail(
    'DELIVERY_NOT_DEAD',
    `Webhook delivery ${deliveryId} is ${found.state}; only a dead delivery can be replayed.`,
  );
}
