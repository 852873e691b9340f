import type { Db } from '../../src/db/db.js';
import { insertDeployment } from '../../src/db/queries/deployments.js';
import {
  insertSessionOnBestDeployment,
  type PlacedSession,
  type SessionPlacementRequest,
  type Walk,
} from '../../src/db/queries/placement.js';
import type { CandidateView, PlacementCriteria } from '../../src/domain/placement.js';
import { SESSION_KINDS, sessionStatusForDeployment } from '../../src/domain/session-rules.js';

/** A generated deployment of a placement property test. */
export interface GeneratedDeployment {
  status: string;
  isJoinable: boolean;
  sockets: number;
  /** Share of its seats already taken, in [0, 1). */
  usedPart: number;
  tags: string[];
}

/**
 * Inserts a generated deployment through the query layer and returns it as the pure ranking
 * sees it, so a test can compare the SQL's choice with `bestCandidate` on the same fleet.
 */
export async function seedCandidate(
  db: Db,
  at: { requestId: string; orgId: number; appId: number; versionId: number },
  d: GeneratedDeployment,
  place: CandidateView['place'],
): Promise<CandidateView> {
  const record = await insertDeployment(db, {
    ...at,
    provider: 'registered',
    status: d.status,
    publicIp: '',
    fqdn: '',
    ports: {},
    place: {
      city: place.city,
      country: place.country,
      continent: place.continent,
      administrativeDivision: place.administrative_division,
      region: place.region,
      timezone: '',
      latitude: place.latitude,
      longitude: place.longitude,
    },
    tags: d.tags,
    sockets: d.sockets,
    socketsUsage: Math.floor(d.usedPart * d.sockets),
    requestUserCount: 0,
    webhookUrl: null,
    command: null,
    arguments: null,
    env: [],
    providerData: {},
    heartbeatTimeoutSeconds: null,
    now: new Date(),
  });
  if (!d.isJoinable) await db.query('UPDATE deployments SET is_joinable = false WHERE id = $1', [record.id]);
  return {
    id: record.id,
    status: record.status,
    isJoinable: d.isJoinable,
    sockets: record.sockets,
    socketsUsage: record.socketsUsage,
    tags: record.tags,
    place,
  };
}

/** What a placement test varies in a create; the session it writes has no users or options. */
export interface TestPlacement {
  orgId: number;
  appName: string;
  versionName: string;
  criteria: PlacementCriteria;
  /** Deployment statuses the fleet may have: the session's status follows the domain's rule. */
  statuses: readonly string[];
  skipLocked: boolean;
  sessionId: string;
}

class RolledBack extends Error {}

/**
 * What the create statement places for `p` with `walk` (without one, the walk the version's hint
 * names, as a create's), in a transaction then rolled back, so every call sees the fleet as seeded.
 */
export async function placeRolledBack(db: Db, p: TestPlacement, walk?: Walk): Promise<PlacedSession> {
  const request: SessionPlacementRequest = {
    orgId: p.orgId,
    appName: p.appName,
    versionName: p.versionName,
    seatsByKind: Object.fromEntries(SESSION_KINDS.map((kind) => [kind, p.criteria.seats])),
    statusByDeploymentStatus: Object.fromEntries(p.statuses.map((s) => [s, sessionStatusForDeployment(s)])),
    requiredTags: p.criteria.requiredTags,
    constraints: p.criteria.constraints,
    position: p.criteria.position,
    skipLocked: p.skipLocked,
    session: {
      sessionId: p.sessionId,
      users: [],
      selectors: [],
      placement: {},
      customId: null,
      webhookUrl: null,
      now: new Date(),
    },
  };
  let placed: PlacedSession | undefined;
  await db
    .transaction(async (tx) => {
      placed = await insertSessionOnBestDeployment(tx, request, walk);
      throw new RolledBack();
    })
    .catch((error: unknown) => {
      if (!(error instanceof RolledBack)) throw error;
    });
  return placed!;
}
