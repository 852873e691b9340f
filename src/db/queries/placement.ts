/**
 * Placement statements: find the places of a version with room for a session and take seats at
 * the best one. Cost follows the number of distinct places, not the number of deployments.
 */
import type { Queryable } from '../db.js';
import type { DeploymentRecord } from '../../domain/records.js';
import { compareCandidates, type CandidateView, type LocationConstraint, type LocationField, type Position } from '../../domain/placement.js';
import { DeploymentStatus } from '../../domain/session-rules.js';
import { PREFIXED_COLUMNS, toPrefixedDeployment } from './deployment-rows.js';
import { appVersionSql, readAppVersion, type AppVersion, type VersionRowWithApp } from './versions.js';

const CONSTRAINT_COLUMN: Record<LocationField, string> = {
  city: 'city', country: 'country', continent: 'continent', administrative_division: 'administrative_division', region: 'region',
};

export interface SeatRequest {
  versionId: number;
  seats: number;
  requiredTags: string[];
  constraints: LocationConstraint[];
  position: Position | null;
  /** Skip rows another transaction holds; callers retry without it before concluding "full". */
  skipLocked: boolean;
}

// These fragments repeat the predicate and expressions of the index of migration 004 word for
// word: the planner only uses a partial or expression index when the query says the same thing.
/** Deployments of the version (an SQL expression) that placement considers. */
const placementScope = (versionId: string) =>
  `version_id = ${versionId} AND is_joinable AND status IN ('Status.READY', 'Status.DEPLOYING', 'Status.INITIALIZING')`;
const PLACEMENT_SCOPE = placementScope('$1');
const IS_READY = `(status = 'Status.READY')`;
const FREE_SEATS = `(sockets - sockets_usage)`;
/** A place: readiness, coordinates (NULL indexed as NaN) and names. Constraints read only names. */
const PLACE_KEY = [
  ['ready', IS_READY], ['lat', `(coalesce(latitude, 'NaN'::float8))`], ['lon', `(coalesce(longitude, 'NaN'::float8))`],
  ['city', 'city'], ['country', 'country'], ['continent', 'continent'], ['administrative_division', 'administrative_division'], ['region', 'region'],
] as const;
const PLACE_COLUMNS = PLACE_KEY.map(([name, expression]) => `${expression} AS ${name}`).join(', ');
const PLACE_LIST = PLACE_KEY.map(([, expression]) => expression).join(', ');
const PLACE_TUPLE = `(${PLACE_LIST})`;

/** Location constraints on the columns of `alias`; pushes their parameters. */
function constraintsSql(request: Pick<SeatRequest, 'constraints'>, params: unknown[], alias: string): string[] {
  return request.constraints.map((constraint) => {
    params.push(constraint.values);
    const column = `lower(${alias}.${CONSTRAINT_COLUMN[constraint.field]})`;
    const p = `$${params.length}::text[]`;
    return constraint.type === 'any' ? `${column} = ANY(${p})` : constraint.type === 'all' ? `${column} = ALL(${p})` : `NOT (${column} = ANY(${p}))`;
  });
}

/** One place with room for the request, and its best deployment when it was read. */
export interface PlacementPlace {
  key: { ready: boolean; lat: number | null; lon: number | null; city: string; country: string; continent: string; administrative_division: string; region: string };
  bestId: number;
  bestFreeSeats: number;
}

/** What the places statement reads, as SQL expressions: the version id, the seats, the tags. */
interface PlacesInputs { versionId: string; seats: string; tags: string }

type PlaceRow = PlacementPlace['key'] & { best_id: number; best_free: number };

/**
 * The CTE `places` and the SELECT over it, for selectPlacementPlaces and selectVersionWithPlaces.
 * Walks the distinct places with a loose index scan, one index seek per place and one per
 * qualifying place, so its cost follows the number of places, not of deployments. Location
 * constraints read only place columns, so they filter places, not rows.
 */
function placesSql(inputs: PlacesInputs, constraints: string[]): { cte: string; select: string } {
  const scope = placementScope(inputs.versionId);
  const keyNames = PLACE_KEY.map(([name]) => name);
  return {
    cte: `places AS (
       (SELECT ${PLACE_COLUMNS} FROM deployments WHERE ${scope} ORDER BY ${PLACE_LIST} LIMIT 1)
       UNION ALL
       SELECT next.* FROM places p CROSS JOIN LATERAL (
         SELECT ${PLACE_COLUMNS} FROM deployments
         WHERE ${scope} AND ${PLACE_TUPLE} > (${keyNames.map((n) => `p.${n}`).join(', ')})
         ORDER BY ${PLACE_LIST} LIMIT 1) next
     )`,
    select: `SELECT p.ready, CASE WHEN p.lat = 'NaN' THEN NULL ELSE p.lat END AS lat, CASE WHEN p.lon = 'NaN' THEN NULL ELSE p.lon END AS lon,
       p.city, p.country, p.continent, p.administrative_division, p.region, best.id AS best_id, best.free AS best_free
     FROM places p
     -- A LATERAL with LIMIT: a plain join or EXISTS may become a hash join over every row.
     CROSS JOIN LATERAL (
       SELECT id, ${FREE_SEATS} AS free FROM deployments
       WHERE ${scope} AND ${PLACE_TUPLE} = (${keyNames.map((n) => `p.${n}`).join(', ')})
         AND ${FREE_SEATS} >= ${inputs.seats} AND tags @> ${inputs.tags}
       ORDER BY ${FREE_SEATS}, id LIMIT 1) best
     ${constraints.length > 0 ? `WHERE ${constraints.join(' AND ')}` : ''}`,
  };
}

/** The place of a row that may carry other columns too (the version's, in selectVersionWithPlaces). */
function toPlace(row: PlaceRow): PlacementPlace {
  const key = {
    ready: row.ready, lat: row.lat, lon: row.lon, city: row.city, country: row.country, continent: row.continent,
    administrative_division: row.administrative_division, region: row.region,
  };
  return { key, bestId: row.best_id, bestFreeSeats: row.best_free };
}

/**
 * The places of the version where a qualifying deployment has room, each with its fullest such
 * deployment (oldest among equals).
 */
export async function selectPlacementPlaces(db: Queryable, request: SeatRequest): Promise<PlacementPlace[]> {
  const params: unknown[] = [request.versionId, request.seats, request.requiredTags];
  const places = placesSql({ versionId: '$1', seats: '$2', tags: '$3::text[]' }, constraintsSql(request, params, 'p'));
  const { rows } = await db.query<PlaceRow>(`WITH RECURSIVE ${places.cte} ${places.select}`, params);
  return rows.map(toPlace);
}

export interface VersionPlacesRequest {
  orgId: number;
  appName: string;
  /** Undefined: the app's newest active version. */
  versionName: string | undefined;
  /** Seats a session takes for each session kind (the domain's rule as a table). */
  seatsByKind: Record<string, number>;
  requiredTags: string[];
  constraints: LocationConstraint[];
}

/**
 * What a session create reads, in one round trip: the app and version (selectAppVersion) and,
 * when the version exists, its places with room for the seats its kind takes.
 */
export async function selectVersionWithPlaces(db: Queryable, request: VersionPlacesRequest): Promise<(AppVersion & { places: PlacementPlace[] }) | undefined> {
  const params: unknown[] = [request.orgId, request.appName, request.versionName ?? null, JSON.stringify(request.seatsByKind), request.requiredTags];
  const places = placesSql(
    { versionId: '(SELECT id FROM av)', seats: '(SELECT (($4::jsonb) ->> session_kind)::int FROM av)', tags: '$5::text[]' },
    constraintsSql({ constraints: request.constraints }, params, 'p'),
  );
  const { rows } = await db.query<VersionRowWithApp & Partial<PlaceRow>>(
    `WITH RECURSIVE av AS (${appVersionSql('$1', '$2', '$3', true)}), ${places.cte}, found AS (${places.select})
     SELECT av.*, found.* FROM av LEFT JOIN found ON av.id IS NOT NULL`,
    params,
  );
  const first = rows[0];
  if (!first) return undefined;
  return {
    ...readAppVersion(first),
    places: rows.filter((row) => row.best_id !== null && row.best_id !== undefined).map((row) => toPlace(row as PlaceRow)),
  };
}

/**
 * A row to write in the same statement that takes the seats, from the deployment row it leaves
 * (the CTE `from`, with PREFIXED_COLUMNS): the new session, in one round trip with its seats.
 */
export interface LinkedWrite<T> {
  sql(params: unknown[], from: string): string;
  read(row: Record<string, unknown>): T;
}

export interface Reservation<T> {
  deployment: DeploymentRecord;
  /** What the LinkedWrite wrote, when one was given. */
  linked: T | undefined;
}

/**
 * Takes `seats` on the fullest qualifying deployment at one place (oldest among equals), or
 * returns undefined. FOR UPDATE re-checks room on the newest row version after locking and moves
 * on to the next row when it no longer qualifies, so two transactions can never both take the
 * last seats; the table's CHECK backs this up.
 */
export async function reserveSeatsAtPlace<T>(
  db: Queryable,
  request: SeatRequest,
  place: PlacementPlace['key'],
  linked?: LinkedWrite<T>,
): Promise<Reservation<T> | undefined> {
  const params: unknown[] = [request.versionId, request.seats, request.requiredTags];
  const key = PLACE_KEY.map(([name, expression]) => {
    params.push(place[name]);
    const p = `$${params.length}`;
    return name === 'lat' || name === 'lon' ? `${expression} = coalesce(${p}::float8, 'NaN')` : `${expression} = ${p}${name === 'ready' ? '::boolean' : '::text'}`;
  });
  const { rows } = await db.query<Record<string, unknown>>(
    `WITH pick AS (
       SELECT id FROM deployments
       WHERE ${PLACEMENT_SCOPE} AND ${key.join(' AND ')} AND ${FREE_SEATS} >= $2 AND tags @> $3::text[]
       ORDER BY ${FREE_SEATS} ASC, id ASC
       LIMIT 1 FOR UPDATE ${request.skipLocked ? 'SKIP LOCKED' : ''}
     ),
     taken AS (
       UPDATE deployments d SET sockets_usage = d.sockets_usage + $2, emptied_at = CASE WHEN $2 > 0 THEN NULL ELSE d.emptied_at END
       FROM pick WHERE d.id = pick.id
       RETURNING ${PREFIXED_COLUMNS}
     )
     ${linked ? `, linked AS (${linked.sql(params, 'taken')}) SELECT * FROM taken CROSS JOIN linked` : 'SELECT * FROM taken'}`,
    params,
  );
  const row = rows[0];
  if (!row) return undefined;
  return { deployment: toPrefixedDeployment(row)!, linked: linked ? linked.read(row) : undefined };
}

/**
 * Takes `seats` on the best qualifying deployment (docs/wire-contract.md#placement-order): ready
 * before deploying, then nearest to the players, then fullest, then oldest; or returns undefined. Places are ranked by
 * the domain's own comparison applied to each place's best deployment, so the first place's best
 * is the best overall; when a concurrent transaction took it meanwhile, the next deployment there
 * or the next place follows. Distances are computed here, not in SQL: PostgreSQL raises an
 * underflow error on trigonometry of tiny coordinate differences, which a client can send.
 */
export async function reserveSeatsOnBestDeployment<T>(
  db: Queryable,
  request: SeatRequest,
  linked?: LinkedWrite<T>,
  /** The places when the caller has just read them (selectVersionWithPlaces). */
  known?: PlacementPlace[],
): Promise<Reservation<T> | undefined> {
  const places = known ? [...known] : await selectPlacementPlaces(db, request);
  const asCandidate = (place: PlacementPlace): CandidateView => ({
    id: place.bestId, status: place.key.ready ? DeploymentStatus.ready : DeploymentStatus.deploying, isJoinable: true,
    sockets: place.bestFreeSeats, socketsUsage: 0, tags: [],
    place: { ...place.key, latitude: place.key.lat, longitude: place.key.lon },
  });
  places.sort((a, b) => compareCandidates(asCandidate(a), asCandidate(b), request.position));
  for (const place of places) {
    const reserved = await reserveSeatsAtPlace(db, request, place.key, linked);
    if (reserved) return reserved;
  }
  return undefined;
}
