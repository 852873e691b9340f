/**
 * What the lifetime sweep (src/jobs/lifetimes.ts) and the process provider's self-stop read.
 * Every deadline here is derived from columns the core already maintains in the same
 * transaction as the change that moves it (emptied_at, sessions.ended_at, heartbeat_at).
 */
import type { Queryable } from '../db.js';
import { LIVE_DEPLOYMENT_STATUSES } from '../../domain/session-rules.js';

/** Live deployments whose heartbeat is older than their timeout. */
export async function selectStaleHeartbeatDeploymentIds(
  db: Queryable,
  query: { now: Date; limit: number; deploymentId?: number },
): Promise<number[]> {
  const { rows } = await db.query<{ id: number }>(
    `SELECT id FROM deployments
     WHERE heartbeat_timeout_seconds IS NOT NULL AND status = ANY($2::text[])
       AND COALESCE(heartbeat_at, created_at) + make_interval(secs => heartbeat_timeout_seconds) <= $1
       AND ($4::bigint IS NULL OR id = $4)
     ORDER BY id LIMIT $3`,
    [query.now, LIVE_DEPLOYMENT_STATUSES, query.limit, query.deploymentId ?? null],
  );
  return rows.map((row) => Number(row.id));
}

/**
 * Live deployments of a version with empty_ttl that hold no live session and have been empty
 * for at least empty_ttl minutes. "Empty since" is the latest of: when its seats went back to
 * zero, when it was created, and when its last session ended (a Seat session with no user
 * holds no seat, so emptied_at alone could be older than the last session).
 */
export async function selectExpiredEmptyDeploymentIds(
  db: Queryable,
  query: { now: Date; limit: number; deploymentId?: number },
): Promise<number[]> {
  const { rows } = await db.query<{ id: number }>(
    `SELECT d.id FROM deployments d JOIN versions v ON v.id = d.version_id
     WHERE v.empty_ttl_minutes IS NOT NULL AND d.status = ANY($2::text[]) AND d.sockets_usage = 0
       AND ($4::bigint IS NULL OR d.id = $4)
       AND NOT EXISTS (SELECT 1 FROM sessions s WHERE s.deployment_id = d.id AND s.ended_at IS NULL AND s.deleted_at IS NULL)
       AND GREATEST(d.emptied_at, d.created_at, (SELECT max(s.ended_at) FROM sessions s WHERE s.deployment_id = d.id))
           + make_interval(mins => v.empty_ttl_minutes) <= $1
     ORDER BY d.id LIMIT $3`,
    [query.now, LIVE_DEPLOYMENT_STATUSES, query.limit, query.deploymentId ?? null],
  );
  return rows.map((row) => Number(row.id));
}
