import type { Queryable } from '../db.js';

/** One committed row of the event log; `id` is its position, the public id on the stream. */
export interface EventRecord {
  id: number;
  orgId: number;
  type: string;
  sessionId: string | null;
  requestId: string | null;
  data: Record<string, unknown>;
  createdAt: Date;
}

interface EventRow {
  id: number; org_id: number; type: string; session_id: string | null; request_id: string | null;
  data: Record<string, unknown>; created_at: Date;
}

const COLUMNS = 'position AS id, org_id, type, session_id, request_id, data, created_at';

function toEvent(row: EventRow): EventRecord {
  return {
    id: row.id, orgId: row.org_id, type: row.type, sessionId: row.session_id, requestId: row.request_id,
    data: row.data, createdAt: row.created_at,
  };
}

export interface NewEvent {
  orgId: number;
  type: string;
  sessionId: string | null;
  requestId: string | null;
  data: Record<string, unknown>;
  createdAt: Date;
}

/**
 * Logs events, in their order, in one statement whatever their number (one text, so one prepared
 * statement). They get positions, and are announced, once committed and numbered by the
 * sequencer (migration 007); nothing is published if the transaction rolls back.
 */
export async function insertEvents(db: Queryable, events: readonly NewEvent[]): Promise<void> {
  if (events.length === 0) return;
  await db.query(
    `INSERT INTO events (org_id, type, session_id, request_id, data, created_at)
     SELECT o, t, s, r, d, c
     FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::jsonb[], $6::timestamptz[]) WITH ORDINALITY AS e(o, t, s, r, d, c, n)
     ORDER BY n`,
    [
      events.map((e) => e.orgId), events.map((e) => e.type), events.map((e) => e.sessionId), events.map((e) => e.requestId),
      events.map((e) => JSON.stringify(e.data)), events.map((e) => e.createdAt),
    ],
  );
}

/**
 * Drops up to `limit` events older than `before`. SKIP LOCKED: concurrent writers prune
 * disjoint rows instead of waiting on each other inside their change transactions.
 */
export async function deleteEventsBefore(db: Queryable, before: Date, limit: number): Promise<number> {
  const result = await db.query(
    `DELETE FROM events WHERE id IN (
       SELECT id FROM events WHERE created_at < $1 ORDER BY created_at, id LIMIT $2 FOR UPDATE SKIP LOCKED)`,
    [before, limit],
  );
  return result.rowCount;
}

/** Events of an organisation after `afterId` (optionally one session's), oldest first. */
export async function selectEventsAfter(
  db: Queryable,
  query: { orgId: number; afterId: number; sessionId?: string | undefined; limit: number },
): Promise<EventRecord[]> {
  const { rows } = await db.query<EventRow>(
    `SELECT ${COLUMNS} FROM events WHERE org_id = $1 AND position > $2 AND ($3::text IS NULL OR session_id = $3)
     ORDER BY position LIMIT $4`,
    [query.orgId, query.afterId, query.sessionId ?? null, query.limit],
  );
  return rows.map(toEvent);
}

/** Events after `afterId` of every organisation, for a process catching up after a lost LISTEN. */
export async function selectAllEventsAfter(db: Queryable, afterId: number, limit: number): Promise<EventRecord[]> {
  const { rows } = await db.query<EventRow>(`SELECT ${COLUMNS} FROM events WHERE position > $1 ORDER BY position LIMIT $2`, [afterId, limit]);
  return rows.map(toEvent);
}

export async function selectEventById(db: Queryable, id: number): Promise<EventRecord | undefined> {
  const { rows } = await db.query<EventRow>(`SELECT ${COLUMNS} FROM events WHERE position = $1`, [id]);
  return rows[0] ? toEvent(rows[0]) : undefined;
}

/**
 * The highest position ever given. Pruning may empty the log, so max(position) alone could go
 * back and hand out ids a client already saw; the sequence keeps the high-water mark (it lags
 * max(position) only on a database numbered before it was kept).
 */
const HIGHEST_POSITION = `GREATEST(
  (SELECT COALESCE(max(position), 0) FROM events),
  (SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM events_position))`;

/** Any fixed number: the sequencer's lock, held for its whole (short) transaction. */
const SEQUENCER_LOCK = 5_005_005_005;

/**
 * Takes the sequencer's lock for the rest of `tx`. Without `wait`, answers false at once when
 * another sequencer holds it (that one does the work); with `wait`, queues for it, so whatever
 * committed before the call is numbered once the caller's sequencing ends.
 */
export async function lockEventSequencer(tx: Queryable, wait: boolean): Promise<boolean> {
  const { rows } = await tx.query<{ locked: boolean }>(
    wait ? 'SELECT true AS locked FROM pg_advisory_xact_lock($1)' : 'SELECT pg_try_advisory_xact_lock($1) AS locked',
    [SEQUENCER_LOCK],
  );
  return rows[0]?.locked === true;
}

/**
 * Numbers up to `limit` committed, unnumbered events in id order and announces each with NOTIFY,
 * inside `tx`, which must hold the sequencer's lock (lockEventSequencer). It reads the highest
 * position after the lock was taken, so positions only ever grow and are given to committed
 * rows only. Returns how many were numbered.
 */
export async function sequencePendingEvents(tx: Queryable, channel: string, limit: number): Promise<number> {
  const { rowCount } = await tx.query(
    `WITH base AS (SELECT ${HIGHEST_POSITION} AS top),
          pending AS (SELECT id, row_number() OVER (ORDER BY id) AS n FROM events WHERE position IS NULL ORDER BY id LIMIT $2),
          numbered AS (
            UPDATE events e SET position = base.top + pending.n FROM pending, base WHERE e.id = pending.id
            RETURNING e.org_id, e.position, e.type, e.created_at, e.session_id, e.request_id, e.data
          )
     SELECT pg_notify($1, CASE WHEN octet_length(payload) > 7500
                              THEN json_build_object('org_id', org_id, 'id', position)::text ELSE payload END),
            (SELECT setval('events_position', max(position)) FROM numbered) AS high_water
     FROM (SELECT org_id, position, json_build_object('org_id', org_id, 'event', json_strip_nulls(json_build_object(
             'id', position, 'type', type, 'time', to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
             'session_id', session_id, 'request_id', request_id, 'data', data)))::text AS payload
           FROM numbered ORDER BY position) announced`,
    [channel, limit],
  );
  return rowCount;
}

export async function selectLatestEventId(db: Queryable): Promise<number> {
  const { rows } = await db.query<{ id: number | null }>(`SELECT ${HIGHEST_POSITION} AS id`);
  return rows[0]?.id ?? 0;
}
