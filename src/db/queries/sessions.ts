import type { Queryable } from '../db.js';
import type { DeploymentShown, SessionRecord, SessionShown } from '../../domain/records.js';
import {
  deploymentShownFromJson,
  SHOWN_COLUMNS as DEPLOYMENT_SHOWN_COLUMNS,
  type DeploymentShownRow,
} from './deployment-rows.js';
import { withDates, type Json } from './json-rows.js';
import type { SessionKind, SessionUser } from '../../domain/session-rules.js';

export interface SessionRow {
  id: number;
  session_id: string;
  org_id: number;
  app_id: number;
  app_name: string;
  version_id: number;
  version_name: string;
  kind: SessionKind;
  status: string;
  deployment_id: number | null;
  seats: number;
  users: SessionUser[];
  selectors: SessionRecord['selectors'];
  placement: Record<string, unknown>;
  custom_id: string | null;
  webhook_url: string | null;
  error: string | null;
  created_at: Date;
  ended_at: Date | null;
  deleted_at: Date | null;
}

const TABLE_COLUMNS = [
  'id',
  'session_id',
  'org_id',
  'app_id',
  'version_id',
  'kind',
  'status',
  'deployment_id',
  'seats',
  'users',
  'selectors',
  'placement',
  'custom_id',
  'webhook_url',
  'error',
  'created_at',
  'ended_at',
  'deleted_at',
] as const;

/** The columns of `s` (sessions) plus the app and version names. */
export const COLUMNS = [
  ...TABLE_COLUMNS.map((c) => `s.${c}`),
  '(SELECT name FROM apps WHERE apps.id = s.app_id) AS app_name',
  '(SELECT name FROM versions WHERE versions.id = s.version_id) AS version_name',
].join(', ');

export function toSession(row: SessionRow): SessionRecord {
  return {
    id: row.id,
    sessionId: row.session_id,
    orgId: row.org_id,
    appId: row.app_id,
    appName: row.app_name,
    versionId: row.version_id,
    versionName: row.version_name,
    kind: row.kind,
    status: row.status,
    deploymentId: row.deployment_id,
    seats: row.seats,
    users: row.users,
    selectors: row.selectors,
    placement: row.placement,
    customId: row.custom_id,
    webhookUrl: row.webhook_url,
    error: row.error,
    createdAt: row.created_at,
    endedAt: row.ended_at,
    deletedAt: row.deleted_at,
  };
}

const DATES = ['created_at', 'ended_at', 'deleted_at'] as const satisfies ReadonlyArray<keyof SessionRow>;

/** A session read as one JSON column (`to_json` of a row of COLUMNS): see json-rows.ts. */
export function sessionFromJson(json: Json<SessionRow>): SessionRecord {
  return toSession(withDates(json, DATES));
}

export interface NewSession {
  sessionId: string;
  orgId: number;
  appId: number;
  versionId: number;
  kind: SessionKind;
  status: string;
  deploymentId: number | null;
  seats: number;
  users: SessionUser[];
  selectors: SessionRecord['selectors'];
  placement: Record<string, unknown>;
  customId: string | null;
  webhookUrl: string | null;
  error: string | null;
  now: Date;
}

export async function insertSession(db: Queryable, s: NewSession): Promise<SessionRecord> {
  const { rows } = await db.query<SessionRow>(
    `INSERT INTO sessions AS s (session_id, org_id, app_id, version_id, kind, status, deployment_id, seats, users, user_count,
       selectors, placement, custom_id, webhook_url, error, created_at, ended_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, CASE WHEN $17 THEN $16::timestamptz END)
     RETURNING ${COLUMNS}`,
    [
      s.sessionId,
      s.orgId,
      s.appId,
      s.versionId,
      s.kind,
      s.status,
      s.deploymentId,
      s.seats,
      JSON.stringify(s.users),
      s.users.length,
      JSON.stringify(s.selectors),
      JSON.stringify(s.placement),
      s.customId,
      s.webhookUrl,
      s.error,
      s.now,
      s.status === 'Unprocessable',
    ],
  );
  return toSession(rows[0]!);
}

const SHOWN_TABLE_COLUMNS = [
  'session_id',
  'status',
  'kind',
  'users',
  'version_id',
  'created_at',
  'custom_id',
  'error',
  'webhook_url',
  'deleted_at',
  'deployment_id',
] as const satisfies ReadonlyArray<keyof SessionRow>;
type SessionShownRow = Pick<SessionRow, (typeof SHOWN_TABLE_COLUMNS)[number]>;

function sessionShownFromJson(json: Json<SessionShownRow>): SessionShown {
  const row = withDates(json, ['created_at', 'deleted_at']);
  return {
    sessionId: row.session_id,
    status: row.status,
    kind: row.kind,
    users: row.users,
    versionId: row.version_id,
    createdAt: row.created_at,
    customId: row.custom_id,
    error: row.error,
    webhookUrl: row.webhook_url,
    deletedAt: row.deleted_at,
  };
}

/**
 * A session the organisation can see (with deleted_at) and its deployment, as a GET shows them,
 * in one round trip and one JSON column (json-rows.ts): this is every GET of a session. Only the
 * columns the answer shows are read, so PostgreSQL neither looks up the app and version names
 * nor writes out the deployment's provider data, and the server parses none of it.
 */
export async function selectSessionShown(
  db: Queryable,
  orgId: number,
  sessionId: string,
): Promise<{ session: SessionShown; deployment: DeploymentShown | null } | undefined> {
  const { rows } = await db.query<{
    shown: { session: Json<SessionShownRow>; deployment: Json<DeploymentShownRow> | null };
  }>(
    `SELECT json_build_object('session', to_json(s_row), 'deployment', to_json(d_row)) AS shown
     FROM (SELECT ${SHOWN_TABLE_COLUMNS.map((c) => `s.${c}`).join(', ')} FROM sessions s WHERE s.session_id = $1 AND s.org_id = $2) s_row
     LEFT JOIN LATERAL (SELECT ${DEPLOYMENT_SHOWN_COLUMNS} FROM deployments d WHERE d.id = s_row.deployment_id) d_row ON true`,
    [sessionId, orgId],
  );
  const shown = rows[0]?.shown;
  return shown
    ? {
        session: sessionShownFromJson(shown.session),
        deployment: shown.deployment ? deploymentShownFromJson(shown.deployment) : null,
      }
    : undefined;
}

/** A session the organisation can see (not deleted). */
export async function selectSession(
  db: Queryable,
  orgId: number,
  sessionId: string,
): Promise<SessionRecord | undefined> {
  const { rows } = await db.query<SessionRow>(
    `SELECT ${COLUMNS} FROM sessions s WHERE s.session_id = $1 AND s.org_id = $2`,
    [sessionId, orgId],
  );
  return rows[0] ? toSession(rows[0]) : undefined;
}

export async function lockSession(db: Queryable, id: number): Promise<SessionRecord | undefined> {
  const { rows } = await db.query<SessionRow>(`SELECT ${COLUMNS} FROM sessions s WHERE s.id = $1 FOR UPDATE`, [id]);
  return rows[0] ? toSession(rows[0]) : undefined;
}

export async function updateSessionUsers(
  db: Queryable,
  id: number,
  users: SessionUser[],
  seats: number,
): Promise<void> {
  await db.query('UPDATE sessions SET users = $2, user_count = $3, seats = $4 WHERE id = $1', [
    id,
    JSON.stringify(users),
    users.length,
    seats,
  ]);
}

/** Deleted sessions answer 404 to reads and 410 to a second delete until they are purged. */
export async function markSessionDeleted(db: Queryable, id: number, now: Date): Promise<void> {
  await db.query(
    `UPDATE sessions SET status = 'Terminating', seats = 0, deleted_at = $2, ended_at = COALESCE(ended_at, $2) WHERE id = $1`,
    [id, now],
  );
}

export async function selectSessionsPage(
  db: Queryable,
  query: { orgId: number; offset: number; limit: number },
): Promise<{
  sessions: Array<SessionRecord & { deploymentRequestId: string | null; deploymentStatus: string | null }>;
  total: number;
}> {
  const [page, count] = await Promise.all([
    db.query<SessionRow & { request_id: string | null; deployment_status: string | null }>(
      `SELECT ${COLUMNS}, d.request_id, d.status AS deployment_status FROM sessions s
       LEFT JOIN deployments d ON d.id = s.deployment_id
       WHERE s.org_id = $1 AND s.deleted_at IS NULL ORDER BY s.created_at DESC, s.id DESC OFFSET $2 LIMIT $3`,
      [query.orgId, query.offset, query.limit],
    ),
    db.query<{ n: number }>('SELECT count(*) AS n FROM sessions WHERE org_id = $1 AND deleted_at IS NULL', [
      query.orgId,
    ]),
  ]);
  return {
    sessions: page.rows.map((row) => ({
      ...toSession(row),
      deploymentRequestId: row.request_id,
      deploymentStatus: row.deployment_status,
    })),
    total: count.rows[0]?.n ?? 0,
  };
}

/** Live sessions of a deployment, for its status page. */
export async function selectSessionsOfDeployment(db: Queryable, deploymentId: number): Promise<SessionRecord[]> {
  const { rows } = await db.query<SessionRow>(
    `SELECT ${COLUMNS} FROM sessions s WHERE s.deployment_id = $1 AND s.deleted_at IS NULL ORDER BY s.id`,
    [deploymentId],
  );
  return rows.map(toSession);
}

/** Waiting sessions of a deployment that became ready turn Ready; returns the changed sessions. */
export async function markSessionsReady(db: Queryable, deploymentId: number): Promise<SessionRecord[]> {
  const { rows } = await db.query<SessionRow>(
    `UPDATE sessions s SET status = 'Ready' WHERE s.deployment_id = $1 AND s.status = 'Waiting' AND s.deleted_at IS NULL
     RETURNING ${COLUMNS}`,
    [deploymentId],
  );
  return rows.map(toSession);
}

/** The sessions of an ended deployment turn Error and give back their seats; returns them. */
export async function markSessionsFailed(
  db: Queryable,
  deploymentId: number,
  error: string,
  now: Date,
): Promise<SessionRecord[]> {
  const { rows } = await db.query<SessionRow>(
    `UPDATE sessions s SET status = 'Error', error = $2, seats = 0, ended_at = COALESCE(s.ended_at, $3)
     WHERE s.deployment_id = $1 AND s.deleted_at IS NULL AND s.status IN ('Seeking', 'Waiting', 'Ready')
     RETURNING ${COLUMNS}`,
    [deploymentId, error, now],
  );
  return rows.map(toSession);
}

export type SessionFilter = {
  field: 'session_id' | 'request_id' | 'deployment_tags';
  type: 'any' | 'all' | 'not';
  values: string[];
};

/** Session ids of the organisation's visible sessions matching every filter (bulk stop). */
export async function selectSessionIdsMatching(
  db: Queryable,
  query: { orgId: number; filters: SessionFilter[] },
): Promise<string[]> {
  const params: unknown[] = [query.orgId];
  const where = query.filters.map((filter) => {
    params.push(filter.values);
    const p = `$${params.length}::text[]`;
    if (filter.field === 'deployment_tags') {
      // A session with no deployment has no tags: it matches `not` and never `any`/`all` (unless values is empty).
      const tags = 'COALESCE(d.tags, ARRAY[]::text[])';
      return filter.type === 'any'
        ? `${tags} && ${p}`
        : filter.type === 'all'
          ? `${tags} @> ${p}`
          : `NOT (${tags} && ${p})`;
    }
    const column = filter.field === 'session_id' ? 's.session_id' : 'd.request_id';
    if (filter.type === 'any') return `${column} = ANY(${p})`;
    if (filter.type === 'all') return `${column} = ALL(${p})`;
    return `COALESCE(${column}, '') <> ALL(${p})`;
  });
  const { rows } = await db.query<{ session_id: string }>(
    `SELECT s.session_id FROM sessions s LEFT JOIN deployments d ON d.id = s.deployment_id
     WHERE s.org_id = $1 AND s.deleted_at IS NULL ${where.map((w) => `AND ${w}`).join(' ')} ORDER BY s.id`,
    params,
  );
  return rows.map((row) => row.session_id);
}

/** Removes sessions whose deployment ended long enough ago (session_max_duration). */
export async function deleteExpiredSessions(db: Queryable, now: Date): Promise<number> {
  const { rowCount } = await db.query(
    `DELETE FROM sessions s USING versions v
     WHERE v.id = s.version_id AND s.ended_at IS NOT NULL
       AND s.ended_at + make_interval(mins => v.session_max_duration_minutes) <= $1`,
    [now],
  );
  return rowCount;
}
