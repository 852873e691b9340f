import type { Queryable } from '../db.js';
import type { DeploymentRecord, PlaceRecord, PortRecord } from '../../domain/records.js';
import { compareCandidates, type CandidateView, type LocationConstraint, type LocationField, type Position } from '../../domain/placement.js';
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

// These fragments repeat the predicate and expressions of the index of migration 004 word for
// word: the planner only uses a partial or expression index when the query says the same thing.
const PLACEMENT_SCOPE = `version_id = $1 AND is_joinable AND status IN ('Status.READY', 'Status.DEPLOYING', 'Status.INITIALIZING')`;
const IS_READY = `(status = 'Status.READY')`;
const FREE_SEATS = `(sockets - sockets_usage)`;
/** A place: readiness, coordinates (NULL indexed as NaN) and names. Constraints read only names. */
const PLACE_KEY = [
  ['ready', IS_READY], ['lat', `(coalesce(latitude, 'NaN'::float8))`], ['lon', `(coalesce(longitude, 'NaN'::float8))`],
  ['city', 'city'], ['country', 'country'], ['continent', 'continent'], ['administrative_division', 'administrative_division'], ['region', 'region'],
] as const;
const PLACE_COLUMNS = PLACE_KEY.map(([name, expression]) => `${expression} AS ${name}`).join(', ');
const PLACE_LIST = PLACE_KEY.map(([, expression]) => expression).join(', ');
const PLACE_TUPLE = `(${PLACE_LIST})`;

/** Location constraints on the columns of `alias`; pushes their parameters. */
function constraintsSql(request: SeatRequest, params: unknown[], alias: string): string[] {
  return request.constraints.map((constraint) => {
    params.push(constraint.values);
    const column = `lower(${alias}.${CONSTRAINT_COLUMN[constraint.field]})`;
    const p = `$${params.length}::text[]`;
    return constraint.type === 'any' ? `${column} = ANY(${p})` : constraint.type === 'all' ? `${column} = ALL(${p})` : `NOT (${column} = ANY(${p}))`;
  });
}

/** One place with room for the request, and its best deployment when it was read. */
export interface PlacementPlace {
  key: { ready: boolean; lat: number | null; lon: number | null; city: string; country: string; continent: string; administrative_division: string; region: string };
  bestId: number;
  bestFreeSeats: number;
}

/**
 * The places of the version where a qualifying deployment has room, each with its fullest such
 * deployment (oldest among equals). Walks the distinct places with a loose index scan, one index
 * seek per place and one per qualifying place, so its cost follows the number of places, not of
 * deployments. Location constraints read only place columns, so they filter places, not rows.
 */
export async function selectPlacementPlaces(db: Queryable, request: SeatRequest): Promise<PlacementPlace[]> {
  const params: unknown[] = [request.versionId, request.seats, request.requiredTags];
  const constraints = constraintsSql(request, params, 'p');
  const keyNames = PLACE_KEY.map(([name]) => name);
  const { rows } = await db.query<PlacementPlace['key'] & { best_id: number; best_free: number }>(
    `WITH RECURSIVE places AS (
       (SELECT ${PLACE_COLUMNS} FROM deployments WHERE ${PLACEMENT_SCOPE} ORDER BY ${PLACE_LIST} LIMIT 1)
       UNION ALL
       SELECT next.* FROM places p CROSS JOIN LATERAL (
         SELECT ${PLACE_COLUMNS} FROM deployments
         WHERE ${PLACEMENT_SCOPE} AND ${PLACE_TUPLE} > (${keyNames.map((n) => `p.${n}`).join(', ')})
         ORDER BY ${PLACE_LIST} LIMIT 1) next
     )
     SELECT p.ready, CASE WHEN p.lat = 'NaN' THEN NULL ELSE p.lat END AS lat, CASE WHEN p.lon = 'NaN' THEN NULL ELSE p.lon END AS lon,
       p.city, p.country, p.continent, p.administrative_division, p.region, best.id AS best_id, best.free AS best_free
     FROM places p
     -- A LATERAL with LIMIT: a plain join or EXISTS may become a hash join over every row.
     CROSS JOIN LATERAL (
       SELECT id, ${FREE_SEATS} AS free FROM deployments
       WHERE ${PLACEMENT_SCOPE} AND ${PLACE_TUPLE} = (${keyNames.map((n) => `p.${n}`).join(', ')})
         AND ${FREE_SEATS} >= $2 AND tags @> $3::text[]
       ORDER BY ${FREE_SEATS}, id LIMIT 1) best
     ${constraints.length > 0 ? `WHERE ${constraints.join(' AND ')}` : ''}`,
    params,
  );
  return rows.map(({ best_id, best_free, ...key }) => ({ key, bestId: best_id, bestFreeSeats: best_free }));
}

/**
 * Takes `seats` on the fullest qualifying deployment at one place (oldest among equals), or
 * returns undefined. FOR UPDATE re-checks room on the newest row version after locking and moves
 * on to the next row when it no longer qualifies, so two transactions can never both take the
 * last seats; the table's CHECK backs this up.
 */
export async function reserveSeatsAtPlace(db: Queryable, request: SeatRequest, place: PlacementPlace['key']): Promise<DeploymentRecord | undefined> {
  const params: unknown[] = [request.versionId, request.seats, request.requiredTags];
  const key = PLACE_KEY.map(([name, expression]) => {
    params.push(place[name]);
    const p = `$${params.length}`;
    return name === 'lat' || name === 'lon' ? `${expression} = coalesce(${p}::float8, 'NaN')` : `${expression} = ${p}${name === 'ready' ? '::boolean' : '::text'}`;
  });
  const { rows } = await db.query<DeploymentRow>(
    `WITH pick AS (
       SELECT id FROM deployments
       WHERE ${PLACEMENT_SCOPE} AND ${key.join(' AND ')} AND ${FREE_SEATS} >= $2 AND tags @> $3::text[]
       ORDER BY ${FREE_SEATS} ASC, id ASC
       LIMIT 1 FOR UPDATE ${request.skipLocked ? 'SKIP LOCKED' : ''}
     )
     UPDATE deployments d SET sockets_usage = d.sockets_usage + $2, emptied_at = CASE WHEN $2 > 0 THEN NULL ELSE d.emptied_at END
     FROM pick WHERE d.id = pick.id
     RETURNING ${COLUMNS}`,
    params,
  );
  return rows[0] ? toDeployment(rows[0]) : undefined;
}

/**
 * Takes `seats` on the best qualifying deployment (CONTRACT §6.3): ready before deploying, then
 * nearest to the players, then fullest, then oldest; or returns undefined. Places are ranked by
 * the domain's own comparison applied to each place's best deployment, so the first place's best
 * is the best overall; when a concurrent transaction took it meanwhile, the next deployment there
 * or the next place follows. Distances are computed here, not in SQL: PostgreSQL raises an
 * underflow error on trigonometry of tiny coordinate differences, which a client can send.
 */
export async function reserveSeatsOnBestDeployment(db: Queryable, request: SeatRequest): Promise<DeploymentRecord | undefined> {
  const places = await selectPlacementPlaces(db, request);
  const asCandidate = (place: PlacementPlace): CandidateView => ({
    id: place.bestId, status: place.key.ready ? DeploymentStatus.ready : DeploymentStatus.deploying, isJoinable: true,
    sockets: place.bestFreeSeats, socketsUsage: 0, tags: [],
    place: { ...place.key, latitude: place.key.lat, longitude: place.key.lon },
  });
  places.sort((a, b) => compareCandidates(asCandidate(a), asCandidate(b), request.position));
  for (const place of places) {
    const reserved = await reserveSeatsAtPlace(db, request, place.key);
    if (reserved) return reserved;
  }
  return undefined;
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
