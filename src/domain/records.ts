/** The shapes use cases work with. Only db/ knows how they map to columns. */
import type { SessionKind, SessionUser } from './session-rules.js';

export interface OrgRecord {
  id: number;
  name: string;
  webhookSecret: string;
}

export interface ApiKeyRecord {
  id: number;
  keyId: string;
  orgId: number;
  name: string;
  createdAt: Date;
  revokedAt: Date | null;
}

export interface AppRecord {
  id: number;
  orgId: number;
  name: string;
  isActive: boolean;
  isTelemetryAgentActive: boolean;
  image: string;
  createdAt: Date;
  updatedAt: Date;
}

export interface VersionRecord {
  id: number;
  orgId: number;
  appId: number;
  appName: string;
  name: string;
  isActive: boolean;
  /** Provider-facing fields of the version payload (ports, envs, command, docker...). */
  spec: Record<string, unknown>;
  sessionKind: SessionKind;
  sockets: number | null;
  autodeploy: boolean;
  emptyTtlMinutes: number | null;
  sessionMaxDurationMinutes: number;
  hasSessionConfig: boolean;
  createdAt: Date;
  updatedAt: Date;
}

export interface PortRecord {
  name: string;
  internal: number;
  external: number;
  protocol: string;
  tlsUpgrade: boolean;
  link: string;
}

export interface PlaceRecord {
  city: string;
  country: string;
  continent: string;
  administrativeDivision: string;
  region: string;
  timezone: string;
  latitude: number | null;
  longitude: number | null;
}

export interface DeploymentRecord {
  id: number;
  requestId: string;
  orgId: number;
  appId: number;
  appName: string;
  versionId: number;
  versionName: string;
  provider: string;
  status: string;
  lastStatus: string | null;
  isJoinable: boolean;
  publicIp: string;
  fqdn: string;
  ports: Record<string, PortRecord>;
  place: PlaceRecord;
  tags: string[];
  sockets: number;
  socketsUsage: number;
  requestUserCount: number;
  webhookUrl: string | null;
  errorDetail: string | null;
  command: string | null;
  arguments: string | null;
  providerData: Record<string, unknown>;
  heartbeatTimeoutSeconds: number | null;
  heartbeatAt: Date | null;
  createdAt: Date;
  readyAt: Date | null;
  endedAt: Date | null;
}

export interface SessionRecord {
  id: number;
  sessionId: string;
  orgId: number;
  appId: number;
  appName: string;
  versionId: number;
  versionName: string;
  kind: SessionKind;
  status: string;
  deploymentId: number | null;
  seats: number;
  users: SessionUser[];
  selectors: Array<{ tag: string; tag_only?: boolean; env?: Record<string, string> }>;
  placement: Record<string, unknown>;
  customId: string | null;
  webhookUrl: string | null;
  error: string | null;
  createdAt: Date;
  endedAt: Date | null;
  deletedAt: Date | null;
}
