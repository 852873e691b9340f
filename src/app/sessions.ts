import type { Tx } from '../db/db.js';
import { lockDeployment, releaseSeats } from '../db/queries/deployments.js';
import {
  insertSessionOnBestDeployment,
  type PlacedSessionFields,
  type SessionPlacementRequest,
} from '../db/queries/placement.js';
import {
  insertSession,
  lockSession,
  markSessionDeleted,
  selectSession,
  selectSessionIdsMatching,
  selectSessionsPage,
  selectSessionShown,
  type SessionFilter,
} from '../db/queries/sessions.js';
import { selectAppSessionVersion, type AppVersion } from '../db/queries/versions.js';
import { fail, ok, type Result } from '../domain/errors.js';
import {
  allSelectorTags,
  centroid,
  locationConstraintsOf,
  requiredTagsOf,
  type LocationConstraint,
  type Position,
} from '../domain/placement.js';
import type {
  DeploymentRecord,
  DeploymentShown,
  SessionRecord,
  SessionShown,
  VersionRecord,
} from '../domain/records.js';
import {
  addUsers,
  DeploymentStatus,
  SESSION_KINDS,
  seatsFor,
  sessionStatusForDeployment,
  SessionStatus,
  type SessionUser,
} from '../domain/session-rules.js';
import type { SessionModel } from '../contract/sessions.js';
import { emitDeployment, emitSession, type AppDeps } from './deps.js';
import { newSessionId } from './ids.js';
import { reserveOnNamedDeployment, startDeploymentIn } from './placement.js';
import { checkWebhookUrl } from './webhook-url.js';
import { canonicalPlayerAddresses } from '../domain/player-address.js';

/** The version a session create asks for, or why it cannot take sessions. */
function sessionVersion(
  found: AppVersion | undefined,
  appName: string,
  versionName: string | undefined,
): Result<VersionRecord> {
  if (!found) return fail('UNKNOWN_APP', `Application "${appName}" does not exist.`);
  if (!found.appIsActive) return fail('APP_INACTIVE', `Application "${appName}" is not active.`);
  const version = found.version;
  if (!version) {
    return fail(
      'UNKNOWN_VERSION',
      versionName
        ? `Application "${appName}" has no version named "${versionName}".`
        : `Application "${appName}" has no active session-based version.`,
    );
  }
  if (!version.isActive) return fail('VERSION_INACTIVE', `Version "${version.name}" of "${appName}" is not active.`);
  if (version.sessionKind === 'Default') {
    return fail(
      'NOT_SESSION_BASED',
      `Version "${version.name}" of "${appName}" is not session based (session_config.kind is Default).`,
    );
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
  return ok(
    addUsers(
      geo,
      ips.value.map((ip) => ({ ip })),
    ),
  );
}

/** Where the players are: `location`, else the centre of `geo_ip_list`, else of the IPs' geolocation. */
export function playersPosition(
  deps: Pick<AppDeps, 'geo'>,
  input: Pick<SessionModel, 'location' | 'geo_ip_list' | 'ip_list'>,
): Position | null {
  if (input.location) return input.location;
  if (input.geo_ip_list && input.geo_ip_list.length > 0) return centroid(input.geo_ip_list);
  const located = (input.ip_list ?? []).map((ip) => deps.geo.positionOf(ip)).filter((p): p is Position => p !== null);
  return centroid(located);
}

/** seatsFor of each session kind for `users` players, as a table for the placement statement. */
function seatsByKind(users: number): Record<string, number> {
  return Object.fromEntries(SESSION_KINDS.map((kind) => [kind, seatsFor(kind, users)]));
}

/** sessionStatusForDeployment as a table, for the statement that links a session as it takes seats. */
const SESSION_STATUS_BY_DEPLOYMENT_STATUS: Record<string, string> = Object.fromEntries(
  Object.values(DeploymentStatus).map((status) => [status, sessionStatusForDeployment(status)]),
);

/** What placement needs to run again later (location, filters...), as the client sent it. */
function placementOf(input: SessionModel): Record<string, unknown> {
  return {
    ...(input.location ? { location: input.location } : {}),
    ...(input.filters ? { filters: input.filters } : {}),
    ...(input.city ? { city: input.city } : {}),
    ...(input.country ? { country: input.country } : {}),
    ...(input.continent ? { continent: input.continent } : {}),
    ...(input.region ? { region: input.region } : {}),
    ...(input.administrative_division ? { administrative_division: input.administrative_division } : {}),
  };
}

export interface CreatedSession {
  session: SessionRecord;
  deployment: DeploymentRecord | null;
  outcome: 'linked' | 'autodeployed' | 'unprocessable';
}

/** A create's input, checked and resolved before its transaction. */
interface CreateRequest {
  orgId: number;
  input: SessionModel;
  users: SessionUser[];
  position: Position | null;
  selectors: SessionRecord['selectors'];
  requiredTags: string[];
  constraints: LocationConstraint[];
  versionName: string | undefined;
}

/** Where a create's seats are, before its session row is written (when the statement has not). */
interface Placement {
  version: VersionRecord;
  deployment: DeploymentRecord | null;
  /** Written already, with its seats, by the placement statement. */
  session?: SessionRecord;
  outcome: CreatedSession['outcome'];
  error: string | null;
}

/**
 * How many more times the placement statement runs, waiting for locks, while it finds a place
 * with room but every row it waited for was filled by the transactions it waited on. Each pass
 * means others took seats; the bound keeps a create from chasing a churning fleet forever.
 */
const MAX_WAITING_PASSES = 10;

function checkCreate(deps: AppDeps, orgId: number, input: SessionModel): Result<CreateRequest> {
  const users = usersOf(input);
  if (!users.ok) return users;
  const constraints = locationConstraintsOf(input);
  if (!constraints.ok) return constraints;
  if (input.webhook_url !== undefined) {
    const checked = checkWebhookUrl(input.webhook_url, deps.webhookDenyList);
    if (!checked.ok) return checked;
  }
  return ok({
    orgId,
    input,
    users: users.value,
    position: playersPosition(deps, input),
    constraints: constraints.value,
    requiredTags: requiredTagsOf(input),
    selectors: (input.selectors ?? []).map((s) => ({
      tag: s.tag,
      tag_only: s.tag_only ?? false,
      ...(s.env ? { env: s.env } : {}),
    })),
    versionName: input.version_name || undefined,
  });
}

export async function createSession(
  deps: AppDeps,
  orgId: number,
  input: SessionModel,
): Promise<Result<CreatedSession>> {
  const request = checkCreate(deps, orgId, input);
  if (!request.ok) return request;
  const startedAt = performance.now();
  const transaction = deps.createBatcher ? deps.createBatcher.run : deps.db.transaction.bind(deps.db);
  const result = await transaction((tx) => createSessionIn(deps, tx, request.value));
  if (result.ok)
    deps.observer?.observePlacement(result.value.outcome, (performance.now() - startedAt) / 1000, request.value.orgId);
  return result;
}

async function sessionVersionIn(tx: Tx, request: CreateRequest): Promise<Result<VersionRecord>> {
  const found = await selectAppSessionVersion(tx, request.orgId, request.input.app_name, request.versionName);
  return sessionVersion(found, request.input.app_name, request.versionName);
}

/** The create's transaction body. It may run again from the start (transaction-batcher.ts), so it keeps nothing outside. */
async function createSessionIn(deps: AppDeps, tx: Tx, request: CreateRequest): Promise<Result<CreatedSession>> {
  if (request.users.length === 0) {
    // Checked after the version, so an unknown app or version is reported as such first.
    const version = await sessionVersionIn(tx, request);
    return version.ok ? fail('VALIDATION_FAILED', 'ip_list must name at least one player.') : version;
  }
  const placed =
    request.input.deployment_request_id === undefined
      ? await placeOnBestDeployment(deps, tx, request)
      : await placeOnNamedDeployment(tx, request, request.input.deployment_request_id);
  if (!placed.ok) return placed;
  const { version, deployment, outcome, error } = placed.value;
  const seats = seatsFor(version.sessionKind, request.users.length);
  const session =
    placed.value.session ??
    (await insertSession(tx, {
      ...sessionFields(deps, request),
      orgId: request.orgId,
      appId: version.appId,
      versionId: version.id,
      kind: version.sessionKind,
      status: deployment ? sessionStatusForDeployment(deployment.status) : SessionStatus.unprocessable,
      deploymentId: deployment?.id ?? null,
      seats: deployment ? seats : 0,
      error,
    }));
  await emitSession(deps, tx, 'created', session, deployment);
  if (deployment) {
    await emitSession(deps, tx, 'linked', session, deployment);
    if (session.status === SessionStatus.ready) await emitSession(deps, tx, 'ready', session, deployment);
    if (seats > 0) await emitDeployment(deps, tx, 'usage_changed', deployment);
  } else {
    await emitSession(deps, tx, 'unprocessable', session, null);
  }
  return ok({ session, deployment, outcome });
}

function sessionFields(deps: AppDeps, request: CreateRequest): PlacedSessionFields {
  return {
    sessionId: newSessionId(),
    users: request.users,
    selectors: request.selectors,
    placement: placementOf(request.input),
    customId: request.input.custom_id ?? null,
    webhookUrl: request.input.webhook_url ?? null,
    now: deps.clock.now(),
  };
}

/**
 * The usual create: one statement finds the version, takes seats at its best deployment and
 * writes the session. Its first pass skips rows other transactions hold, which spreads concurrent
 * creates; before concluding that nothing has room, it runs again waiting for those rows.
 */
async function placeOnBestDeployment(deps: AppDeps, tx: Tx, request: CreateRequest): Promise<Result<Placement>> {
  const statement: SessionPlacementRequest = {
    orgId: request.orgId,
    appName: request.input.app_name,
    versionName: request.versionName,
    seatsByKind: seatsByKind(request.users.length),
    statusByDeploymentStatus: SESSION_STATUS_BY_DEPLOYMENT_STATUS,
    requiredTags: request.requiredTags,
    constraints: request.constraints,
    position: request.position,
    skipLocked: true,
    session: sessionFields(deps, request),
  };
  let placed = await insertSessionOnBestDeployment(tx, statement);
  const version = sessionVersion(placed.appVersion, request.input.app_name, request.versionName);
  if (!version.ok) return version;
  for (let pass = 1; !placed.session && placed.roomSeen && pass <= MAX_WAITING_PASSES; pass += 1) {
    placed = await insertSessionOnBestDeployment(tx, { ...statement, skipLocked: false });
  }
  if (placed.session && placed.deployment) {
    return ok({
      version: version.value,
      deployment: placed.deployment,
      session: placed.session,
      outcome: 'linked',
      error: null,
    });
  }
  return autodeployOrRefuse(deps, tx, request, version.value);
}

async function placeOnNamedDeployment(tx: Tx, request: CreateRequest, requestId: string): Promise<Result<Placement>> {
  const version = await sessionVersionIn(tx, request);
  if (!version.ok) return version;
  const seats = seatsFor(version.value.sessionKind, request.users.length);
  const named = await reserveOnNamedDeployment(tx, request.orgId, version.value, requestId, seats);
  if (!named.ok) return named;
  return ok({ version: version.value, deployment: named.value, outcome: 'linked', error: null });
}

/** No deployment has room: start one when the version allows it, else the session is Unprocessable. */
async function autodeployOrRefuse(
  deps: AppDeps,
  tx: Tx,
  request: CreateRequest,
  version: VersionRecord,
): Promise<Result<Placement>> {
  if (!version.autodeploy) {
    const error =
      'No deployment of this version can take this session (capacity, tags or location) and autodeploy is off.';
    return ok({ version, deployment: null, outcome: 'unprocessable', error });
  }
  const env = request.selectors.flatMap((s) => Object.entries(s.env ?? {}).map(([key, value]) => ({ key, value })));
  const started = await startDeploymentIn(deps, tx, {
    orgId: request.orgId,
    version,
    position: request.position,
    constraints: request.constraints,
    seats: seatsFor(version.sessionKind, request.users.length),
    tags: allSelectorTags(request.input),
    env,
    userCount: request.users.length,
    webhookUrl: null,
  });
  if (!started.ok) {
    return ok({
      version,
      deployment: null,
      outcome: 'unprocessable',
      error: `No deployment can take this session and autodeploy failed: ${started.error.message}`,
    });
  }
  return ok({ version, deployment: started.value, outcome: 'autodeployed', error: null });
}

export interface SessionView {
  session: SessionShown;
  deployment: DeploymentShown | null;
}

export async function getSession(deps: AppDeps, orgId: number, sessionId: string): Promise<Result<SessionView>> {
  const found = await selectSessionShown(deps.db, orgId, sessionId);
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
  const released =
    locked.deploymentId !== null ? await releaseSeats(tx, locked.deploymentId, locked.seats, now) : undefined;
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
  const sessionIds = await selectSessionIdsMatching(deps.db, {
    orgId,
    filters: filters.map((f) => ({ field: f.field, type: f.filter_type, values: f.values })),
  });
  const stopped: string[] = [];
  // One short transaction per session keeps locks brief; a session deleted meanwhile is skipped.
  for (const sessionId of sessionIds) {
    const result = await deps.db.transaction(async (tx) => {
      const session = await selectSession(tx, orgId, sessionId);
      return session && !session.deletedAt
        ? deleteSessionIn(deps, tx, session)
        : fail<SessionRecord>('SESSION_NOT_FOUND', 'gone');
    });
    if (result.ok) stopped.push(result.value.sessionId);
  }
  return ok(stopped);
}
