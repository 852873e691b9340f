import type { Queryable } from '../db.js';
import type { AppRecord } from '../../domain/records.js';

interface AppRow {
  id: number;
  org_id: number;
  name: string;
  is_active: boolean;
  is_telemetry_agent_active: boolean;
  image: string;
  created_at: Date;
  updated_at: Date;
}
const COLUMNS = 'id, org_id, name, is_active, is_telemetry_agent_active, image, created_at, updated_at';
const toApp = (row: AppRow): AppRecord => ({
  id: row.id,
  orgId: row.org_id,
  name: row.name,
  isActive: row.is_active,
  isTelemetryAgentActive: row.is_telemetry_agent_active,
  image: row.image,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
});

/** Returns undefined when the organisation already has an app of that name. */
export async function insertApp(
  db: Queryable,
  app: { orgId: number; name: string; isActive: boolean; isTelemetryAgentActive: boolean; image: string; now: Date },
): Promise<AppRecord | undefined> {
  const { rows } = await db.query<AppRow>(
    `INSERT INTO apps (org_id, name, is_active, is_telemetry_agent_active, image, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $6) ON CONFLICT (org_id, name) DO NOTHING RETURNING ${COLUMNS}`,
    [app.orgId, app.name, app.isActive, app.isTelemetryAgentActive, app.image, app.now],
  );
  return rows[0] ? toApp(rows[0]) : undefined;
}

export async function selectApp(db: Queryable, orgId: number, name: string): Promise<AppRecord | undefined> {
  const { rows } = await db.query<AppRow>(`SELECT ${COLUMNS} FROM apps WHERE org_id = $1 AND name = $2`, [orgId, name]);
  return rows[0] ? toApp(rows[0]) : undefined;
}

export async function selectApps(db: Queryable, orgId: number): Promise<AppRecord[]> {
  const { rows } = await db.query<AppRow>(`SELECT ${COLUMNS} FROM apps WHERE org_id = $1 ORDER BY created_at, id`, [
    orgId,
  ]);
  return rows.map(toApp);
}

export async function updateApp(
  db: Queryable,
  id: number,
  patch: { name?: string; isActive?: boolean; isTelemetryAgentActive?: boolean; image?: string; now: Date },
): Promise<AppRecord | undefined> {
  const { rows } = await db.query<AppRow>(
    `UPDATE apps SET name = COALESCE($2, name), is_active = COALESCE($3, is_active),
       is_telemetry_agent_active = COALESCE($4, is_telemetry_agent_active), image = COALESCE($5, image), updated_at = $6
     WHERE id = $1 RETURNING ${COLUMNS}`,
    [
      id,
      patch.name ?? null,
      patch.isActive ?? null,
      patch.isTelemetryAgentActive ?? null,
      patch.image ?? null,
      patch.now,
    ],
  );
  return rows[0] ? toApp(rows[0]) : undefined;
}

/**
 * Deletes the app with its versions and their ended deployments and sessions, unless a deployment
 * of it is still live (returns false then: stop them first).
 */
export async function deleteAppIfNoLiveDeployment(
  db: Queryable,
  id: number,
  liveStatuses: readonly string[],
): Promise<boolean> {
  const { rows } = await db.query<{ n: number }>(
    'SELECT count(*) AS n FROM deployments WHERE app_id = $1 AND status = ANY($2::text[])',
    [id, liveStatuses],
  );
  if ((rows[0]?.n ?? 0) > 0) return false;
  await db.query('DELETE FROM sessions WHERE app_id = $1', [id]);
  await db.query('DELETE FROM deployments WHERE app_id = $1', [id]);
  await db.query('DELETE FROM versions WHERE app_id = $1', [id]);
  await db.query('DELETE FROM apps WHERE id = $1', [id]);
  return true;
}
