/**
 * Placement rules (docs/wire-contract.md#placement): which deployments qualify for a session and in what order.
 * db/queries/deployments.ts runs the same rules in SQL; this pure version states them, checks
 * client input, and serves the property tests.
 */
import { fail, ok, type Result } from './errors.js';
import { equivalentPlaceNames } from './place-names.js';
import { DeploymentStatus, isLiveDeployment } from './session-rules.js';

export const LOCATION_FIELDS = ['city', 'country', 'continent', 'administrative_division', 'region'] as const;
export type LocationField = (typeof LOCATION_FIELDS)[number];
export type FilterType = 'any' | 'all' | 'not';

export interface LocationConstraint {
  field: LocationField;
  type: FilterType;
  /** Lower-cased: place names compare without regard to case. */
  values: string[];
}

export interface Position {
  latitude: number;
  longitude: number;
}

export interface PlacementCriteria {
  seats: number;
  /** Tags of the non-`tag_only` selectors: a deployment must carry every one. */
  requiredTags: string[];
  constraints: LocationConstraint[];
  position: Position | null;
}

export interface PlacementRequest {
  filters?: Array<{ field: string; filter_type: FilterType; values: string[] }> | undefined;
  city?: string | undefined;
  country?: string | undefined;
  continent?: string | undefined;
  administrative_division?: string | undefined;
  region?: string | undefined;
  selectors?: Array<{ tag: string; tag_only?: boolean | undefined }> | undefined;
}

function isLocationField(field: string): field is LocationField {
  return (LOCATION_FIELDS as readonly string[]).includes(field);
}

/**
 * One client filter as constraints on lower-cased names, each value widened to its equivalent
 * spellings ("CA" also matches "Canada"). `all` becomes one `any` per value: a deployment has a
 * single country, so "all of [CA, Canada]" must mean "in the group of CA and in the group of
 * Canada", not "equal to both strings".
 */
function constraintsOfFilter(field: LocationField, type: FilterType, values: readonly string[]): LocationConstraint[] {
  if (type === 'all')
    return values.map((value) => ({ field, type: 'any', values: equivalentPlaceNames(field, value) }));
  return [{ field, type, values: [...new Set(values.flatMap((value) => equivalentPlaceNames(field, value)))] }];
}

/** `filters` plus the plain city/country/... fields, each an `any` filter with one value. */
export function locationConstraintsOf(request: PlacementRequest): Result<LocationConstraint[]> {
  const constraints: LocationConstraint[] = [];
  for (const filter of request.filters ?? []) {
    if (!isLocationField(filter.field)) {
      return fail(
        'VALIDATION_FAILED',
        `Unknown filter field "${filter.field}"; use one of ${LOCATION_FIELDS.join(', ')}.`,
      );
    }
    constraints.push(...constraintsOfFilter(filter.field, filter.filter_type, filter.values));
  }
  for (const field of LOCATION_FIELDS) {
    const value = request[field];
    if (value !== undefined && value.trim() !== '') constraints.push(...constraintsOfFilter(field, 'any', [value]));
  }
  return ok(constraints);
}

export function requiredTagsOf(request: PlacementRequest): string[] {
  return [...new Set((request.selectors ?? []).filter((s) => !s.tag_only).map((s) => s.tag))];
}

export function allSelectorTags(request: PlacementRequest): string[] {
  return [...new Set((request.selectors ?? []).map((s) => s.tag))];
}

export interface CandidateView {
  id: number;
  status: string;
  isJoinable: boolean;
  sockets: number;
  socketsUsage: number;
  tags: readonly string[];
  place: Record<LocationField, string> & { latitude: number | null; longitude: number | null };
}

export function matchesConstraint(value: string, constraint: LocationConstraint): boolean {
  const v = value.trim().toLowerCase();
  if (constraint.type === 'any') return constraint.values.includes(v);
  if (constraint.type === 'all') return constraint.values.every((x) => x === v);
  return !constraint.values.includes(v);
}

export function qualifies(candidate: CandidateView, criteria: PlacementCriteria): boolean {
  return (
    isLiveDeployment(candidate.status) &&
    candidate.isJoinable &&
    candidate.sockets - candidate.socketsUsage >= criteria.seats &&
    criteria.requiredTags.every((tag) => candidate.tags.includes(tag)) &&
    criteria.constraints.every((c) => matchesConstraint(candidate.place[c.field], c))
  );
}

const EARTH_RADIUS_KM = 6371;
const rad = (deg: number) => (deg * Math.PI) / 180;

/** Great-circle distance in kilometres (haversine). */
export function distanceKm(a: Position, b: Position): number {
  const dLat = rad(b.latitude - a.latitude);
  const dLon = rad(b.longitude - a.longitude);
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(rad(a.latitude)) * Math.cos(rad(b.latitude)) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_KM * Math.asin(Math.min(1, Math.sqrt(h)));
}

/** Centre of several points on the sphere (mean of unit vectors); null for none. */
export function centroid(points: readonly Position[]): Position | null {
  if (points.length === 0) return null;
  let x = 0,
    y = 0,
    z = 0;
  for (const p of points) {
    x += Math.cos(rad(p.latitude)) * Math.cos(rad(p.longitude));
    y += Math.cos(rad(p.latitude)) * Math.sin(rad(p.longitude));
    z += Math.sin(rad(p.latitude));
  }
  const n = points.length;
  x /= n;
  y /= n;
  z /= n;
  const deg = (r: number) => (r * 180) / Math.PI;
  return { latitude: deg(Math.atan2(z, Math.hypot(x, y))), longitude: deg(Math.atan2(y, x)) };
}

/**
 * Ranking: ready before deploying, then nearest to the players, then fullest first (fewest free
 * seats, so servers are packed), then oldest for a stable order.
 */
export function compareCandidates(a: CandidateView, b: CandidateView, position: Position | null): number {
  const readyA = a.status === DeploymentStatus.ready ? 0 : 1;
  const readyB = b.status === DeploymentStatus.ready ? 0 : 1;
  if (readyA !== readyB) return readyA - readyB;
  if (position) {
    const da =
      a.place.latitude === null || a.place.longitude === null
        ? Infinity
        : distanceKm(position, { latitude: a.place.latitude, longitude: a.place.longitude });
    const db =
      b.place.latitude === null || b.place.longitude === null
        ? Infinity
        : distanceKm(position, { latitude: b.place.latitude, longitude: b.place.longitude });
    if (da !== db) return da < db ? -1 : 1;
  }
  const freeA = a.sockets - a.socketsUsage;
  const freeB = b.sockets - b.socketsUsage;
  if (freeA !== freeB) return freeA - freeB;
  return a.id - b.id;
}

export function bestCandidate<T extends CandidateView>(
  candidates: readonly T[],
  criteria: PlacementCriteria,
): T | undefined {
  return candidates.filter((c) => qualifies(c, criteria)).sort((a, b) => compareCandidates(a, b, criteria.position))[0];
}
