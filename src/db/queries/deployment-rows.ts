/** How a deployments row (with its app and version names) maps to a DeploymentRecord. */
import type { DeploymentRecord, DeploymentShown, PortRecord } from '../../domain/records.js';
import { PLACE_COLUMNS, placeOf, type PlaceRow } from './place-rows.js';
import { withDates, type Json } from './json-rows.js';

/** With the place columns of PlaceRow (place-rows.ts). */
export interface DeploymentRow extends PlaceRow {
  id: number;
  request_id: string;
  org_id: number;
  app_id: number;
  app_name: string;
  version_id: number;
  version_name: string;
  provider: string;
  status: string;
  last_status: string | null;
  is_joinable: boolean;
  public_ip: string;
  fqdn: string;
  ports: Record<string, PortRecord>;
  tags: string[];
  sockets: number;
  sockets_usage: number;
  request_user_count: number;
  webhook_url: string | null;
  error_detail: string | null;
  command: string | null;
  arguments: string | null;
  provider_data: Record<string, unknown>;
  heartbeat_timeout_seconds: number | null;
  heartbeat_at: Date | null;
  created_at: Date;
  ready_at: Date | null;
  ended_at: Date | null;
  host_id: number | null;
}

const TABLE_COLUMNS = [
  'id',
  'request_id',
  'org_id',
  'app_id',
  'version_id',
  'provider',
  'status',
  'last_status',
  'is_joinable',
  'public_ip',
  'fqdn',
  'ports',
  ...PLACE_COLUMNS,
  'tags',
  'sockets',
  'sockets_usage',
  'request_user_count',
  'webhook_url',
  'error_detail',
  'command',
  'arguments',
  'provider_data',
  'heartbeat_timeout_seconds',
  'heartbeat_at',
  'created_at',
  'ready_at',
  'ended_at',
  'host_id',
] as const;

/** Columns of `d` (deployments) plus the app and version names, for SELECT and RETURNING alike. */
export const COLUMNS = [
  ...TABLE_COLUMNS.map((c) => `d.${c}`),
  '(SELECT name FROM apps WHERE apps.id = d.app_id) AS app_name',
  '(SELECT name FROM versions WHERE versions.id = d.version_id) AS version_name',
].join(', ');

const DATES = ['heartbeat_at', 'created_at', 'ready_at', 'ended_at'] as const satisfies ReadonlyArray<
  keyof DeploymentRow
>;

/** A deployment read as one JSON column (`to_json` of a row of COLUMNS): see json-rows.ts. */
export function deploymentFromJson(json: Json<DeploymentRow>): DeploymentRecord {
  return toDeployment(withDates(json, DATES));
}

export function toDeployment(row: DeploymentRow): DeploymentRecord {
  return {
    id: row.id,
    requestId: row.request_id,
    orgId: row.org_id,
    appId: row.app_id,
    appName: row.app_name,
    versionId: row.version_id,
    versionName: row.version_name,
    provider: row.provider,
    status: row.status,
    lastStatus: row.last_status,
    isJoinable: row.is_joinable,
    publicIp: row.public_ip,
    fqdn: row.fqdn,
    ports: row.ports,
    place: placeOf(row),
    tags: row.tags,
    sockets: row.sockets,
    socketsUsage: row.sockets_usage,
    requestUserCount: row.request_user_count,
    webhookUrl: row.webhook_url,
    errorDetail: row.error_detail,
    command: row.command,
    arguments: row.arguments,
    providerData: row.provider_data,
    heartbeatTimeoutSeconds: row.heartbeat_timeout_seconds,
    heartbeatAt: row.heartbeat_at,
    createdAt: row.created_at,
    readyAt: row.ready_at,
    endedAt: row.ended_at,
    hostId: row.host_id ?? null,
  };
}

const SHOWN_TABLE_COLUMNS = [
  'request_id',
  'public_ip',
  'status',
  'fqdn',
  'ports',
  'tags',
  'sockets',
  'sockets_usage',
  'is_joinable',
  ...PLACE_COLUMNS,
] as const satisfies ReadonlyArray<keyof DeploymentRow>;

/** The columns of `d` (deployments) a session's GET shows: DeploymentShown, and nothing else. */
export const SHOWN_COLUMNS = SHOWN_TABLE_COLUMNS.map((c) => `d.${c}`).join(', ');

export type DeploymentShownRow = Pick<DeploymentRow, (typeof SHOWN_TABLE_COLUMNS)[number]>;

/** A row of SHOWN_COLUMNS read as one JSON column (it has no timestamps): see json-rows.ts. */
export function deploymentShownFromJson(row: Json<DeploymentShownRow>): DeploymentShown {
  return {
    requestId: row.request_id,
    publicIp: row.public_ip,
    status: row.status,
    fqdn: row.fqdn,
    ports: row.ports,
    tags: row.tags,
    sockets: row.sockets,
    socketsUsage: row.sockets_usage,
    isJoinable: row.is_joinable,
    place: placeOf(row),
  };
}
