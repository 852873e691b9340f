import type { Tx } from '../db/db.js';
import { lockDeployment, releaseSeats } from '../db/queries/deployments.js';
import { selectVersionWithPlaces } from '../db/queries/placement.js';
import {
  insertLinkedSessionSql, insertSession, lockSession, markSessionDeleted, readSession, selectSession, selectSessionIdsMatching,
  selectSessionsPage, selectSessionWithDeployment, type LinkedSession, type SessionFilter,
} from '../db/queries/sessions.js';
import type { AppVersion } from '../db/queries/versions.js';
import { fail, ok, type Result } from '../domain/errors.js';
import { allSelectorTags, centroid, locationConstraintsOf, requiredTagsOf, type Position } from '../domain/placement.js';
import type { DeploymentRecord, SessionRecord, VersionRecord } from '../domain/records.js';
import { addUsers, DeploymentStatus, SESSION_KINDS, seatsFor, sessionStatusForDeployment, SessionStatus, type SessionUser } from '../domain/session-rules.js';
import type { SessionModel } from '../contract/sessions.js';
import { emitDeployment, emitSession, type AppDeps } from './deps.js';
import { newSessionId } from './ids.js';
import { reserveOnBestDeployment, reserveOnNamedDeployment, startDeploymentIn } from './placement.js';
import { checkWebhookUrl } from './webhook-url.js';
import { canonicalPlayerAddresses } from '../domain/player-address.js';

/** The version a session create asks for, or why it cannot take sessions. */
function sessionVersion(found: AppVersion | undefined, appName: string, versionName: string | undefined): Result<VersionRecord> {
  if (!found) return fail('UNKNOWN_APP', `Application "${appName}" does not exist.`);
  if (!found.appIsActive) return fail('APP_INACTIVE', `Application "${appName}" is not active.`);
  const version = found.version;
  if (!version) {
    return fail('UNKNOWN_VERSION', versionName ? `Application "${appName}" has no version named "${versionName}".` : `Application "${appName}" has no active session-based version.`);
  }
  if (!version.isActive) return fail('VERSION_INACTIVE', `Version "${version.name}" of "${appName}" is not active.`);
  if (version.sessionKind === 'Default') {
    return fail('NOT_SESSION_BASED', `Version "${version.name}" of "${appName}" is not session based (session_config.kind is Default).`);
  }
  return ok(version);
}

/**
 * Users from `ip_list` and `geo_ip_list`, each address once in its canonical spelling (two
 * spellings of one address are one player); geo entries bring their coordinates.
 */
function usersOf(input: SessionModel): Result<SessionUser[]> {
  const geoList = input.geo_ip_list ?? [];
  const geoIps = canonicalPlayerAddresses(geoList.map((g) => g.ip));
  if (!geoIps.ok) return fail('VALIDATION_FAILED', `geo_ip_list: ${geoIps.error.message}`);
  const ips = canonicalPlayerAddresses(input.ip_list ?? []);
  if (!ips.ok) return fail('VALIDATION_FAILED', `ip_list: ${ips.error.message}`);
  const geo = geoList.map((g, i) => ({ ip: geoIps.value[i]!, latitude: g.latitude, longitude: g.longitude }));
  return ok(addUsers(geo, ips.value.map((ip) => ({ ip }))));
}

/** Where the players are: `location`, else the centre of `geo_ip_list`, else of the IPs' geolocation. */
export function playersPosition(deps: Pick<AppDeps, 'geo'>, input: Pick<SessionModel, 'location' | 'geo_ip_list' | 'ip_list'>): Position | null {
  if (input.location) return input.location;
  if (input.geo_ip_list && input.geo_ip_list.length > 0) return centroid(input.geo_ip_list);
  const located = (input.ip_list ?? []).map((ip) => deps.geo.positionOf(ip)).filter((p): p is Position => p !== null);
  return centroid(located);
}

/** sessionStatusForDeployment as a table, for the statement that links a session as it takes seats. */
const SESSION_STATUS_BY_DEPLOYMENT_STATUS: Record<string, string> = Object.fromEntries(
  Object.values(DeploymentStatus).map((status) => [status, sessionStatusForDeployment(status)]),
);

/** What placement needs to run again later (location, filters...), as the client sent it. */
function placementOf(input: SessionModel): Record<string, unknown> {
  return {
    ...(input.location ? { location: input.location } : {}), ...(input.filters ? { filters: input.filters } : {}),
    ...(input.city ? { city: input.city } : {}), ...(input.country ? { country: input.country } : {}),
    ...(input.continent ? { continent: input.continent } : {}), ...(input.region ? { region: input.region } : {}),
    ...(input.administrative_division ? { administrative_division: input.administrative_division } : {}),
  };
}

export interface CreatedSession {
  session: SessionRecord;
  deployment: DeploymentRecord | null;
}

export async function createSession(deps: AppDeps, orgId: number, input: SessionModel): Promise<Result<CreatedSession>> {
  const players = usersOf(input);
  if (!players.ok) return players;
  const users = players.value;
  const constraints = locationConstraintsOf(input);
  if (!constraints.ok) return constraints;
  if (input.webhook_url !== undefined) {
    const checked = checkWebhookUrl(input.webhook_url, deps.webhookDenyList);
    if (!checked.ok) return checked;
  }
  const position = playersPosition(deps, input);
  const selectors = (input.selectors ?? []).map((s) => ({ tag: s.tag, tag_only: s.tag_only ?? false, ...(s.env ? { env: s.env } : {}) }));
  const requiredTags = requiredTagsOf(input);
  const versionName = input.version_name || undefined;
  const seatsByKind = Object.fromEntries(SESSION_KINDS.map((kind) => [kind, seatsFor(kind, users.length)]));

  const startedAt = performance.now();
  let autodeployed = false;
  const transaction = deps.createBatcher ? deps.createBatcher.run : deps.db.transaction.bind(deps.db);
  // Run again from the start when its batch rolls back (transaction-batcher.ts): set nothing outside.
  const result = await transaction(async (tx): Promise<Result<CreatedSession>> => {
    autodeployed = false;
    // The version and, in the same round trip, its places with room.
    const found = await selectVersionWithPlaces(tx, { orgId, appName: input.app_name, versionName, seatsByKind, requiredTags, constraints: constraints.value });
    const resolved = sessionVersion(found, input.app_name, versionName);
    if (!resolved.ok) return resolved;
    // After the version checks, so an unknown app or version is reported as such first.
    if (users.length === 0) return fail('VALIDATION_FAILED', 'ip_list must name at least one player.');
    const version = resolved.value;
    const seats = seatsFor(version.sessionKind, users.length);
    const fields: LinkedSession = {
      sessionId: newSessionId(), orgId, appId: version.appId, versionId: version.id, kind: version.sessionKind, seats, users, selectors,
      placement: placementOf(input), customId: input.custom_id ?? null, webhookUrl: input.webhook_url ?? null, now: deps.clock.now(),
      statusByDeploymentStatus: SESSION_STATUS_BY_DEPLOYMENT_STATUS,
    };
    let deployment: DeploymentRecord | undefined;
    let session: SessionRecord | undefined;
    let error: string | null = null;
    if (input.deployment_request_id !== undefined) {
      const named = await reserveOnNamedDeployment(tx, orgId, version, input.deployment_request_id, seats);
      if (!named.ok) return named;
      deployment = named.value;
    } else {
      // The usual case: the session row is written by the statement that takes its seats.
      const linked = { sql: (params: unknown[], from: string) => insertLinkedSessionSql(fields, params, from), read: readSession };
      const reserved = await reserveOnBestDeployment(tx, version, { seats, requiredTags, constraints: constraints.value, position }, linked, found?.places);
      deployment = reserved?.deployment;
      session = reserved?.linked;
      if (!deployment && version.autodeploy) {
        const env = selectors.flatMap((s) => Object.entries(s.env ?? {}).map(([key, value]) => ({ key, value })));
        const started = await startDeploymentIn(deps, tx, {
          orgId, version, position, constraints: constraints.value, seats, tags: allSelectorTags(input), env, userCount: users.length, webhookUrl: null,
        });
        if (started.ok) {
          deployment = started.value;
          autodeployed = true;
        } else error = `No deployment can take this session and autodeploy failed: ${started.error.message}`;
      } else if (!deployment) {
        error = 'No deployment of this version can take this session (capacity, tags or location) and autodeploy is off.';
      }
    }
    session ??= await insertSession(tx, {
      ...fields,
      status: deployment ? sessionStatusForDeployment(deployment.status) : SessionStatus.unprocessable,
      deploymentId: deployment?.id ?? null, seats: deployment ? seats : 0, error,
    });
    await emitSession(deps, tx, 'created', session, deployment ?? null);
    if (deployment) {
      await emitSession(deps, tx, 'linked', session, deployment);
      if (session.status === SessionStatus.ready) await emitSession(deps, tx, 'ready', session, deployment);
      if (seats > 0) await emitDeployment(deps, tx, 'usage_changed', deployment);
    } else {
      await emitSession(deps, tx, 'unprocessable', session, null);
    }
    return ok({ session, deployment: deployment ?? null });
  });
  if (result.ok) {
    const outcome = result.value.deployment === null ? 'unprocessable' : autodeployed ? 'autodeployed' : 'linked';
    deps.observer?.observePlacement(outcome, (performance.now() - startedAt) / 1000, orgId);
  }
  return result;
}

export interface SessionView {
  session: SessionRecord;
  deployment: DeploymentRecord | null;
}

export async function getSession(deps: AppDeps, orgId: number, sessionId: string): Promise<Result<SessionView>> {
  const found = await selectSessionWithDeployment(deps.db, orgId, sessionId);
  if (!found || found.session.deletedAt) return fail('SESSION_NOT_FOUND', `Session ${sessionId} does not exist.`);
  return ok(found);
}

/**
 * Deletes a session inside `tx`: its seats are freed at once and it answers 404 from then on.
 * Locks the deployment before the session, the order every writer uses, so writers never deadlock.
 */
async function deleteSessionIn(deps: AppDeps, tx: Tx, session: SessionRecord): Promise<Result<SessionRecord>> {
  const deployment = session.deploymentId === null ? null : ((await lockDeployment(tx, session.deploymentId)) ?? null);
  const locked = await lockSession(tx, session.id);
  if (!locked) return fail('SESSION_NOT_FOUND', `Session ${session.sessionId} does not exist.`);
  if (locked.deletedAt) return fail('ALREADY_TERMINATING', `Session ${session.sessionId} is already terminating.`);
  const now = deps.clock.now();
  const released = locked.deploymentId !== null ? await releaseSeats(tx, locked.deploymentId, locked.seats, now) : undefined;
  await markSessionDeleted(tx, locked.id, now);
  const deleted = { ...locked, status: SessionStatus.terminating, seats: 0, deletedAt: now };
  await emitSession(deps, tx, 'deleted', deleted, deployment);
  if (deployment && released) await emitDeployment(deps, tx, 'usage_changed', released);
  return ok(deleted);
}

export async function deleteSession(deps: AppDeps, orgId: number, sessionId: string): Promise<Result<SessionRecord>> {
  const session = await selectSession(deps.db, orgId, sessionId);
  if (!session) return fail('SESSION_NOT_FOUND', `Session ${sessionId} does not exist.`);
  if (session.deletedAt) return fail('ALREADY_TERMINATING', `Session ${sessionId} is already terminating.`);
  return deps.db.transaction((tx) => deleteSessionIn(deps, tx, session));
}

export async function listSessions(deps: AppDeps, orgId: number, page: number, limit: number) {
  return selectSessionsPage(deps.db, { orgId, offset: (page - 1) * limit, limit });
}

export async function bulkStopSessions(
  deps: AppDeps,
  orgId: number,
  filters: Array<{ field: SessionFilter['field']; filter_type: SessionFilter['type']; values: string[] }>,
): Promise<Result<string[]>> {
  if (filters.length === 0) return fail('VALIDATION_FAILED', 'filters must hold at least one filter.');
  const sessionIds = await selectSessionIdsMatching(deps.db, { orgId, filters: filters.map((f) => ({ field: f.field, type: f.filter_type, values: f.values })) });
  const stopped: string[] = [];
  // One short transaction per session keeps locks brief; a session deleted meanwhile is skipped.
  for (const sessionId of sessionIds) {
    const result = await deps.db.transaction(async (tx) => {
      const session = await selectSession(tx, orgId, sessionId);
      return session && !session.deletedAt ? deleteSessionIn(deps, tx, session) : fail<SessionRecord>('SESSION_NOT_FOUND', 'gone');
    });
    if (result.ok) stopped.push(result.value.sessionId);
  }
  return ok(stopped);
}
