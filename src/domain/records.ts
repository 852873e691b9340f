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
  /** The host it runs on, for providers that run on hosts; null otherwise. */
  hostId: number | null;
}

/** What a session's GET answer shows of its deployment (contract/views.ts deploymentView). */
export type DeploymentShown = Pick<
  DeploymentRecord,
  'requestId' | 'publicIp' | 'status' | 'fqdn' | 'ports' | 'tags' | 'sockets' | 'socketsUsage' | 'isJoinable' | 'place'
>;

/** How to reach a host's container engine. Key material never leaves the server in an answer. */
export type HostEndpoint =
  | { kind: 'socket'; path: string }
  | { kind: 'tcp'; host: string; port: number; tls?: { ca?: string; cert?: string; key?: string } }
  | { kind: 'ssh'; host: string; port: number; username: string; privateKey?: string };

export const HOST_STATES = ['active', 'draining', 'down'] as const;
/** active: takes new deployments; draining: keeps what runs, takes nothing new; down: unreachable or out. */
export type HostState = (typeof HOST_STATES)[number];

export interface HostRecord {
  id: number;
  name: string;
  endpoint: HostEndpoint;
  /** The address players reach its published ports on. */
  publicIp: string;
  place: PlaceRecord;
  /** 1024 units are one vCPU. */
  cpuUnits: number;
  memoryMb: number;
  portMin: number;
  portMax: number;
  tags: string[];
  state: HostState;
  stateDetail: string | null;
  unreachableSince: Date | null;
  usedCpuUnits: number;
  usedMemoryMb: number;
  usedPorts: number;
  createdAt: Date;
  updatedAt: Date;
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

/** What a session's GET answer shows of it (contract/views.ts), and whether it was deleted: all a GET reads. */
export type SessionShown = Pick<
  SessionRecord,
  | 'sessionId'
  | 'status'
  | 'kind'
  | 'users'
  | 'versionId'
  | 'createdAt'
  | 'customId'
  | 'error'
  | 'webhookUrl'
  | 'deletedAt'
>;
