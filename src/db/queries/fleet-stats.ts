import type { Queryable } from '../db.js';
import { LIVE_DEPLOYMENT_STATUSES } from '../../domain/session-rules.js';

/** Visible sessions counted by organisation, status and kind (operator metrics). */
export async function countSessionsByStatus(
  db: Queryable,
): Promise<Array<{ org_id: number; status: string; kind: string; count: number }>> {
  const { rows } = await db.query<{ org_id: number; status: string; kind: string; count: number }>(
    'SELECT org_id, status, kind, count(*)::int AS count FROM sessions WHERE deleted_at IS NULL GROUP BY org_id, status, kind',
  );
  return rows;
}

/** Seats used and offered by live deployments, per organisation, app, version and city. */
export async function sumSeatsByVersionAndCity(
  db: Queryable,
): Promise<Array<{ org_id: number; app: string; version: string; city: string; used: number; total: number }>> {
  const { rows } = await db.query<{
    org_id: number;
    app: string;
    version: string;
    city: string;
    used: number;
    total: number;
  }>(
    `SELECT a.org_id, a.name AS app, v.name AS version, d.city, sum(d.sockets_usage)::int AS used, sum(d.sockets)::int AS total
     FROM deployments d JOIN versions v ON v.id = d.version_id JOIN apps a ON a.id = d.app_id
     WHERE d.status = ANY($1::text[]) GROUP BY a.org_id, a.name, v.name, d.city`,
    [LIVE_DEPLOYMENT_STATUSES],
  );
  return rows;
}
