/**
 * The session-create statement: find the version, walk its places nearest first to the first
 * with room, take seats at the best one and write the session, in one round trip. It reads one
 * small row per place of the version, or for a version with many places usually only those near
 * the players' latitude (the band walk), and seeks deployments only at the places it visits; the
 * number of deployments does not count.
 */
import type { Queryable } from '../db.js';
import type { DeploymentRecord, SessionRecord } from '../../domain/records.js';
import type { LocationConstraint, LocationField, Position } from '../../domain/placement.js';
import type { SessionUser } from '../../domain/session-rules.js';
import { COLUMNS as DEPLOYMENT_COLUMNS, deploymentFromJson, type DeploymentRow } from './deployment-rows.js';
import { COLUMNS as SESSION_COLUMNS, sessionFromJson, type SessionRow } from './sessions.js';
import type { Json } from './json-rows.js';
import { appVersionFromJson, appVersionSql, type AppVersion, type VersionRowWithApp } from './versions.js';

const CONSTRAINT_COLUMN: Record<LocationField, string> = {
  city: 'city',
  country: 'country',
  continent: 'continent',
  administrative_division: 'administrative_division',
  region: 'region',
};

// These fragments repeat the predicate and expressions of the index of migration 004 word for
// word: the planner only uses a partial or expression index when the query says the same thing.
const SCOPE = `version_id = (SELECT version_id FROM wanted) AND is_joinable AND status IN ('Status.READY', 'Status.DEPLOYING', 'Status.INITIALIZING')`;
const FREE_SEATS = `(sockets - sockets_usage)`;
/**
 * A place: readiness, coordinates (NULL indexed as NaN) and names, as the index of migration 004
 * and the rows of version_places (migration 012) key it. Constraints read only names.
 */
const PLACE_KEY = [
  ['ready', `(status = 'Status.READY')`],
  ['lat', `(coalesce(latitude, 'NaN'::float8))`],
  ['lon', `(coalesce(longitude, 'NaN'::float8))`],
  ['city', 'city'],
  ['country', 'country'],
  ['continent', 'continent'],
  ['administrative_division', 'administrative_division'],
  ['region', 'region'],
] as const;
const PLACE_LIST = PLACE_KEY.map(([, expression]) => expression).join(', ');
const placeOf = (alias: string) => `(${PLACE_KEY.map(([name]) => `${alias}.${name}`).join(', ')})`;

/** The session the statement writes when it takes seats; the version decides its kind and seats. */
export interface PlacedSessionFields {
  sessionId: string;
  users: SessionUser[];
  selectors: SessionRecord['selectors'];
  placement: Record<string, unknown>;
  customId: string | null;
  webhookUrl: string | null;
  now: Date;
}

export interface SessionPlacementRequest {
  orgId: number;
  appName: string;
  /** Undefined: the app's newest active version. */
  versionName: string | undefined;
  /** Seats a session takes for each session kind (the domain's seatsFor, as a table). */
  seatsByKind: Record<string, number>;
  /** The session's status for each deployment status (the domain's rule, as a table). */
  statusByDeploymentStatus: Record<string, string>;
  requiredTags: string[];
  constraints: LocationConstraint[];
  position: Position | null;
  /** Skip rows another transaction holds; callers retry without it before concluding "full". */
  skipLocked: boolean;
  session: PlacedSessionFields;
}

export interface PlacedSession {
  /** Undefined when the organisation has no such app. */
  appVersion: AppVersion | undefined;
  /** Whether a qualifying deployment had room when the statement began. */
  roomSeen: boolean;
  /** Both set when seats were taken. */
  deployment: DeploymentRecord | undefined;
  session: SessionRecord | undefined;
  /** How the statement looked for the first place with room (Walk): the version's hint unless the caller chose. */
  walk: Walk;
}

/** Fixed parameters of the statement; location constraints follow from $15. */
const P = {
  orgId: '$1',
  appName: '$2',
  versionName: '$3',
  seatsByKind: '$4::jsonb',
  tags: '$5::text[]',
  lat: '$6::float8',
  lon: '$7::float8',
  sessionId: '$8::text',
  users: '$9::jsonb',
  selectors: '$10::jsonb',
  placement: '$11::jsonb',
  customId: '$12::text',
  webhookUrl: '$13::text',
  now: '$14::timestamptz',
  statusByDeploymentStatus: '$15::jsonb',
} as const;
const FIRST_CONSTRAINT_PARAM = 16;

function constraintSql(constraint: LocationConstraint, param: number): string {
  const column = `lower(p.${CONSTRAINT_COLUMN[constraint.field]})`;
  const p = `$${param}::text[]`;
  return constraint.type === 'any'
    ? `${column} = ANY(${p})`
    : constraint.type === 'all'
      ? `${column} = ALL(${p})`
      : `NOT (${column} = ANY(${p}))`;
}

/**
 * Coordinates and their differences under 1e-100 degrees read as 0: PostgreSQL raises an underflow
 * error where a product or quotient of tiny numbers rounds to zero, and a client can send such
 * coordinates. Below that, distances differ from the domain's by less than 1e-90 km.
 */
const tiny = (degrees: string) => `(CASE WHEN abs(${degrees}) < 1e-100 THEN 0 ELSE ${degrees} END)`;
const radians = (degrees: string) => `(${degrees} * pi() / 180)`;

/** distanceKm (domain/placement.ts) in SQL, from the players' position to place `p`; NULL when either is unknown. */
function distanceSql(): string {
  const [fromLat, fromLon] = [tiny(P.lat), tiny(P.lon)];
  const lat = tiny(`CASE WHEN p.lat = 'NaN' THEN NULL ELSE p.lat END`);
  const lon = tiny(`CASE WHEN p.lon = 'NaN' THEN NULL ELSE p.lon END`);
  const sinLat = `sin(${radians(tiny(`${lat} - ${fromLat}`))} / 2)`;
  const sinLon = `sin(${radians(tiny(`${lon} - ${fromLon}`))} / 2)`;
  const h = `${sinLat} * ${sinLat} + cos(${radians(fromLat)}) * cos(${radians(lat)}) * ${sinLon} * ${sinLon}`;
  return `2 * 6371 * asin(least(1, sqrt(${h})))`;
}

/**
 * Largest difference of two dot products (cosines of angles to the players) that may still hide
 * equal great-circle distances: places this close to the first place with room are compared by
 * distanceSql itself. Float error in either figure is below 1e-14; the window only adds places.
 */
const SAME_DISTANCE = '1e-9';

/**
 * How the create finds the first place with room: `all` reads every place of the version; `band`
 * first reads only the places near the players' latitude, and every place when that cannot
 * settle it (placeSessionSql). Both choose the same deployment. `band` costs more when it falls
 * back, and its longer statement costs PostgreSQL more to start, so it pays only for versions
 * with many places (measured in the README's Benchmarks).
 */
export type Walk = 'all' | 'band';

/**
 * Places a full walk must have read for this version's next create to try the band first. On a
 * fleet spread evenly over the inhabited latitudes, with players anywhere, the band walk cost
 * PostgreSQL ×1.04 what the full one did at 60 places and ×0.97 at 120; ×1.27 at 10, ×0.77 at
 * 300 (`BENCH_WALK=compare BENCH_ROUNDS=500 node dist/bench/places.js 10 30 60 120 200 300`, README).
 */
const MANY_PLACES = 100;
/**
 * Places the last full walk read, by organisation, app and version name as the request names
 * them: a hint for the next create's walk. A stale or missing hint costs time, never a
 * different choice. Capped as the key cache is: cleared when full.
 */
const placesReadByVersion = new Map<string, number>();
const MAX_VERSIONS_REMEMBERED = 10_000;
const versionKey = (r: SessionPlacementRequest) => `${r.orgId}\0${r.appName}\0${r.versionName ?? ''}`;

/** The band needs the players' position: without one it could only fall back. */
function walkFor(request: SessionPlacementRequest): Walk {
  if (request.position === null) return 'all';
  return (placesReadByVersion.get(versionKey(request)) ?? 0) >= MANY_PLACES ? 'band' : 'all';
}

function rememberPlacesRead(request: SessionPlacementRequest, count: number): void {
  if (placesReadByVersion.size >= MAX_VERSIONS_REMEMBERED) placesReadByVersion.clear();
  placesReadByVersion.set(versionKey(request), count);
}

/**
 * Latitudes either side of the players' that the first walk reads: half the width of the band.
 * Two points on the sphere are at least as far apart as their latitudes, so a place outside the
 * band is more than this many degrees away. Ten degrees (about 1,100 km) holds a fifth of a
 * fleet spread evenly over the inhabited latitudes, and the nearest of a few hundred places is
 * usually well inside it.
 */
const BAND_DEGREES = 10;
/**
 * The band's answer stands when its place is nearer than any place outside the band could be:
 * its dot product with the players' vector is above the cosine of the band's half-width, with
 * room for the tie window twice over (a place outside the band can be neither nearer nor tied).
 */
const BAND_PROOF = `(cos(${radians(String(BAND_DEGREES))}) + 2 * ${SAME_DISTANCE})`;

/**
 * The statement. `wanted` is the version only when it takes sessions (the conditions of the use
 * case's sessionVersion), so nothing is reserved for a version that will be refused. A place is a
 * row of version_places (migration 012) within the location constraints, with `near`, its dot
 * product with the players' unit vector (NULL when either position is unknown).
 *
 * `first` is the place of the first deployment in placement order: ready places first, then
 * nearest first, stopping at the first place where a qualifying deployment has room. `places`
 * holds every place, and the `all` walk goes over them in that order. The `band` walk tries a
 * shorter one first and reads every place only when it cannot conclude:
 * - `band_first` walks the ready places whose latitude is within BAND_DEGREES of the players'
 *   (a range of the table's key). Its answer stands when BAND_PROOF holds: no place outside the
 *   band can come before it or tie with it.
 * - otherwise (no room in the band, players' position unknown, or the nearest place with room
 *   too far), the walk over `places` runs as in `all`.
 * `tier` is `first` and any place at the same distance (ties, and every place when distance is
 * unknown), drawn from the set the answer came from: they are ranked as the domain's
 * compareCandidates ranks deployments (ready, nearest, fullest, oldest), so the best place's best
 * deployment is the best overall. `pick` takes the fullest row with room there; FOR UPDATE
 * re-checks room on the newest row version after locking and moves on to the next row when it no
 * longer qualifies, so two transactions never both take the last seats (the table's CHECK backs
 * this up). The gates on `band_first` and `first` are uncorrelated subqueries: PostgreSQL runs
 * them once, and a branch they close is never run, so `places` is not read when the band answers.
 * `places_read` is how many places the walk over `places` read (NULL when the band answered).
 */
function placeSessionSql(constraints: readonly LocationConstraint[], skipLocked: boolean, walk: Walk): string {
  const where = constraints.map((c, i) => `AND ${constraintSql(c, FIRST_CONSTRAINT_PARAM + i)}`).join(' ');
  // A LATERAL with LIMIT: a plain join or EXISTS may become a hash join over every row.
  const bestAt = (place: string) => `LATERAL (
         SELECT id, ${FREE_SEATS} AS free FROM deployments
         WHERE ${SCOPE} AND (${PLACE_LIST}) = ${placeOf(place)} AND ${FREE_SEATS} >= (SELECT seats FROM wanted) AND tags @> ${P.tags}
         ORDER BY ${FREE_SEATS}, id LIMIT 1)`;
  const [lat, lon] = [radians(tiny(P.lat)), radians(tiny(P.lon))];
  const placesWhere = (condition: string) => `
       SELECT p.version_id, ${PLACE_KEY.map(([name]) => `p.${name}`).join(', ')},
         CASE WHEN p.lat = 'NaN' OR p.lon = 'NaN' THEN NULL ELSE p.x * w.px + p.y * w.py + p.z * w.pz END AS near
       FROM version_places p JOIN wanted w ON p.version_id = w.version_id
       WHERE ${condition} ${where}`;
  const bandAnswers = `EXISTS (SELECT FROM band_first WHERE near > ${BAND_PROOF})`;
  const walkAll = (gate: string) => `
       SELECT o.ready, o.near, false AS in_band FROM (SELECT * FROM places ORDER BY ready DESC, near DESC NULLS LAST OFFSET 0) o
       CROSS JOIN ${bestAt('o')} room
       ${gate} ORDER BY o.ready DESC, o.near DESC NULLS LAST LIMIT 1`;
  const firstSql =
    walk === 'all'
      ? `places AS MATERIALIZED (${placesWhere('true')}),
     first AS (${walkAll('')})`
      : `band AS MATERIALIZED (${placesWhere(`p.ready AND p.lat BETWEEN ${P.lat} - ${BAND_DEGREES} AND ${P.lat} + ${BAND_DEGREES}`)}),
     band_first AS (
       SELECT o.near FROM (SELECT * FROM band ORDER BY near DESC NULLS LAST OFFSET 0) o
       CROSS JOIN ${bestAt('o')} room
       ORDER BY o.near DESC NULLS LAST LIMIT 1),
     places AS MATERIALIZED (${placesWhere('true')}),
     first AS (
       SELECT true AS ready, near, true AS in_band FROM band_first WHERE near > ${BAND_PROOF}
       UNION ALL (${walkAll(`WHERE NOT ${bandAnswers}`)}))`;
  const tierPlaces =
    walk === 'all'
      ? 'places'
      : '(SELECT * FROM band WHERE (SELECT in_band FROM first) UNION ALL SELECT * FROM places WHERE NOT (SELECT in_band FROM first))';
  const placesRead =
    walk === 'all'
      ? '(SELECT count(*) FROM places)'
      : 'CASE WHEN (SELECT in_band FROM first) THEN NULL ELSE (SELECT count(*) FROM places) END';
  return `WITH av AS (${appVersionSql(P.orgId, P.appName, P.versionName, true)}),
     wanted AS (
       SELECT id AS version_id, org_id, app_id, session_kind, ((${P.seatsByKind}) ->> session_kind)::int AS seats,
         cos(${lat}) * cos(${lon}) AS px, cos(${lat}) * sin(${lon}) AS py, sin(${lat}) AS pz
       FROM av WHERE app_is_active AND is_active AND session_kind <> 'Default'),
     ${firstSql},
     tier AS (
       SELECT p.*, best.id AS best_id, best.free AS best_free, ${distanceSql()} AS km
       FROM ${tierPlaces} p
       JOIN first f ON p.ready = f.ready AND (p.near IS NULL AND f.near IS NULL OR abs(p.near - f.near) <= ${SAME_DISTANCE})
       CROSS JOIN ${bestAt('p')} best),
     best_place AS (SELECT * FROM tier ORDER BY km ASC NULLS LAST, best_free, best_id LIMIT 1),
     pick AS (
       SELECT id FROM deployments
       WHERE ${SCOPE} AND (${PLACE_LIST}) = (SELECT ${PLACE_KEY.map(([name]) => name).join(', ')} FROM best_place)
         AND ${FREE_SEATS} >= (SELECT seats FROM wanted) AND tags @> ${P.tags}
       ORDER BY ${FREE_SEATS}, id LIMIT 1 FOR UPDATE ${skipLocked ? 'SKIP LOCKED' : ''}),
     taken AS (
       UPDATE deployments d SET sockets_usage = d.sockets_usage + w.seats, emptied_at = CASE WHEN w.seats > 0 THEN NULL ELSE d.emptied_at END
       FROM pick, wanted w WHERE d.id = pick.id
       RETURNING ${DEPLOYMENT_COLUMNS}),
     linked AS (
       INSERT INTO sessions AS s (session_id, org_id, app_id, version_id, kind, status, deployment_id, seats, users, user_count,
         selectors, placement, custom_id, webhook_url, error, created_at)
       SELECT ${P.sessionId}, w.org_id, w.app_id, w.version_id, w.session_kind, (${P.statusByDeploymentStatus}) ->> t.status, t.id, w.seats,
         ${P.users}, jsonb_array_length(${P.users}), ${P.selectors}, ${P.placement}, ${P.customId}, ${P.webhookUrl}, NULL, ${P.now}
       FROM taken t, wanted w
       RETURNING ${SESSION_COLUMNS})
   SELECT json_build_object('app_version', to_json(av), 'room_seen', EXISTS (SELECT FROM first),
       'deployment', to_json(taken), 'session', to_json(linked), 'places_read', ${placesRead}) AS placed
   FROM av LEFT JOIN taken ON true LEFT JOIN linked ON true`;
}

/**
 * The statement's text for each shape of request (which walk, which constraints, whether it skips locked
 * rows), built once: the same string each time also spares the pg adapter hashing a new copy of
 * several kilobytes to find the statement's prepared name. Clients choose the constraints, so
 * the shapes kept are capped, as the adapter caps its prepared statements.
 */
const statements = new Map<string, string>();
const MAX_SHAPES = 200;

function placeSessionStatement(constraints: readonly LocationConstraint[], skipLocked: boolean, walk: Walk): string {
  const shape = `${walk}:${skipLocked}:${constraints.map((c) => `${c.field}.${c.type}`).join(',')}`;
  let sql = statements.get(shape);
  if (sql !== undefined) return sql;
  sql = placeSessionSql(constraints, skipLocked, walk);
  if (statements.size < MAX_SHAPES) statements.set(shape, sql);
  return sql;
}

/**
 * What a session create writes when it lands on an existing deployment, in one round trip: the
 * app and version (as selectAppVersion reads them), and when the version takes sessions, seats at
 * its best qualifying deployment (docs/wire-contract.md#placement-order) and the session row linked to it. Nothing is
 * written when no deployment has room or, with `skipLocked`, every row at the best place is held
 * by another transaction.
 * @example const placed = await insertSessionOnBestDeployment(tx, { orgId, appName: 'game', versionName: undefined, ... });
 */
export async function insertSessionOnBestDeployment(
  db: Queryable,
  request: SessionPlacementRequest,
  walk: Walk = walkFor(request),
): Promise<PlacedSession> {
  const s = request.session;
  const params = [
    request.orgId,
    request.appName,
    request.versionName ?? null,
    JSON.stringify(request.seatsByKind),
    request.requiredTags,
    request.position?.latitude ?? null,
    request.position?.longitude ?? null,
    s.sessionId,
    JSON.stringify(s.users),
    JSON.stringify(s.selectors),
    JSON.stringify(s.placement),
    s.customId,
    s.webhookUrl,
    s.now,
    JSON.stringify(request.statusByDeploymentStatus),
    ...request.constraints.map((c) => c.values),
  ];
  const statement = placeSessionStatement(request.constraints, request.skipLocked, walk);
  const { rows } = await db.query<PlacementRow>(statement, params);
  const placed = rows[0]?.placed;
  if (!placed) return { appVersion: undefined, roomSeen: false, deployment: undefined, session: undefined, walk };
  const { app_version: appVersion, room_seen: roomSeen, deployment, session, places_read: placesRead } = placed;
  if (placesRead !== null) rememberPlacesRead(request, placesRead);
  return {
    appVersion: appVersionFromJson(appVersion),
    roomSeen,
    deployment: deployment ? deploymentFromJson(deployment) : undefined,
    session: session ? sessionFromJson(session) : undefined,
    walk,
  };
}

/**
 * The statement's row: one JSON column holding the app and version, whether room was seen, and
 * the deployment and session rows (or NULL). One column instead of the version's 16 beside
 * room_seen and two JSON ones spares the driver a parser per column for each create.
 */
interface PlacementRow {
  placed: {
    app_version: Json<VersionRowWithApp>;
    room_seen: boolean;
    deployment: Json<DeploymentRow> | null;
    session: Json<SessionRow> | null;
    places_read: number | null;
  };
}
