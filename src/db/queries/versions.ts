import type { Queryable } from '../db.js';
import type { VersionRecord } from '../../domain/records.js';
import type { SessionKind } from '../../domain/session-rules.js';
import { withDates, type Json } from './json-rows.js';

interface VersionRow {
  id: number;
  org_id: number;
  app_id: number;
  app_name: string;
  name: string;
  is_active: boolean;
  spec: Record<string, unknown>;
  session_kind: SessionKind;
  sockets: number | null;
  autodeploy: boolean;
  empty_ttl_minutes: number | null;
  session_max_duration_minutes: number;
  has_session_config: boolean;
  created_at: Date;
  updated_at: Date;
}

const COLUMNS = `v.id, v.org_id, v.app_id, a.name AS app_name, v.name, v.is_active, v.spec, v.session_kind, v.sockets,
  v.autodeploy, v.empty_ttl_minutes, v.session_max_duration_minutes, (v.spec ? 'session_config') AS has_session_config,
  v.created_at, v.updated_at`;
const SELECT = `SELECT ${COLUMNS} FROM versions v JOIN apps a ON a.id = v.app_id`;

const toVersion = (row: VersionRow): VersionRecord => ({
  id: row.id,
  orgId: row.org_id,
  appId: row.app_id,
  appName: row.app_name,
  name: row.name,
  isActive: row.is_active,
  spec: row.spec,
  sessionKind: row.session_kind,
  sockets: row.sockets,
  autodeploy: row.autodeploy,
  emptyTtlMinutes: row.empty_ttl_minutes,
  sessionMaxDurationMinutes: row.session_max_duration_minutes,
  hasSessionConfig: row.has_session_config,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
});

export interface VersionWrite {
  name: string;
  isActive: boolean;
  spec: Record<string, unknown>;
  sessionKind: SessionKind;
  sockets: number | null;
  autodeploy: boolean;
  emptyTtlMinutes: number | null;
  sessionMaxDurationMinutes: number;
}

/** Returns undefined when the app already has a version of that name. */
export async function insertVersion(
  db: Queryable,
  version: VersionWrite & { orgId: number; appId: number; now: Date },
): Promise<VersionRecord | undefined> {
  const { rows } = await db.query<{ id: number }>(
    `INSERT INTO versions (org_id, app_id, name, is_active, spec, session_kind, sockets, autodeploy, empty_ttl_minutes,
       session_max_duration_minutes, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11) ON CONFLICT (app_id, name) DO NOTHING RETURNING id`,
    [
      version.orgId,
      version.appId,
      version.name,
      version.isActive,
      JSON.stringify(version.spec),
      version.sessionKind,
      version.sockets,
      version.autodeploy,
      version.emptyTtlMinutes,
      version.sessionMaxDurationMinutes,
      version.now,
    ],
  );
  return rows[0] ? selectVersionById(db, rows[0].id) : undefined;
}

export async function selectVersionById(db: Queryable, id: number): Promise<VersionRecord | undefined> {
  const { rows } = await db.query<VersionRow>(`${SELECT} WHERE v.id = $1`, [id]);
  return rows[0] ? toVersion(rows[0]) : undefined;
}

export async function selectVersion(db: Queryable, appId: number, name: string): Promise<VersionRecord | undefined> {
  const { rows } = await db.query<VersionRow>(`${SELECT} WHERE v.app_id = $1 AND v.name = $2`, [appId, name]);
  return rows[0] ? toVersion(rows[0]) : undefined;
}

export interface AppVersion {
  appIsActive: boolean;
  /** Undefined when the app has no such version (or, unnamed, no active one). */
  version: VersionRecord | undefined;
}

/** A row of appVersionSql: the app's is_active and the version's columns (NULL when none). */
export type VersionRowWithApp = Partial<VersionRow> & { app_is_active: boolean };

/**
 * SELECT of the app named by the parameter `appName` with the version named `versionName`, or
 * with `versionName` NULL its newest active version (session-based only when `isForSessions`,
 * so a newer plain version does not hide one that can take sessions): one row when the app exists.
 */
export function appVersionSql(orgId: string, appName: string, versionName: string, isForSessions = false): string {
  const newest = isForSessions ? `is_active AND session_kind <> 'Default'` : 'is_active';
  return `SELECT a.is_active AS app_is_active, ${COLUMNS} FROM apps a
     LEFT JOIN LATERAL (
       SELECT * FROM versions WHERE app_id = a.id AND CASE WHEN ${versionName}::text IS NULL THEN ${newest} ELSE name = ${versionName}::text END
       ORDER BY created_at DESC, id DESC LIMIT 1) v ON true
     WHERE a.org_id = ${orgId} AND a.name = ${appName}`;
}

export function readAppVersion(row: VersionRowWithApp): AppVersion {
  const { app_is_active, ...version } = row;
  return { appIsActive: app_is_active, version: version.id == null ? undefined : toVersion(version as VersionRow) };
}

const VERSION_DATES = ['created_at', 'updated_at'] as const;

/** readAppVersion of an appVersionSql row read as one JSON column (`to_json`). */
export function appVersionFromJson(json: Json<VersionRowWithApp>): AppVersion {
  return readAppVersion(withDates(json, VERSION_DATES));
}

/**
 * The app named `appName` with the version named `versionName`, or without a name its newest
 * active version; undefined when there is no such app.
 */
export async function selectAppVersion(
  db: Queryable,
  orgId: number,
  appName: string,
  versionName: string | undefined,
): Promise<AppVersion | undefined> {
  const { rows } = await db.query<VersionRowWithApp>(appVersionSql('$1', '$2', '$3'), [
    orgId,
    appName,
    versionName ?? null,
  ]);
  return rows[0] ? readAppVersion(rows[0]) : undefined;
}

/**
 * As selectAppVersion, for a session create: without a name, the newest active version that
 * takes sessions (plain versions are skipped).
 */
export async function selectAppSessionVersion(
  db: Queryable,
  orgId: number,
  appName: string,
  versionName: string | undefined,
): Promise<AppVersion | undefined> {
  const { rows } = await db.query<VersionRowWithApp>(appVersionSql('$1', '$2', '$3', true), [
    orgId,
    appName,
    versionName ?? null,
  ]);
  return rows[0] ? readAppVersion(rows[0]) : undefined;
}

export async function selectVersions(db: Queryable, appId: number): Promise<VersionRecord[]> {
  const { rows } = await db.query<VersionRow>(`${SELECT} WHERE v.app_id = $1 ORDER BY v.created_at, v.id`, [appId]);
  return rows.map(toVersion);
}

/** Returns undefined when the new name is taken by another version of the app. */
export async function updateVersion(
  db: Queryable,
  id: number,
  version: VersionWrite & { now: Date },
): Promise<VersionRecord | undefined> {
  const { rows } = await db.query<{ id: number }>(
    `UPDATE versions SET name = $2, is_active = $3, spec = $4, session_kind = $5, sockets = $6, autodeploy = $7,
       empty_ttl_minutes = $8, session_max_duration_minutes = $9, updated_at = $10
     WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM versions o WHERE o.app_id = versions.app_id AND o.name = $2 AND o.id <> $1)
     RETURNING id`,
    [
      id,
      version.name,
      version.isActive,
      JSON.stringify(version.spec),
      version.sessionKind,
      version.sockets,
      version.autodeploy,
      version.emptyTtlMinutes,
      version.sessionMaxDurationMinutes,
      version.now,
    ],
  );
  return rows[0] ? selectVersionById(db, rows[0].id) : undefined;
}

export async function deleteVersionIfNoLiveDeployment(
  db: Queryable,
  id: number,
  liveStatuses: readonly string[],
): Promise<boolean> {
  const { rows } = await db.query<{ n: number }>(
    'SELECT count(*) AS n FROM deployments WHERE version_id = $1 AND status = ANY($2::text[])',
    [id, liveStatuses],
  );
  if ((rows[0]?.n ?? 0) > 0) return false;
  await db.query('DELETE FROM sessions WHERE version_id = $1', [id]);
  await db.query('DELETE FROM deployments WHERE version_id = $1', [id]);
  await db.query('DELETE FROM versions WHERE id = $1', [id]);
  return true;
}
