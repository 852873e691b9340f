import type { Db, Queryable } from '../db.js';
import {
  DELIVERY_CONCURRENCY,
  TARGET_FAILURES_BEFORE_BACKOFF,
  type DeliveryConcurrency,
} from '../../domain/webhook-targets.js';

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
  /** The URL's origin (domain/webhook-targets.ts): the unit of concurrency caps and target back-off. */
  target: string;
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
  id: number;
  delivery_id: string;
  org_id: number;
  subject: string;
  session_id: string | null;
  request_id: string | null;
  event: string;
  url: string;
  target: string;
  body: string;
  state: WebhookDeliveryState;
  attempts: number;
  next_attempt_at: Date;
  retry_until: Date;
  last_status: number | null;
  last_error: string | null;
  last_attempt_at: Date | null;
  delivered_at: Date | null;
  created_at: Date;
}

const COLUMNS = `id, delivery_id, org_id, subject, session_id, request_id, event, url, target, body, state, attempts, next_attempt_at,
  retry_until, last_status, last_error, last_attempt_at, delivered_at, created_at`;

function toDelivery(row: DeliveryRow): WebhookDeliveryRecord {
  return {
    id: row.id,
    deliveryId: row.delivery_id,
    orgId: row.org_id,
    subject: row.subject,
    sessionId: row.session_id,
    requestId: row.request_id,
    event: row.event,
    url: row.url,
    target: row.target,
    body: row.body,
    state: row.state,
    attempts: row.attempts,
    nextAttemptAt: row.next_attempt_at,
    retryUntil: row.retry_until,
    lastStatus: row.last_status,
    lastError: row.last_error,
    lastAttemptAt: row.last_attempt_at,
    deliveredAt: row.delivered_at,
    createdAt: row.created_at,
  };
}

/** What the outbox writes; the rest of a delivery's fields start at their defaults. */
export type NewWebhookDelivery = Pick<
  WebhookDeliveryRecord,
  'deliveryId' | 'orgId' | 'subject' | 'sessionId' | 'requestId' | 'event' | 'url' | 'target' | 'body' | 'retryUntil'
> & { now: Date };

/** Writes an outbox row, due at once; called inside the transaction of the change it reports. */
export async function insertWebhookDelivery(db: Queryable, d: NewWebhookDelivery): Promise<void> {
  await db.query(
    `INSERT INTO webhook_deliveries (delivery_id, org_id, subject, session_id, request_id, event, url, target, body, state,
       next_attempt_at, retry_until, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $11, $8, 'pending', $9, $10, $9)`,
    [d.deliveryId, d.orgId, d.subject, d.sessionId, d.requestId, d.event, d.url, d.body, d.now, d.retryUntil, d.target],
  );
}

/**
 * When the next pending delivery that heads its subject can be claimed: its next attempt, or its
 * target's back-off end if later. Null when nothing is pending. In-flight attempts count at their
 * lease end, when another process may take them over.
 */
export async function selectNextWebhookDueAt(db: Queryable): Promise<Date | null> {
  const { rows } = await db.query<{ due_at: Date | null }>(
    `SELECT min(GREATEST(d.next_attempt_at, t.blocked_until)) AS due_at
     FROM webhook_deliveries d LEFT JOIN webhook_targets t ON t.target = d.target
     WHERE d.state = 'pending'
       AND d.id = (SELECT min(e.id) FROM webhook_deliveries e WHERE e.subject = d.subject AND e.state = 'pending')`,
  );
  return rows[0]?.due_at ?? null;
}

/**
 * Deletes up to `limit` delivered or dead deliveries written before `before`, oldest first
 * (index webhook_deliveries_finished, migration 014). Returns how many.
 */
export async function deleteFinishedWebhookDeliveriesBefore(
  db: Queryable,
  before: Date,
  limit: number,
): Promise<number> {
  const { rowCount } = await db.query(
    `DELETE FROM webhook_deliveries WHERE id IN (
       SELECT id FROM webhook_deliveries WHERE state <> 'pending' AND created_at < $1 ORDER BY created_at LIMIT $2)`,
    [before, limit],
  );
  return rowCount;
}

/**
 * Forgets targets last heard from (a failure or a success) before `before` that have no pending
 * delivery and are not backed off at `now`: their next delivery starts them afresh.
 */
export async function deleteIdleWebhookTargetsBefore(db: Queryable, before: Date, now: Date): Promise<number> {
  const { rowCount } = await db.query(
    `DELETE FROM webhook_targets t
     WHERE GREATEST(t.last_failure_at, t.last_success_at) < $1
       AND (t.blocked_until IS NULL OR t.blocked_until <= $2)
       AND NOT EXISTS (SELECT FROM webhook_deliveries d WHERE d.target = t.target AND d.state = 'pending')`,
    [before, now],
  );
  return rowCount;
}

/** Caps the claim respects, counted in SQL across every process (domain/webhook-targets.ts). */
export type ClaimLimits = Pick<DeliveryConcurrency, 'perTarget' | 'perOrg'> & {
  /** Written to leased_by, so an operator sees which process holds an attempt. */
  workerId: string;
};

const DEFAULT_LIMITS: ClaimLimits = {
  perTarget: DELIVERY_CONCURRENCY.perTarget,
  perOrg: DELIVERY_CONCURRENCY.perOrg,
  workerId: 'unnamed',
};

/** Claimers take this lock one at a time, so two cannot both fill a target's last free slot. */
const CLAIM_LOCK = 7_011_011_011;

/**
 * Claims due deliveries by leasing them: next_attempt_at and leased_until move to `leaseUntil`,
 * leased_by names the worker and attempts grows by one, so no other process sees them as due
 * while this one POSTs. Only the oldest pending delivery of each subject is eligible, which keeps
 * one session's transitions in order. A process that dies mid-attempt leaves the lease to
 * expire, and the delivery is attempted again (at least once, never twice at once).
 *
 * Fairness is decided here, not by the caller: a target that is backed off (webhook_targets.
 * blocked_until) is skipped; no target gets more than `perTarget` attempts in flight (one while
 * it is probed after a back-off) and no organisation more than `perOrg`, counting every
 * process's unexpired leases. Within those caps the oldest due deliveries go first, so a
 * thousand deliveries to one dead receiver at the head of the queue take its few slots and the
 * rest of the claim goes to other targets.
 */
export async function claimDueWebhookDeliveries(
  db: Db,
  now: Date,
  leaseUntil: Date,
  limit: number,
  limits: ClaimLimits = DEFAULT_LIMITS,
): Promise<ClaimedWebhookDelivery[]> {
  const rows = await db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [CLAIM_LOCK]);
    const { rows } = await tx.query<DeliveryRow & { webhook_secret: string }>(
      // Work grows with the number of targets and the slots free, not with the deliveries
      // waiting: targets with pending deliveries are found by skipping through an index, and
      // each open target gives at most its free slots. Every step is materialised once, and the
      // subject head is a per-row index lookup, so a burst of rows not yet analysed cannot turn
      // the plan quadratic.
      `WITH RECURSIVE pending_targets AS (
         (SELECT target FROM webhook_deliveries WHERE state = 'pending' ORDER BY target LIMIT 1)
         UNION ALL
         SELECT (SELECT w.target FROM webhook_deliveries w WHERE w.state = 'pending' AND w.target > p.target ORDER BY w.target LIMIT 1)
         FROM pending_targets p WHERE p.target IS NOT NULL),
       in_flight AS MATERIALIZED (
         SELECT target, org_id FROM webhook_deliveries WHERE leased_until IS NOT NULL AND leased_until > $1 AND state = 'pending'),
       busy_targets AS MATERIALIZED (SELECT target, count(*) AS n FROM in_flight GROUP BY target),
       busy_orgs AS MATERIALIZED (SELECT org_id, count(*) AS n FROM in_flight GROUP BY org_id),
       open_targets AS MATERIALIZED (
         SELECT p.target, CASE WHEN coalesce(t.consecutive_failures, 0) >= $6 THEN 1 ELSE $4 END - coalesce(bt.n, 0) AS free
         FROM pending_targets p
         LEFT JOIN webhook_targets t ON t.target = p.target
         LEFT JOIN busy_targets bt ON bt.target = p.target
         WHERE p.target IS NOT NULL AND (t.blocked_until IS NULL OR t.blocked_until <= $1)),
       candidates AS MATERIALIZED (
         SELECT c.id, c.org_id, c.next_attempt_at
         FROM open_targets o CROSS JOIN LATERAL (
           SELECT c.id, c.org_id, c.next_attempt_at FROM webhook_deliveries c
           WHERE c.target = o.target AND c.state = 'pending' AND c.next_attempt_at <= $1
             AND c.id = (SELECT min(e.id) FROM webhook_deliveries e WHERE e.subject = c.subject AND e.state = 'pending')
           ORDER BY c.next_attempt_at, c.id LIMIT greatest(o.free, 0)) c),
       ranked AS MATERIALIZED (
         SELECT c.id, c.next_attempt_at, $5 - coalesce(bo.n, 0) AS org_free,
           row_number() OVER (PARTITION BY c.org_id ORDER BY c.next_attempt_at, c.id) AS org_rank
         FROM candidates c LEFT JOIN busy_orgs bo ON bo.org_id = c.org_id),
       picked AS MATERIALIZED (SELECT id FROM ranked WHERE org_rank <= org_free ORDER BY next_attempt_at, id LIMIT $3),
       locked AS MATERIALIZED (
         SELECT l.id FROM webhook_deliveries l
         WHERE l.id = ANY (ARRAY(SELECT id FROM picked)) AND l.state = 'pending' AND l.next_attempt_at <= $1
         FOR UPDATE SKIP LOCKED),
       claimed AS (
         UPDATE webhook_deliveries d SET next_attempt_at = $2, leased_until = $2, leased_by = $7, attempts = d.attempts + 1, last_attempt_at = $1
         FROM locked WHERE d.id = locked.id
         RETURNING d.*)
       SELECT claimed.*, o.webhook_secret FROM claimed JOIN organisations o ON o.id = claimed.org_id ORDER BY claimed.id`,
      [now, leaseUntil, limit, limits.perTarget, limits.perOrg, TARGET_FAILURES_BEFORE_BACKOFF, limits.workerId],
    );
    return rows;
  });
  return rows.map((row) => ({ ...toDelivery(row), webhookSecret: row.webhook_secret }));
}

/**
 * Records a 2xx, unless the delivery was claimed again since (its attempts moved on); the
 * target answered, so its failure count and any back-off are reset in the same statement.
 */
export async function markWebhookDelivered(
  db: Queryable,
  d: { id: number; attempts: number; status: number; now: Date },
): Promise<boolean> {
  const { rows } = await db.query<{ delivered: number }>(
    `WITH delivered AS (
       UPDATE webhook_deliveries SET state = 'delivered', last_status = $3, last_error = NULL, delivered_at = $4,
         leased_until = NULL, leased_by = NULL
       WHERE id = $1 AND attempts = $2 AND state = 'pending'
       RETURNING target),
     reset AS (
       UPDATE webhook_targets SET consecutive_failures = 0, backoffs = 0, blocked_until = NULL, last_success_at = $4
       WHERE target IN (SELECT target FROM delivered) AND (consecutive_failures > 0 OR blocked_until IS NOT NULL))
     SELECT count(*) AS delivered FROM delivered`,
    [d.id, d.attempts, d.status, d.now],
  );
  return rows[0]!.delivered > 0;
}

/** Records a failed attempt and when to try again (same fencing as markWebhookDelivered). */
export async function rescheduleWebhookDelivery(
  db: Queryable,
  d: { id: number; attempts: number; status: number | null; error: string; nextAttemptAt: Date },
): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE webhook_deliveries SET next_attempt_at = $5, last_status = $3, last_error = $4, leased_until = NULL, leased_by = NULL
     WHERE id = $1 AND attempts = $2 AND state = 'pending'`,
    [d.id, d.attempts, d.status, d.error.slice(0, 2000), d.nextAttemptAt],
  );
  return rowCount > 0;
}

/** Gives up on a delivery: no more attempts until someone replays it. */
export async function markWebhookDead(
  db: Queryable,
  d: { id: number; attempts: number; status: number | null; error: string },
): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE webhook_deliveries SET state = 'dead', last_status = $3, last_error = $4, leased_until = NULL, leased_by = NULL
     WHERE id = $1 AND attempts = $2 AND state = 'pending'`,
    [d.id, d.attempts, d.status, d.error.slice(0, 2000)],
  );
  return rowCount > 0;
}

/** A target's failure record (webhook_targets); absent until it first fails to answer. */
export interface WebhookTargetRecord {
  target: string;
  consecutiveFailures: number;
  backoffs: number;
  blockedUntil: Date | null;
  lastError: string | null;
  lastFailureAt: Date | null;
  lastSuccessAt: Date | null;
}

interface TargetRow {
  target: string;
  consecutive_failures: number;
  backoffs: number;
  blocked_until: Date | null;
  last_error: string | null;
  last_failure_at: Date | null;
  last_success_at: Date | null;
}

function toTarget(row: TargetRow): WebhookTargetRecord {
  return {
    target: row.target,
    consecutiveFailures: row.consecutive_failures,
    backoffs: row.backoffs,
    blockedUntil: row.blocked_until,
    lastError: row.last_error,
    lastFailureAt: row.last_failure_at,
    lastSuccessAt: row.last_success_at,
  };
}

/** Counts one more unanswered attempt of `target`; returns the target as it now stands. */
export async function recordWebhookTargetFailure(
  db: Queryable,
  d: { target: string; error: string; now: Date },
): Promise<WebhookTargetRecord> {
  const { rows } = await db.query<TargetRow>(
    `INSERT INTO webhook_targets AS t (target, consecutive_failures, last_error, last_failure_at) VALUES ($1, 1, $2, $3)
     ON CONFLICT (target) DO UPDATE SET consecutive_failures = t.consecutive_failures + 1, last_error = $2, last_failure_at = $3
     RETURNING *`,
    [d.target, d.error.slice(0, 2000), d.now],
  );
  return toTarget(rows[0]!);
}

/**
 * Backs `target` off until `blockedUntil`, as the `backoffs`-th wait in a row, unless something
 * changed since the caller read it (another process backed it off first, or a success reset it).
 */
export async function blockWebhookTarget(
  db: Queryable,
  d: { target: string; backoffs: number; blockedUntil: Date; now: Date },
): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE webhook_targets SET backoffs = $2, blocked_until = $3
     WHERE target = $1 AND backoffs = $2 - 1 AND consecutive_failures >= $5 AND (blocked_until IS NULL OR blocked_until <= $4)`,
    [d.target, d.backoffs, d.blockedUntil, d.now, TARGET_FAILURES_BEFORE_BACKOFF],
  );
  return rowCount > 0;
}

export async function selectWebhookTarget(db: Queryable, target: string): Promise<WebhookTargetRecord | undefined> {
  const { rows } = await db.query<TargetRow>('SELECT * FROM webhook_targets WHERE target = $1', [target]);
  return rows[0] ? toTarget(rows[0]) : undefined;
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

export async function selectWebhookDelivery(
  db: Queryable,
  orgId: number,
  deliveryId: string,
): Promise<WebhookDeliveryRecord | undefined> {
  const { rows } = await db.query<DeliveryRow>(
    `SELECT ${COLUMNS} FROM webhook_deliveries WHERE org_id = $1 AND delivery_id = $2`,
    [orgId, deliveryId],
  );
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
