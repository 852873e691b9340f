import type { Queryable } from '../db.js';

export type WebhookDeliveryState = 'pending' | 'delivered' | 'dead';

export interface WebhookDeliveryRecord {
  id: number;
  deliveryId: string;
  orgId: number;
  subject: string;
  sessionId: string | null;
  requestId: string | null;
  event: string;
  url: string;
  body: string;
  state: WebhookDeliveryState;
  attempts: number;
  nextAttemptAt: Date;
  retryUntil: Date;
  lastStatus: number | null;
  lastError: string | null;
  lastAttemptAt: Date | null;
  deliveredAt: Date | null;
  createdAt: Date;
}

/** A claimed delivery with the organisation's secret as it is now (a rotation signs later attempts). */
export interface ClaimedWebhookDelivery extends WebhookDeliveryRecord {
  webhookSecret: string;
}

interface DeliveryRow {
  id: number; delivery_id: string; org_id: number; subject: string; session_id: string | null; request_id: string | null;
  event: string; url: string; body: string; state: WebhookDeliveryState; attempts: number; next_attempt_at: Date;
  retry_until: Date; last_status: number | null; last_error: string | null; last_attempt_at: Date | null;
  delivered_at: Date | null; created_at: Date;
}

const COLUMNS = `id, delivery_id, org_id, subject, session_id, request_id, event, url, body, state, attempts, next_attempt_at,
  retry_until, last_status, last_error, last_attempt_at, delivered_at, created_at`;

function toDelivery(row: DeliveryRow): WebhookDeliveryRecord {
  return {
    id: row.id, deliveryId: row.delivery_id, orgId: row.org_id, subject: row.subject, sessionId: row.session_id,
    requestId: row.request_id, event: row.event, url: row.url, body: row.body, state: row.state, attempts: row.attempts,
    nextAttemptAt: row.next_attempt_at, retryUntil: row.retry_until, lastStatus: row.last_status, lastError: row.last_error,
    lastAttemptAt: row.last_attempt_at, deliveredAt: row.delivered_at, createdAt: row.created_at,
  };
}

/** What the outbox writes; the rest of a delivery's fields start at their defaults. */
export type NewWebhookDelivery = Pick<
  WebhookDeliveryRecord,
  'deliveryId' | 'orgId' | 'subject' | 'sessionId' | 'requestId' | 'event' | 'url' | 'body' | 'retryUntil'
> & { now: Date };

/** Writes an outbox row, due at once; called inside the transaction of the change it reports. */
export async function insertWebhookDelivery(db: Queryable, d: NewWebhookDelivery): Promise<void> {
  await db.query(
    `INSERT INTO webhook_deliveries (delivery_id, org_id, subject, session_id, request_id, event, url, body, state,
       next_attempt_at, retry_until, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'pending', $9, $10, $9)`,
    [d.deliveryId, d.orgId, d.subject, d.sessionId, d.requestId, d.event, d.url, d.body, d.now, d.retryUntil],
  );
}

/**
 * Claims due deliveries by leasing them: next_attempt_at moves to `leaseUntil` and attempts
 * grows by one, so no other process sees them as due while this one POSTs (SKIP LOCKED keeps
 * two claimers off the same row). Only the oldest pending delivery of each subject is eligible,
 * which keeps one session's transitions in order. A process that dies mid-attempt leaves the
 * lease to expire, and the delivery is attempted again (at least once, never twice at once).
 */
export async function claimDueWebhookDeliveries(db: Queryable, now: Date, leaseUntil: Date, limit: number): Promise<ClaimedWebhookDelivery[]> {
  const { rows } = await db.query<DeliveryRow & { webhook_secret: string }>(
    `WITH claimed AS (
       UPDATE webhook_deliveries d SET next_attempt_at = $2, attempts = d.attempts + 1, last_attempt_at = $1
       WHERE d.state = 'pending' AND d.next_attempt_at <= $1 AND d.id IN (
         SELECT c.id FROM webhook_deliveries c
         WHERE c.state = 'pending' AND c.next_attempt_at <= $1
           AND NOT EXISTS (SELECT 1 FROM webhook_deliveries e WHERE e.subject = c.subject AND e.state = 'pending' AND e.id < c.id)
         ORDER BY c.next_attempt_at, c.id LIMIT $3 FOR UPDATE SKIP LOCKED)
       RETURNING d.*)
     SELECT claimed.*, o.webhook_secret FROM claimed JOIN organisations o ON o.id = claimed.org_id ORDER BY claimed.id`,
    [now, leaseUntil, limit],
  );
  return rows.map((row) => ({ ...toDelivery(row), webhookSecret: row.webhook_secret }));
}

/** Records a 2xx, unless the delivery was claimed again since (its attempts moved on). */
export async function markWebhookDelivered(db: Queryable, d: { id: number; attempts: number; status: number; now: Date }): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE webhook_deliveries SET state = 'delivered', last_status = $3, last_error = NULL, delivered_at = $4
     WHERE id = $1 AND attempts = $2 AND state = 'pending'`,
    [d.id, d.attempts, d.status, d.now],
  );
  return rowCount > 0;
}

/** Records a failed attempt and when to try again (same fencing as markWebhookDelivered). */
export async function rescheduleWebhookDelivery(
  db: Queryable,
  d: { id: number; attempts: number; status: number | null; error: string; nextAttemptAt: Date },
): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE webhook_deliveries SET next_attempt_at = $5, last_status = $3, last_error = $4
     WHERE id = $1 AND attempts = $2 AND state = 'pending'`,
    [d.id, d.attempts, d.status, d.error.slice(0, 2000), d.nextAttemptAt],
  );
  return rowCount > 0;
}

/** Gives up on a delivery: no more attempts until someone replays it. */
export async function markWebhookDead(db: Queryable, d: { id: number; attempts: number; status: number | null; error: string }): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE webhook_deliveries SET state = 'dead', last_status = $3, last_error = $4
     WHERE id = $1 AND attempts = $2 AND state = 'pending'`,
    [d.id, d.attempts, d.status, d.error.slice(0, 2000)],
  );
  return rowCount > 0;
}

/** The organisation's newest deliveries, optionally of one session or one deployment. */
export async function selectWebhookDeliveries(
  db: Queryable,
  query: { orgId: number; sessionId?: string; requestId?: string; limit: number },
): Promise<WebhookDeliveryRecord[]> {
  const { rows } = await db.query<DeliveryRow>(
    `SELECT ${COLUMNS} FROM webhook_deliveries
     WHERE org_id = $1 AND ($2::text IS NULL OR session_id = $2) AND ($3::text IS NULL OR request_id = $3)
     ORDER BY id DESC LIMIT $4`,
    [query.orgId, query.sessionId ?? null, query.requestId ?? null, query.limit],
  );
  return rows.map(toDelivery);
}

export async function selectWebhookDelivery(db: Queryable, orgId: number, deliveryId: string): Promise<WebhookDeliveryRecord | undefined> {
  const { rows } = await db.query<DeliveryRow>(`SELECT ${COLUMNS} FROM webhook_deliveries WHERE org_id = $1 AND delivery_id = $2`, [orgId, deliveryId]);
  return rows[0] ? toDelivery(rows[0]) : undefined;
}

/** A dead delivery becomes pending and due at `now`, with a fresh retry window. */
export async function replayDeadWebhookDelivery(
  db: Queryable,
  d: { orgId: number; deliveryId: string; now: Date; retryUntil: Date },
): Promise<WebhookDeliveryRecord | undefined> {
  const { rows } = await db.query<DeliveryRow>(
    `UPDATE webhook_deliveries SET state = 'pending', next_attempt_at = $3, retry_until = $4
     WHERE org_id = $1 AND delivery_id = $2 AND state = 'dead'
     RETURNING ${COLUMNS}`,
    [d.orgId, d.deliveryId, d.now, d.retryUntil],
  );
  return rows[0] ? toDelivery(rows[0]) : undefined;
}
