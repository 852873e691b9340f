import type { Queryable } from '../db.js';
import type { DeploymentRecord, PlaceRecord, PortRecord } from '../../domain/records.js';
import type { LocationConstraint, LocationField, Position } from '../../domain/placement.js';
import { LIVE_DEPLOYMENT_STATUSES, DeploymentStatus } from '../../domain/session-rules.js';

interface DeploymentRow {
  id: number; request_id: string; org_id: number; app_id: number; app_name: string; version_id: number; version_name: string;
  provider: string; status: string; last_status: string | null; is_joinable: boolean; public_ip: string; fqdn: string;
  ports: Record<string, PortRecord>; city: string; country: string; continent: string; administrative_division: string;
  region: string; timezone: string; latitude: number | null; longitude: number | null; tags: string[]; sockets: number;
  sockets_usage: number; request_user_count: number; webhook_url: string | null; error_detail: string | null;
  command: string | null; arguments: string | null; provider_data: Record<string, unknown>;
  heartbeat_timeout_seconds: number | null; heartbeat_at: Date | null; created_at: Date; ready_at: Date | null; ended_at: Date | null;
}

/** Columns of `d` (deployments) plus the app and version names, for SELECT and RETURNING alike. */
const COLUMNS = `d.id, d.request_id, d.org_id, d.app_id, d.version_id, d.provider, d.status, d.last_status, d.is_joinable,
  d.public_ip, d.fqdn, d.ports, d.city, d.country, d.continent, d.administrative_division, d.region, d.timezone, d.latitude,
  d.longitude, d.tags, d.sockets, d.sockets_usage, d.request_user_count, d.webhook_url, d.error_detail, d.command, d.arguments,
  d.provider_data, d.heartbeat_timeout_seconds, d.heartbeat_at, d.created_at, d.ready_at, d.ended_at,
  (SELECT name FROM apps WHERE apps.id = d.app_id) AS app_name,
  (SELECT name FROM versions WHERE versions.id = d.version_id) AS version_name`;

function toDeployment(row: DeploymentRow): DeploymentRecord {
  return {
    id: row.id, requestId: row.request_id, orgId: row.org_id, appId: row.app_id, appName: row.app_name,
    versionId: row.version_id, versionName: row.version_name, provider: row.provider, status: row.status,
    lastStatus: row.last_status, isJoinable: row.is_joinable, publicIp: row.public_ip, fqdn: row.fqdn, ports: row.ports,
    place: {
      city: row.city, country: row.country, continent: row.continent, administrativeDivision: row.administrative_division,
      region: row.region, timezone: row.timezone, latitude: row.latitude, longitude: row.longitude,
    },
    tags: row.tags, sockets: row.sockets, socketsUsage: row.sockets_usage, requestUserCount: row.request_user_count,
    webhookUrl: row.webhook_url, errorDetail: row.error_detail, command: row.command, arguments: row.arguments,
    providerData: row.provider_data, heartbeatTimeoutSeconds: row.heartbeat_timeout_seconds, heartbeatAt: row.heartbeat_at,
    createdAt: row.created_at, readyAt: row.ready_at, endedAt: row.ended_at,
  };
}

export interface NewDeployment {
  requestId: string;
  orgId: number;
  appId: number;
  versionId: number;
  provider: string;
  status: string;
  publicIp: string;
  fqdn: string;
  ports: Record<string, PortRecord>;
  place: PlaceRecord;
  tags: string[];
  sockets: number;
  /** Seats taken at once by the session that caused this deployment (autodeploy). */
  socketsUsage: number;
  requestUserCount: number;
  webhookUrl: string | null;
  command: string | null;
  arguments: string | null;
  env: Array<{ key: string; value: string }>;
  providerData: Record<string, unknown>;
  heartbeatTimeoutSeconds: number | null;
  now: Date;
}

export async function insertDeployment(db: Queryable, d: NewDeployment): Promise<DeploymentRecord> {
  const isReady = d.status === DeploymentStatus.ready;
  const { rows } = await db.query<DeploymentRow>(
    `INSERT INTO deployments AS d (request_id, org_id, app_id, version_id, provider, status, public_ip, fqdn, ports, city,
       country, continent, administrative_division, region, timezone, latitude, longitude, tags, sockets, sockets_usage,
       request_user_count, webhook_url, command, arguments, env, provider_data, heartbeat_timeout_seconds, heartbeat_at,
       created_at, ready_at, emptied_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24,
       $25, $26, $27, CASE WHEN $27::int IS NULL THEN NULL ELSE $28::timestamptz END, $28, CASE WHEN $29 THEN $28::timestamptz END, $28)
     RETURNING ${COLUMNS}`,
    [d.requestId, d.orgId, d.appId, d.versionId, d.provider, d.status, d.publicIp, d.fqdn, JSON.stringify(d.ports),
      d.place.city, d.place.country, d.place.continent, d.place.administrativeDivision, d.place.region, d.place.timezone,
      d.place.latitude, d.place.longitude, d.tags, d.sockets, d.socketsUsage, d.requestUserCount, d.webhookUrl, d.command,
      d.arguments, JSON.stringify(d.env), JSON.stringify(d.providerData), d.heartbeatTimeoutSeconds, d.now, isReady],
  );
  return toDeployment(rows[0]!);
}

export async function selectDeploymentByRequestId(db: Queryable, orgId: number, requestId: string): Promise<DeploymentRecord | undefined> {
  const { rows } = await db.query<DeploymentRow>(`SELECT ${COLUMNS} FROM deployments d WHERE d.org_id = $1 AND d.request_id = $2`, [orgId, requestId]);
  return rows[0] ? toDeployment(rows[0]) : undefined;
}

export async function selectDeploymentById(db: Queryable, id: number): Promise<DeploymentRecord | undefined> {
  const { rows } = await db.query<DeploymentRow>(`SELECT ${COLUMNS} FROM deployments d WHERE d.id = $1`, [id]);
  return rows[0] ? toDeployment(rows[0]) : undefined;
}

/** Environment variables a provider passes to the game server (selector env, deploy env_vars). */
export async function selectDeploymentEnv(db: Queryable, id: number): Promise<Array<{ key: string; value: string }>> {
  const { rows } = await db.query<{ env: Array<{ key: string; value: string }> }>('SELECT env FROM deployments WHERE id = $1', [id]);
  return rows[0]?.env ?? [];
}

/** Locks the deployment row for the rest of the transaction. */
export async function lockDeployment(db: Queryable, id: number): Promise<DeploymentRecord | undefined> {
  const { rows } = await db.query<DeploymentRow>(`SELECT ${COLUMNS} FROM deployments d WHERE d.id = $1 FOR UPDATE`, [id]);
  return rows[0] ? toDeployment(rows[0]) : undefined;
}

export async function selectDeploymentsPage(
  db: Queryable,
  query: { orgId: number; offset: number; limit: number },
): Promise<{ deployments: DeploymentRecord[]; total: number }> {
  const [page, count] = await Promise.all([
    db.query<DeploymentRow>(
      `SELECT ${COLUMNS} FROM deployments d WHERE d.org_id = $1 AND d.status = ANY($2::text[])
       ORDER BY d.created_at DESC, d.id DESC OFFSET $3 LIMIT $4`,
      [query.orgId, LIVE_DEPLOYMENT_STATUSES, query.offset, query.limit],
    ),
    db.query<{ n: number }>('SELECT count(*) AS n FROM deployments WHERE org_id = $1 AND status = ANY($2::text[])', [query.orgId, LIVE_DEPLOYMENT_STATUSES]),
  ]);
  return { deployments: page.rows.map(toDeployment), total: count.rows[0]?.n ?? 0 };
}

const CONSTRAINT_COLUMN: Record<LocationField, string> = {
  city: 'city', country: 'country', continent: 'continent', administrative_division: 'administrative_division', region: 'region',
};

export interface SeatRequest {
  versionId: number;
  seats: number;
  requiredTags: string[];
  constraints: LocationConstraint[];
  position: Position | null;
  /** Skip rows another transaction holds; callers retry without it before concluding "full". */
  skipLocked: boolean;
}

/**
 * Takes `seats` on the best qualifying deployment in one statement, or returns undefined.
 * The inner SELECT ... FOR UPDATE re-checks room on the newest row version after locking, so two
 * transactions can never both take the last seats; the table's CHECK backs this up.
 */
export async function reserveSeatsOnBestDeployment(db: Queryable, request: SeatRequest): Promise<DeploymentRecord | undefined> {
  const params: unknown[] = [request.versionId, LIVE_DEPLOYMENT_STATUSES, request.seats, request.requiredTags];
  const where: string[] = [];
  for (const constraint of request.constraints) {
    params.push(constraint.values);
    const column = `lower(${CONSTRAINT_COLUMN[constraint.field]})`;
    const p = `$${params.length}::text[]`;
    where.push(constraint.type === 'any' ? `${column} = ANY(${p})` : constraint.type === 'all' ? `${column} = ALL(${p})` : `NOT (${column} = ANY(${p}))`);
  }
  let distance = 'NULL::float8';
  if (request.position) {
    params.push(request.position.latitude, request.position.longitude);
    const lat = `$${params.length - 1}::float8`;
    const lon = `$${params.length}::float8`;
    distance = `asin(sqrt(power(sin(radians(latitude - ${lat}) / 2), 2) + cos(radians(${lat})) * cos(radians(latitude)) * power(sin(radians(longitude - ${lon}) / 2), 2)))`;
  }
  const { rows } = await db.query<DeploymentRow>(
    `WITH pick AS (
       SELECT id FROM deployments
       WHERE version_id = $1 AND is_joinable AND status = ANY($2::text[]) AND sockets - sockets_usage >= $3
         AND tags @> $4::text[] ${where.map((w) => `AND ${w}`).join(' ')}
       ORDER BY (status = 'Status.READY') DESC, ${distance} ASC NULLS LAST, sockets - sockets_usage ASC, id ASC
       LIMIT 1 FOR UPDATE ${request.skipLocked ? 'SKIP LOCKED' : ''}
     )
     UPDATE deployments d SET sockets_usage = d.sockets_usage + $3, emptied_at = CASE WHEN $3 > 0 THEN NULL ELSE d.emptied_at END
     FROM pick WHERE d.id = pick.id
     RETURNING ${COLUMNS}`,
    params,
  );
  return rows[0] ? toDeployment(rows[0]) : undefined;
}

/** Takes `seats` on one given deployment if it is live, joinable and has room. */
export async function reserveSeatsOnDeployment(db: Queryable, deploymentId: number, seats: number): Promise<DeploymentRecord | undefined> {
  const { rows } = await db.query<DeploymentRow>(
    `UPDATE deployments d SET sockets_usage = d.sockets_usage + $2, emptied_at = CASE WHEN $2 > 0 THEN NULL ELSE d.emptied_at END
     WHERE d.id = $1 AND d.is_joinable AND d.status = ANY($3::text[]) AND d.sockets - d.sockets_usage >= $2
     RETURNING ${COLUMNS}`,
    [deploymentId, seats, LIVE_DEPLOYMENT_STATUSES],
  );
  return rows[0] ? toDeployment(rows[0]) : undefined;
}

/** Sets sockets_usage to what the deployment's sessions hold (after they were ended in bulk). */
export async function recountDeploymentUsage(db: Queryable, deploymentId: number): Promise<void> {
  await db.query(
    `UPDATE deployments SET sockets_usage = (SELECT COALESCE(sum(seats), 0) FROM sessions WHERE deployment_id = $1) WHERE id = $1`,
    [deploymentId],
  );
}

/** Gives back seats; marks when the deployment became empty, which the empty-TTL timer counts from. */
export async function releaseSeats(db: Queryable, deploymentId: number, seats: number, now: Date): Promise<void> {
  if (seats <= 0) return;
  await db.query(
    `UPDATE deployments SET sockets_usage = sockets_usage - $2,
       emptied_at = CASE WHEN sockets_usage - $2 = 0 THEN $3 ELSE emptied_at END
     WHERE id = $1`,
    [deploymentId, seats, now],
  );
}

export async function updateDeploymentJoinable(db: Queryable, orgId: number, requestId: string, isJoinable: boolean): Promise<boolean | undefined> {
  const { rows } = await db.query<{ is_joinable: boolean }>(
    'UPDATE deployments SET is_joinable = $3 WHERE org_id = $1 AND request_id = $2 RETURNING is_joinable',
    [orgId, requestId, isJoinable],
  );
  return rows[0]?.is_joinable;
}

/** Moves a deployment to a new status, remembering the previous one. */
export async function updateDeploymentStatus(
  db: Queryable,
  change: { id: number; status: string; errorDetail?: string | null; now: Date },
): Promise<DeploymentRecord | undefined> {
  const { rows } = await db.query<DeploymentRow>(
    `UPDATE deployments d SET last_status = d.status, status = $2, error_detail = COALESCE($3, d.error_detail),
       ready_at = CASE WHEN $2 = 'Status.READY' THEN COALESCE(d.ready_at, $4) ELSE d.ready_at END,
       emptied_at = CASE WHEN $2 = 'Status.READY' AND d.sockets_usage = 0 THEN $4 ELSE d.emptied_at END,
       ended_at = CASE WHEN $2 = ANY($5::text[]) THEN d.ended_at ELSE COALESCE(d.ended_at, $4) END
     WHERE d.id = $1 AND d.status <> $2 RETURNING ${COLUMNS}`,
    [change.id, change.status, change.errorDetail ?? null, change.now, LIVE_DEPLOYMENT_STATUSES],
  );
  return rows[0] ? toDeployment(rows[0]) : undefined;
}

export async function updateDeploymentHeartbeat(db: Queryable, orgId: number, requestId: string, now: Date): Promise<DeploymentRecord | undefined> {
  const { rows } = await db.query<DeploymentRow>(
    `UPDATE deployments d SET heartbeat_at = $3 WHERE d.org_id = $1 AND d.request_id = $2 RETURNING ${COLUMNS}`,
    [orgId, requestId, now],
  );
  return rows[0] ? toDeployment(rows[0]) : undefined;
}

export async function updateDeploymentProviderData(db: Queryable, id: number, patch: { providerData: Record<string, unknown>; ports?: Record<string, PortRecord>; publicIp?: string; fqdn?: string }): Promise<void> {
  await db.query(
    `UPDATE deployments SET provider_data = provider_data || $2::jsonb, ports = COALESCE($3::jsonb, ports),
       public_ip = COALESCE($4, public_ip), fqdn = COALESCE($5, fqdn) WHERE id = $1`,
    [id, JSON.stringify(patch.providerData), patch.ports ? JSON.stringify(patch.ports) : null, patch.publicIp ?? null, patch.fqdn ?? null],
  );
}

/** Request ids of the organisation's live deployments matching every filter (bulk stop). */
export async function selectLiveDeploymentIdsMatching(
  db: Queryable,
  query: { orgId: number; filters: Array<{ field: 'request_id' | 'deployment_tags'; type: 'any' | 'all' | 'not'; values: string[] }> },
): Promise<number[]> {
  const params: unknown[] = [query.orgId, LIVE_DEPLOYMENT_STATUSES];
  const where = query.filters.map((filter) => {
    params.push(filter.values);
    const p = `$${params.length}::text[]`;
    if (filter.field === 'request_id') {
      return filter.type === 'not' ? `NOT (request_id = ANY(${p}))` : filter.type === 'any' ? `request_id = ANY(${p})` : `request_id = ALL(${p})`;
    }
    return filter.type === 'any' ? `tags && ${p}` : filter.type === 'all' ? `tags @> ${p}` : `NOT (tags && ${p})`;
  });
  const { rows } = await db.query<{ id: number }>(
    `SELECT id FROM deployments WHERE org_id = $1 AND status = ANY($2::text[]) ${where.map((w) => `AND ${w}`).join(' ')} ORDER BY id`,
    params,
  );
  return rows.map((row) => row.id);
}

/** Live deployments of this provider, for reconciliation after a restart. */
export async function selectLiveDeploymentsOfProvider(db: Queryable, provider: string): Promise<DeploymentRecord[]> {
  const { rows } = await db.query<DeploymentRow>(
    `SELECT ${COLUMNS} FROM deployments d WHERE d.provider = $1 AND d.status = ANY($2::text[]) ORDER BY d.id`,
    [provider, LIVE_DEPLOYMENT_STATUSES],
  );
  return rows.map(toDeployment);
}

/** Sum of the seats the live sessions on it hold: must always equal sockets_usage. */
export async function selectSeatDrift(db: Queryable): Promise<Array<{ requestId: string; socketsUsage: number; held: number; sockets: number }>> {
  const { rows } = await db.query<{ request_id: string; sockets_usage: number; held: number; sockets: number }>(
    `SELECT d.request_id, d.sockets_usage, d.sockets, COALESCE(s.held, 0)::int AS held FROM deployments d
     LEFT JOIN (SELECT deployment_id, sum(seats) AS held FROM sessions WHERE deployment_id IS NOT NULL GROUP BY deployment_id) s
       ON s.deployment_id = d.id
     WHERE d.sockets_usage <> COALESCE(s.held, 0) OR d.sockets_usage > d.sockets`,
  );
  return rows.map((r) => ({ requestId: r.request_id, socketsUsage: r.sockets_usage, held: r.held, sockets: r.sockets }));
}
