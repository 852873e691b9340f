import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { AppDeps } from '../../app/deps.js';
import { listDeliveries, readWebhookSecret, replayDelivery, rotateWebhookSecret } from '../../app/webhooks.js';
import type { WebhookDeliveryRecord } from '../../db/queries/webhooks.js';
import { formatTimestamp } from '../../domain/time-format.js';
import { sendResult } from '../errors.js';
import { errors } from './common.js';

const tags = ['Webhooks (ext)'];

const Secret = Type.Object({ webhook_secret: Type.String() });
const Delivery = Type.Object({
  delivery_id: Type.String(),
  event: Type.String(),
  url: Type.String(),
  state: Type.Union([Type.Literal('pending'), Type.Literal('delivered'), Type.Literal('dead')]),
  attempts: Type.Integer(),
  session_id: Type.Optional(Type.String()),
  request_id: Type.Optional(Type.String()),
  last_status: Type.Optional(Type.Integer()),
  last_error: Type.Optional(Type.String()),
  /** Only while pending. While an attempt is in flight this is when its lease ends. */
  next_attempt: Type.Optional(Type.String()),
  last_attempt_time: Type.Optional(Type.String()),
  delivered_time: Type.Optional(Type.String()),
  create_time: Type.String(),
  /** The JSON that is (or was) POSTed. */
  body: Type.Unknown(),
});

function deliveryView(d: WebhookDeliveryRecord) {
  const optional = {
    session_id: d.sessionId ?? undefined, request_id: d.requestId ?? undefined, last_status: d.lastStatus ?? undefined,
    last_error: d.lastError ?? undefined, next_attempt: d.state === 'pending' ? formatTimestamp(d.nextAttemptAt) : undefined,
    last_attempt_time: d.lastAttemptAt ? formatTimestamp(d.lastAttemptAt) : undefined,
    delivered_time: d.deliveredAt ? formatTimestamp(d.deliveredAt) : undefined,
  };
  return {
    delivery_id: d.deliveryId, event: d.event, url: d.url, state: d.state, attempts: d.attempts, create_time: formatTimestamp(d.createdAt),
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

  app.get('/v1/webhooks/secret', {
    schema: { tags, operationId: 'webhook-secret-get', summary: 'The key webhook signatures are made with', response: { 200: Secret, ...errors() } },
  }, async (request) => ({ webhook_secret: await readWebhookSecret(deps, request.orgId) }));

  app.post('/v1/webhooks/secret/rotate', {
    schema: {
      tags, operationId: 'webhook-secret-rotate', summary: 'Replace the webhook secret; later attempts are signed with the new one',
      response: { 200: Secret, ...errors() },
    },
  }, async (request) => ({ webhook_secret: await rotateWebhookSecret(deps, request.orgId) }));

  app.get('/v1/webhooks/deliveries', {
    schema: {
      tags, operationId: 'webhook-deliveries-list', summary: 'Recent deliveries, newest first',
      querystring: Type.Object({
        session_id: Type.Optional(Type.String({ maxLength: 64 })),
        request_id: Type.Optional(Type.String({ maxLength: 64 })),
        limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
      }),
      response: { 200: Type.Object({ deliveries: Type.Array(Delivery) }), ...errors() },
    },
  }, async (request) => {
    const { session_id: sessionId, request_id: requestId, limit } = request.query;
    const deliveries = await listDeliveries(deps, request.orgId, {
      limit: limit ?? 50, ...(sessionId ? { sessionId } : {}), ...(requestId ? { requestId } : {}),
    });
    return { deliveries: deliveries.map(deliveryView) };
  });

  app.post('/v1/webhooks/deliveries/:delivery_id/replay', {
    schema: {
      tags, operationId: 'webhook-delivery-replay', summary: 'Attempt a dead delivery again',
      params: Type.Object({ delivery_id: Type.String({ maxLength: 64 }) }), response: { 200: Delivery, ...errors(404, 409) },
    },
  }, async (request, reply) => sendResult(reply, await replayDelivery(deps, request.orgId, request.params.delivery_id, options.maxAgeMs), deliveryView));
}
