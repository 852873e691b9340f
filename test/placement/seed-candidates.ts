import type { Db } from '../../src/db/db.js';
import { insertDeployment } from '../../src/db/queries/deployments.js';
import type { CandidateView } from '../../src/domain/placement.js';

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
