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
  id: number;
  org_id: number;
  type: string;
  session_id: string | null;
  request_id: string | null;
  data: Record<string, unknown>;
  created_at: Date;
}

const COLUMNS = 'position AS id, org_id, type, session_id, request_id, data, created_at';

function toEvent(row: EventRow): EventRecord {
  return {
    id: row.id,
    orgId: row.org_id,
    type: row.type,
    sessionId: row.session_id,
    requestId: row.request_id,
    data: row.data,
    createdAt: row.created_at,
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
 * Logs events, in their order, in one statement whatever their number: one JSON array as the
 * only parameter (one text, so one prepared statement; one JSON.stringify for the whole batch
 * instead of six arrays the driver escapes element by element). They get positions, and are
 * announced, once committed and numbered by the sequencer (migration 007); nothing is published
 * if the transaction rolls back.
 */
export async function insertEvents(db: Queryable, events: readonly NewEvent[]): Promise<void> {
  if (events.length === 0) return;
  await db.query(
    `INSERT INTO events (org_id, type, session_id, request_id, data, created_at)
     SELECT e.org_id, e.type, e.session_id, e.request_id, e.data, e.created_at
     FROM ROWS FROM (json_to_recordset($1::json)
       AS (org_id bigint, type text, session_id text, request_id text, data jsonb, created_at timestamptz))
       WITH ORDINALITY AS e(org_id, type, session_id, request_id, data, created_at, n)
     ORDER BY e.n`,
    [
      JSON.stringify(
        events.map((e) => ({
          org_id: e.orgId,
          type: e.type,
          session_id: e.sessionId,
          request_id: e.requestId,
          data: e.data,
          created_at: e.createdAt.toISOString(),
        })),
      ),
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

/**
 * Events of the given organisations after each one's position, oldest first per organisation, for
 * a process catching up after a lost LISTEN.
 */
export async function selectEventsAfterPositions(
  db: Queryable,
  after: ReadonlyMap<number, number>,
  limit: number,
): Promise<EventRecord[]> {
  if (after.size === 0) return [];
  const { rows } = await db.query<EventRow>(
    `SELECT ${COLUMNS} FROM unnest($1::bigint[], $2::bigint[]) AS a(org, top)
     CROSS JOIN LATERAL (SELECT * FROM events WHERE org_id = a.org AND position > a.top ORDER BY position LIMIT $3) e
     ORDER BY org_id, position`,
    [[...after.keys()], [...after.values()], limit],
  );
  return rows.map(toEvent);
}

export async function selectEventByPosition(
  db: Queryable,
  orgId: number,
  position: number,
): Promise<EventRecord | undefined> {
  const { rows } = await db.query<EventRow>(`SELECT ${COLUMNS} FROM events WHERE org_id = $1 AND position = $2`, [
    orgId,
    position,
  ]);
  return rows[0] ? toEvent(rows[0]) : undefined;
}

/**
 * Whether any committed event waits for its position: one index probe (events_unsequenced), so
 * the sequencer's fallback run costs one round trip when there is nothing to number.
 */
export async function hasUnsequencedEvents(db: Queryable): Promise<boolean> {
  const { rows } = await db.query<{ waiting: boolean }>(
    'SELECT EXISTS (SELECT 1 FROM events WHERE position IS NULL) AS waiting',
  );
  return rows[0]?.waiting === true;
}

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
 * Numbers up to `limit` committed, unnumbered events in id order, each organisation's after its
 * own last position (event_positions, migration 010), and announces each with NOTIFY, inside
 * `tx`, which must hold the sequencer's lock (lockEventSequencer). It reads the last positions
 * after the lock was taken, so positions only ever grow and are given to committed rows only.
 * Returns how many were numbered.
 */
export async function sequencePendingEvents(tx: Queryable, channel: string, limit: number): Promise<number> {
  const { rowCount } = await tx.query(
    `WITH pending AS (
            SELECT id, org_id, row_number() OVER (PARTITION BY org_id ORDER BY id) AS n
            FROM (SELECT id, org_id FROM events WHERE position IS NULL ORDER BY id LIMIT $2) oldest),
          base AS (
            SELECT o.org_id, COALESCE(p.last_position, 0) AS top
            FROM (SELECT DISTINCT org_id FROM pending) o LEFT JOIN event_positions p ON p.org_id = o.org_id),
          numbered AS (
            UPDATE events e SET position = base.top + pending.n FROM pending JOIN base ON base.org_id = pending.org_id
            WHERE e.id = pending.id
            RETURNING e.id, e.org_id, e.position, e.type, e.created_at, e.session_id, e.request_id, e.data
          ),
          high_water AS (
            INSERT INTO event_positions (org_id, last_position) SELECT org_id, max(position) FROM numbered GROUP BY org_id
            ON CONFLICT (org_id) DO UPDATE SET last_position = GREATEST(event_positions.last_position, excluded.last_position)
            RETURNING org_id
          )
     SELECT pg_notify($1, CASE WHEN octet_length(payload) > 7500
                              THEN json_build_object('org_id', org_id, 'id', position)::text ELSE payload END),
            (SELECT count(*) FROM high_water) AS organisations
     FROM (SELECT org_id, position, json_build_object('org_id', org_id, 'event', json_strip_nulls(json_build_object(
             'id', position, 'type', type, 'time', to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
             'session_id', session_id, 'request_id', request_id, 'data', data)))::text AS payload
           FROM numbered ORDER BY id) announced`,
    [channel, limit],
  );
  return rowCount;
}

/**
 * The highest position ever given to the organisation's events (0 if none): pruning may empty
 * its log, so it is kept in event_positions rather than read from the log.
 */
export async function selectLatestEventId(db: Queryable, orgId: number): Promise<number> {
  const { rows } = await db.query<{ id: number | null }>(
    'SELECT last_position AS id FROM event_positions WHERE org_id = $1',
    [orgId],
  );
  return rows[0]?.id ?? 0;
}

/** Every organisation's highest position, for a process starting to follow the log. */
export async function selectLatestEventIds(db: Queryable): Promise<Map<number, number>> {
  const { rows } = await db.query<{ org_id: number; last_position: number }>(
    'SELECT org_id, last_position FROM event_positions',
  );
  return new Map(rows.map((r) => [r.org_id, r.last_position]));
}

/**
 * Where a replay after `afterId` stands for the organisation: its last position and the oldest
 * position still in its log (null when the log holds none of its events).
 */
export async function selectReplayWindow(
  db: Queryable,
  orgId: number,
): Promise<{ latest: number; oldest: number | null }> {
  const { rows } = await db.query<{ latest: number | null; oldest: number | null }>(
    `SELECT (SELECT last_position FROM event_positions WHERE org_id = $1) AS latest,
            (SELECT min(position) FROM events WHERE org_id = $1) AS oldest`,
    [orgId],
  );
  return { latest: rows[0]?.latest ?? 0, oldest: rows[0]?.oldest ?? null };
}
