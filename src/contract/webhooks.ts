import { Type } from '@sinclair/typebox';

/** (ext) The organisation's webhook signing secret. */
export const WebhookSecret = Type.Object({ webhook_secret: Type.String() });

/** (ext) One webhook delivery and where it stands. */
export const WebhookDelivery = Type.Object({
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

export const WebhookDeliveryList = Type.Object({ deliveries: Type.Array(WebhookDelivery) });

export const WebhookDeliveryQuery = Type.Object({
  session_id: Type.Optional(Type.String({ maxLength: 64 })),
  request_id: Type.Optional(Type.String({ maxLength: 64 })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
});

export const DeliveryIdParams = Type.Object({ delivery_id: Type.String({ maxLength: 64 }) });
