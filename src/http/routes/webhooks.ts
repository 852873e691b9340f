import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import {
  DeliveryIdParams,
  WebhookDelivery,
  WebhookDeliveryList,
  WebhookDeliveryQuery,
  WebhookSecret,
} from '../../contract/webhooks.js';
import type { AppDeps } from '../../app/deps.js';
import { listDeliveries, readWebhookSecret, replayDelivery, rotateWebhookSecret } from '../../app/webhooks.js';
import type { WebhookDeliveryRecord } from '../../db/queries/webhooks.js';
import { formatTimestamp } from '../../domain/time-format.js';
import { sendResult } from '../errors.js';
import { errors } from './common.js';

const tags = ['Webhooks (ext)'];

function deliveryView(d: WebhookDeliveryRecord) {
  const optional = {
    session_id: d.sessionId ?? undefined,
    request_id: d.requestId ?? undefined,
    last_status: d.lastStatus ?? undefined,
    last_error: d.lastError ?? undefined,
    next_attempt: d.state === 'pending' ? formatTimestamp(d.nextAttemptAt) : undefined,
    last_attempt_time: d.lastAttemptAt ? formatTimestamp(d.lastAttemptAt) : undefined,
    delivered_time: d.deliveredAt ? formatTimestamp(d.deliveredAt) : undefined,
  };
  return {
    delivery_id: d.deliveryId,
    event: d.event,
    url: d.url,
    state: d.state,
    attempts: d.attempts,
    create_time: formatTimestamp(d.createdAt),
    body: JSON.parse(d.body) as unknown,
    ...Object.fromEntries(Object.entries(optional).filter(([, value]) => value !== undefined)),
  };
}

export interface WebhookRouteOptions {
  /** Retry window a replayed delivery gets (WEBHOOK_MAX_AGE_MS). */
  maxAgeMs: number;
}

/** (ext) The organisation's webhook secret and its delivery log. */
export function registerWebhookRoutes(parent: FastifyInstance, deps: AppDeps, options: WebhookRouteOptions): void {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();

  app.get(
    '/v1/webhooks/secret',
    {
      schema: {
        tags,
        operationId: 'webhook-secret-get',
        summary: 'The key webhook signatures are made with',
        response: { 200: WebhookSecret, ...errors() },
      },
    },
    async (request) => ({ webhook_secret: await readWebhookSecret(deps, request.orgId) }),
  );

  app.post(
    '/v1/webhooks/secret/rotate',
    {
      schema: {
        tags,
        operationId: 'webhook-secret-rotate',
        summary: 'Replace the webhook secret; later attempts are signed with the new one',
        response: { 200: WebhookSecret, ...errors() },
      },
    },
    async (request) => ({ webhook_secret: await rotateWebhookSecret(deps, request.orgId) }),
  );

  app.get(
    '/v1/webhooks/deliveries',
    {
      schema: {
        tags,
        operationId: 'webhook-deliveries-list',
        summary: 'Recent deliveries, newest first',
        querystring: WebhookDeliveryQuery,
        response: { 200: WebhookDeliveryList, ...errors() },
      },
    },
    async (request) => {
      const { session_id: sessionId, request_id: requestId, limit } = request.query;
      const deliveries = await listDeliveries(deps, request.orgId, {
        limit: limit ?? 50,
        ...(sessionId ? { sessionId } : {}),
        ...(requestId ? { requestId } : {}),
      });
      return { deliveries: deliveries.map(deliveryView) };
    },
  );

  app.post(
    '/v1/webhooks/deliveries/:delivery_id/replay',
    {
      schema: {
        tags,
        operationId: 'webhook-delivery-replay',
        summary: 'Attempt a dead delivery again',
        params: DeliveryIdParams,
        response: { 200: WebhookDelivery, ...errors(404, 409) },
      },
    },
    async (request, reply) =>
      sendResult(
        reply,
        await replayDelivery(deps, request.orgId, request.params.delivery_id, options.maxAgeMs),
        deliveryView,
      ),
  );
}
