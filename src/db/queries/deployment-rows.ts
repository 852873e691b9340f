/** How a deployments row (with its app and version names) maps to a DeploymentRecord. */
import type { DeploymentRecord, PortRecord } from '../../domain/records.js';

export interface DeploymentRow {
  id: number; request_id: string; org_id: number; app_id: number; app_name: string; version_id: number; version_name: string;
  provider: string; status: string; last_status: string | null; is_joinable: boolean; public_ip: string; fqdn: string;
  ports: Record<string, PortRecord>; city: string; country: string; continent: string; administrative_division: string;
  region: string; timezone: string; latitude: number | null; longitude: number | null; tags: string[]; sockets: number;
  sockets_usage: number; request_user_count: number; webhook_url: string | null; error_detail: string | null;
  command: string | null; arguments: string | null; provider_data: Record<string, unknown>;
  heartbeat_timeout_seconds: number | null; heartbeat_at: Date | null; created_at: Date; ready_at: Date | null; ended_at: Date | null;
}

/** Columns of `d` (deployments) plus the app and version names, for SELECT and RETURNING alike. */
export const COLUMNS = `d.id, d.request_id, d.org_id, d.app_id, d.version_id, d.provider, d.status, d.last_status, d.is_joinable,
  d.public_ip, d.fqdn, d.ports, d.city, d.country, d.continent, d.administrative_division, d.region, d.timezone, d.latitude,
  d.longitude, d.tags, d.sockets, d.sockets_usage, d.request_user_count, d.webhook_url, d.error_detail, d.command, d.arguments,
  d.provider_data, d.heartbeat_timeout_seconds, d.heartbeat_at, d.created_at, d.ready_at, d.ended_at,
  (SELECT name FROM apps WHERE apps.id = d.app_id) AS app_name,
  (SELECT name FROM versions WHERE versions.id = d.version_id) AS version_name`;

export function toDeployment(row: DeploymentRow): DeploymentRecord {
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
