/**
 * Records to wire shapes. Optional fields without a value are omitted, never null (docs/wire-contract.md#no-null).
 */
import type {
  AppRecord,
  DeploymentRecord,
  DeploymentShown,
  SessionRecord,
  SessionShown,
  VersionRecord,
} from '../domain/records.js';
import { DeploymentStatus, SessionStatus } from '../domain/session-rules.js';
import { elapsedSeconds, formatTimestamp } from '../domain/time-format.js';
import type { Application, AppVersion } from './apps.js';
import type { Status } from './deployments.js';
import type { Deployment, SessionContext, SessionGet, SessionRequest } from './sessions.js';

type PortsWire = NonNullable<Deployment['ports']>;

function portsOf(d: Pick<DeploymentRecord, 'ports'>): PortsWire {
  const out: PortsWire = {};
  for (const [key, p] of Object.entries(d.ports)) {
    out[key] = {
      external: p.external,
      internal: p.internal,
      protocol: p.protocol,
      name: p.name,
      tls_upgrade: p.tlsUpgrade,
      link: p.link,
    };
  }
  return out;
}

function locationOf(d: Pick<DeploymentRecord, 'place'>): Deployment['location'] {
  const { place } = d;
  if (place.latitude === null || place.longitude === null) return undefined;
  return {
    city: place.city,
    country: place.country,
    continent: place.continent,
    administrative_division: place.administrativeDivision,
    timezone: place.timezone,
    latitude: place.latitude,
    longitude: place.longitude,
  };
}

function withOptional<T extends object>(base: T, optional: Record<string, unknown>): T {
  const out = { ...base } as Record<string, unknown>;
  for (const [key, value] of Object.entries(optional)) if (value !== undefined && value !== null) out[key] = value;
  return out as T;
}

export function deploymentView(d: DeploymentShown): Deployment {
  return withOptional(
    {
      request_id: d.requestId,
      public_ip: d.publicIp,
      status: d.status,
      ready: d.status === DeploymentStatus.ready,
      whitelisting_active: false,
      fqdn: d.fqdn,
      ports: portsOf(d),
      tags: d.tags,
      sockets: d.sockets,
      sockets_usage: d.socketsUsage,
      is_joinable_by_session: d.isJoinable,
    },
    { location: locationOf(d) },
  );
}

export function sessionIsReady(session: Pick<SessionRecord, 'status'>): boolean {
  return session.status === SessionStatus.ready;
}

export function sessionGetView(session: SessionShown, deployment: DeploymentShown | null, now: Date): SessionGet {
  const users = session.users.map((u) => withOptional({ ip: u.ip }, { latitude: u.latitude, longitude: u.longitude }));
  return withOptional(
    {
      session_id: session.sessionId,
      status: session.status,
      ready: sessionIsReady(session),
      linked: deployment !== null,
      kind: session.kind,
      user_count: session.users.length,
      app_version: session.versionId,
      create_time: formatTimestamp(session.createdAt),
      elapsed: elapsedSeconds(session.createdAt, now),
      session_users: users,
      session_ips: users,
    },
    {
      custom_id: session.customId,
      error: session.error,
      webhook_url: session.webhookUrl,
      deployment: deployment ? deploymentView(deployment) : undefined,
    },
  );
}

export function sessionContextView(session: SessionRecord, deploymentRequestId: string | null): SessionContext {
  return withOptional(
    {
      session_id: session.sessionId,
      status: session.status,
      ready: sessionIsReady(session),
      linked: deploymentRequestId !== null,
      kind: session.kind,
      user_count: session.users.length,
    },
    { custom_id: session.customId, deployment_request_id: deploymentRequestId, webhook_url: session.webhookUrl },
  );
}

export function sessionRequestView(session: SessionRecord, deployment: DeploymentRecord | null): SessionRequest {
  return withOptional(
    { session_id: session.sessionId, app: session.appName, version: session.versionName },
    {
      custom_id: session.customId,
      deployment_request_id: deployment?.requestId,
      webhook_url: session.webhookUrl,
      selectors: session.selectors.length > 0 ? session.selectors : undefined,
    },
  );
}

export function statusView(d: DeploymentRecord, sessions: SessionRecord[] | undefined, now: Date): Status {
  const ready = d.status === DeploymentStatus.ready;
  const loc = locationOf(d);
  return withOptional(
    {
      request_id: d.requestId,
      fqdn: d.fqdn,
      app_name: d.appName,
      app_version: d.versionName,
      current_status: d.status,
      running: ready,
      whitelisting_active: false,
      start_time: formatTimestamp(d.readyAt ?? d.createdAt),
      elapsed_time: elapsedSeconds(d.readyAt ?? d.createdAt, d.endedAt ?? now),
      error: d.status === DeploymentStatus.error,
      public_ip: d.publicIp,
      ports: portsOf(d),
      tags: d.tags,
      sockets: d.sockets,
      sockets_usage: d.socketsUsage,
      provider: d.provider,
      is_joinable_by_session: d.isJoinable,
    },
    {
      removal_time: d.endedAt ? formatTimestamp(d.endedAt) : undefined,
      last_status: d.lastStatus,
      error_detail: d.errorDetail,
      location: loc,
      command: d.command,
      arguments: d.arguments,
      sessions: sessions?.map((s) => ({
        session_id: s.sessionId,
        status: s.status,
        ready: sessionIsReady(s),
        linked: true,
        kind: s.kind,
        user_count: s.users.length,
      })),
    },
  );
}

export function deploymentListView(d: DeploymentRecord) {
  return {
    request_id: d.requestId,
    fqdn: d.fqdn,
    start_time: formatTimestamp(d.readyAt ?? d.createdAt),
    ready: d.status === DeploymentStatus.ready,
    public_ip: d.publicIp,
    ports: portsOf(d),
    tags: d.tags,
    sockets: d.sockets,
    sockets_usage: d.socketsUsage,
    is_joinable_by_session: d.isJoinable,
  };
}

export function applicationView(app: AppRecord): Application {
  return {
    name: app.name,
    is_active: app.isActive,
    is_telemetry_agent_active: app.isTelemetryAgentActive,
    image: app.image,
    create_time: formatTimestamp(app.createdAt),
    last_updated: formatTimestamp(app.updatedAt),
  };
}

/** Secrets never leave: the private registry token is omitted and secret env values masked. */
export function versionView(v: VersionRecord): AppVersion {
  const {
    private_token: _token,
    envs,
    ...spec
  } = v.spec as Record<string, unknown> & { envs?: Array<{ key: string; value: string; is_secret?: boolean }> };
  const out: Record<string, unknown> = { ...spec, name: v.name, is_active: v.isActive };
  if (envs) out['envs'] = envs.map((e) => (e.is_secret ? { ...e, value: '********' } : e));
  if (v.hasSessionConfig) {
    out['session_config'] = withOptional(
      {
        kind: v.sessionKind,
        sockets: v.sockets ?? 1,
        autodeploy: v.autodeploy,
        session_max_duration: v.sessionMaxDurationMinutes,
      },
      { empty_ttl: v.emptyTtlMinutes },
    );
  }
  return out as AppVersion;
}
