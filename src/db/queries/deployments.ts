import type { Queryable } from '../db.js';
import type { DeploymentRecord, PlaceRecord, PortRecord } from '../../domain/records.js';
import { LIVE_DEPLOYMENT_STATUSES, DeploymentStatus } from '../../domain/session-rules.js';
import { COLUMNS, toDeployment, type DeploymentRow } from './deployment-rows.js';

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
  /** The host it was scheduled on (providers that run on hosts); absent: none. */
  hostId?: number | null;
  now: Date;
}

export async function insertDeployment(db: Queryable, d: NewDeployment): Promise<DeploymentRecord> {
  const isReady = d.status === DeploymentStatus.ready;
  const { rows } = await db.query<DeploymentRow>(
    `INSERT INTO deployments AS d (request_id, org_id, app_id, version_id, provider, status, public_ip, fqdn, ports, city,
       country, continent, administrative_division, region, timezone, latitude, longitude, tags, sockets, sockets_usage,
       request_user_count, webhook_url, command, arguments, env, provider_data, heartbeat_timeout_seconds, heartbeat_at,
       created_at, ready_at, emptied_at, host_id)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24,
       $25, $26, $27, CASE WHEN $27::int IS NULL THEN NULL ELSE $28::timestamptz END, $28, CASE WHEN $29 THEN $28::timestamptz END, $28, $30)
     RETURNING ${COLUMNS}`,
    [
      d.requestId,
      d.orgId,
      d.appId,
      d.versionId,
      d.provider,
      d.status,
      d.publicIp,
      d.fqdn,
      JSON.stringify(d.ports),
      d.place.city,
      d.place.country,
      d.place.continent,
      d.place.administrativeDivision,
      d.place.region,
      d.place.timezone,
      d.place.latitude,
      d.place.longitude,
      d.tags,
      d.sockets,
      d.socketsUsage,
      d.requestUserCount,
      d.webhookUrl,
      d.command,
      d.arguments,
      JSON.stringify(d.env),
      JSON.stringify(d.providerData),
      d.heartbeatTimeoutSeconds,
      d.now,
      isReady,
      d.hostId ?? null,
    ],
  );
  return toDeployment(rows[0]!);
}

export async function selectDeploymentByRequestId(
  db: Queryable,
  orgId: number,
  requestId: string,
): Promise<DeploymentRecord | undefined> {
  const { rows } = await db.query<DeploymentRow>(
    `SELECT ${COLUMNS} FROM deployments d WHERE d.org_id = $1 AND d.request_id = $2`,
    [orgId, requestId],
  );
  return rows[0] ? toDeployment(rows[0]) : undefined;
}

export async function selectDeploymentById(db: Queryable, id: number): Promise<DeploymentRecord | undefined> {
  const { rows } = await db.query<DeploymentRow>(`SELECT ${COLUMNS} FROM deployments d WHERE d.id = $1`, [id]);
  return rows[0] ? toDeployment(rows[0]) : undefined;
}

/** Environment variables a provider passes to the game server (selector env, deploy env_vars). */
export async function selectDeploymentEnv(db: Queryable, id: number): Promise<Array<{ key: string; value: string }>> {
  const { rows } = await db.query<{ env: Array<{ key: string; value: string }> }>(
    'SELECT env FROM deployments WHERE id = $1',
    [id],
  );
  return rows[0]?.env ?? [];
}

/** Locks the deployment row for the rest of the transaction. */
export async function lockDeployment(db: Queryable, id: number): Promise<DeploymentRecord | undefined> {
  const { rows } = await db.query<DeploymentRow>(`SELECT ${COLUMNS} FROM deployments d WHERE d.id = $1 FOR UPDATE`, [
    id,
  ]);
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
    db.query<{ n: number }>('SELECT count(*) AS n FROM deployments WHERE org_id = $1 AND status = ANY($2::text[])', [
      query.orgId,
      LIVE_DEPLOYMENT_STATUSES,
    ]),
  ]);
  return { deployments: page.rows.map(toDeployment), total: count.rows[0]?.n ?? 0 };
}

/** Takes `seats` on one given deployment if it is live, joinable and has room. */
export async function reserveSeatsOnDeployment(
  db: Queryable,
  deploymentId: number,
  seats: number,
): Promise<DeploymentRecord | undefined> {
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
/** Gives back `seats`; returns the deployment as it is now (undefined when none was freed). */
export async function releaseSeats(
  db: Queryable,
  deploymentId: number,
  seats: number,
  now: Date,
): Promise<DeploymentRecord | undefined> {
  if (seats <= 0) return undefined;
  const { rows } = await db.query<DeploymentRow>(
    `UPDATE deployments d SET sockets_usage = d.sockets_usage - $2,
       emptied_at = CASE WHEN d.sockets_usage - $2 = 0 THEN $3 ELSE d.emptied_at END
     WHERE d.id = $1
     RETURNING ${COLUMNS}`,
    [deploymentId, seats, now],
  );
  return rows[0] ? toDeployment(rows[0]) : undefined;
}

export async function updateDeploymentJoinable(
  db: Queryable,
  orgId: number,
  requestId: string,
  isJoinable: boolean,
): Promise<boolean | undefined> {
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

export async function updateDeploymentHeartbeat(
  db: Queryable,
  orgId: number,
  requestId: string,
  now: Date,
): Promise<DeploymentRecord | undefined> {
  const { rows } = await db.query<DeploymentRow>(
    `UPDATE deployments d SET heartbeat_at = $3 WHERE d.org_id = $1 AND d.request_id = $2 RETURNING ${COLUMNS}`,
    [orgId, requestId, now],
  );
  return rows[0] ? toDeployment(rows[0]) : undefined;
}

export async function updateDeploymentProviderData(
  db: Queryable,
  id: number,
  patch: {
    providerData: Record<string, unknown>;
    ports?: Record<string, PortRecord>;
    publicIp?: string;
    fqdn?: string;
  },
): Promise<void> {
  await db.query(
    `UPDATE deployments SET provider_data = provider_data || $2::jsonb, ports = COALESCE($3::jsonb, ports),
       public_ip = COALESCE($4, public_ip), fqdn = COALESCE($5, fqdn) WHERE id = $1`,
    [
      id,
      JSON.stringify(patch.providerData),
      patch.ports ? JSON.stringify(patch.ports) : null,
      patch.publicIp ?? null,
      patch.fqdn ?? null,
    ],
  );
}

/** Request ids of the organisation's live deployments matching every filter (bulk stop). */
export async function selectLiveDeploymentIdsMatching(
  db: Queryable,
  query: {
    orgId: number;
    filters: Array<{ field: 'request_id' | 'deployment_tags'; type: 'any' | 'all' | 'not'; values: string[] }>;
  },
): Promise<number[]> {
  const params: unknown[] = [query.orgId, LIVE_DEPLOYMENT_STATUSES];
  const where = query.filters.map((filter) => {
    params.push(filter.values);
    const p = `$${params.length}::text[]`;
    if (filter.field === 'request_id') {
      return filter.type === 'not'
        ? `NOT (request_id = ANY(${p}))`
        : filter.type === 'any'
          ? `request_id = ANY(${p})`
          : `request_id = ALL(${p})`;
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
export async function selectSeatDrift(
  db: Queryable,
): Promise<Array<{ requestId: string; socketsUsage: number; held: number; sockets: number }>> {
  const { rows } = await db.query<{ request_id: string; sockets_usage: number; held: number; sockets: number }>(
    `SELECT d.request_id, d.sockets_usage, d.sockets, COALESCE(s.held, 0)::int AS held FROM deployments d
     LEFT JOIN (SELECT deployment_id, sum(seats) AS held FROM sessions WHERE deployment_id IS NOT NULL GROUP BY deployment_id) s
       ON s.deployment_id = d.id
     WHERE d.sockets_usage <> COALESCE(s.held, 0) OR d.sockets_usage > d.sockets`,
  );
  return rows.map((r) => ({
    requestId: r.request_id,
    socketsUsage: r.sockets_usage,
    held: r.held,
    sockets: r.sockets,
  }));
}

/**
 * A deployment by request_id in any organisation: a game server reading its context or stopping
 * itself holds a per-deployment token, not its organisation's API key.
 */
export async function selectDeploymentByRequestIdInAnyOrg(
  db: Queryable,
  requestId: string,
): Promise<DeploymentRecord | undefined> {
  const { rows } = await db.query<DeploymentRow>(`SELECT ${COLUMNS} FROM deployments d WHERE d.request_id = $1`, [
    requestId,
  ]);
  return rows[0] ? toDeployment(rows[0]) : undefined;
}

/** Status of each of these deployments that exists, by request_id (reconciling an engine's containers). */
export async function selectDeploymentStatusesByRequestIds(
  db: Queryable,
  requestIds: readonly string[],
): Promise<Map<string, string>> {
  if (requestIds.length === 0) return new Map();
  const { rows } = await db.query<{ request_id: string; status: string }>(
    'SELECT request_id, status FROM deployments WHERE request_id = ANY($1::text[])',
    [requestIds],
  );
  return new Map(rows.map((row) => [row.request_id, row.status]));
}
