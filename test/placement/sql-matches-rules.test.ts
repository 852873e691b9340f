import { after, before, describe, it, LONG_TEST_MS } from '../support/node-test.js';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { createApp } from '../../src/app/apps.js';
import { createVersion } from '../../src/app/versions.js';
import type { Walk } from '../../src/db/queries/placement.js';
import {
  bestCandidate,
  locationConstraintsOf,
  requiredTagsOf,
  type CandidateView,
  type PlacementCriteria,
} from '../../src/domain/placement.js';
import { LIVE_DEPLOYMENT_STATUSES, DeploymentStatus } from '../../src/domain/session-rules.js';
import { startTestService, type TestService } from '../support/harness.js';
import { placeRolledBack, seedCandidate } from './seed-candidates.js';

/**
 * The placement SQL (tiers of places, then fullest) must choose exactly what the pure rules of
 * domain/placement.ts choose: same filters, same order (ready, distance, free seats, id), for
 * random fleets with shared places, unknown coordinates, every status, tags and constraints.
 */
const PLACES = [
  { city: 'Montreal', country: 'Canada', continent: 'North America', latitude: 45.5017, longitude: -73.5673 },
  { city: 'Frankfurt', country: 'Germany', continent: 'Europe', latitude: 50.1109, longitude: 8.6821 },
  { city: 'Tokyo', country: 'Japan', continent: 'Asia', latitude: 35.6762, longitude: 139.6503 },
  { city: 'Sydney', country: 'Australia', continent: 'Oceania', latitude: -33.8688, longitude: 151.2093 },
  { city: 'Unknown', country: 'Canada', continent: 'North America', latitude: null, longitude: null },
  // Montreal's coordinates under another name: a second place at exactly the same distance.
  { city: 'Laval', country: 'Canada', continent: 'North America', latitude: 45.5017, longitude: -73.5673 },
] as const;
const STATUSES = [...LIVE_DEPLOYMENT_STATUSES, DeploymentStatus.error, DeploymentStatus.terminated];

const deploymentArb = fc.record({
  place: fc.integer({ min: 0, max: PLACES.length - 1 }),
  status: fc.constantFrom(...STATUSES),
  isJoinable: fc.integer({ min: 0, max: 4 }).map((n) => n > 0),
  sockets: fc.integer({ min: 1, max: 6 }),
  usedPart: fc.double({ min: 0, max: 1, noNaN: true }),
  tags: fc.subarray(['gpu', 'eu', 'beta']),
});
const requestArb = fc.record({
  seats: fc.integer({ min: 1, max: 3 }),
  position: fc.option(
    fc.record({
      latitude: fc.double({ min: -80, max: 80, noNaN: true }),
      longitude: fc.double({ min: -179, max: 179, noNaN: true }),
    }),
  ),
  selectors: fc.subarray([{ tag: 'gpu' }, { tag: 'eu' }, { tag: 'beta', tag_only: true }]),
  filters: fc.subarray(
    [
      { field: 'continent', filter_type: 'not' as const, values: ['Oceania'] },
      { field: 'country', filter_type: 'any' as const, values: ['CA', 'Japan', 'DE'] },
      { field: 'city', filter_type: 'all' as const, values: ['Tokyo'] },
    ],
    { maxLength: 2 },
  ),
});

const WALKS: Walk[] = ['all', 'band'];

describe('placement SQL matches the pure rules', () => {
  let t: TestService;
  before(async () => {
    t = await startTestService();
  });
  after(() => t.close());

  it('chooses the deployment bestCandidate chooses', { timeout: LONG_TEST_MS }, async () => {
    const deps = t.service.deps;
    const orgId = (await deps.db.query<{ id: number }>('SELECT id FROM organisations ORDER BY id LIMIT 1')).rows[0]!.id;
    const app = await createApp(deps, orgId, { name: 'prop', isActive: true, image: '' });
    assert.ok(app.ok);
    let round = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(deploymentArb, { minLength: 0, maxLength: 14 }), requestArb, async (fleet, request) => {
        round += 1;
        const version = await createVersion(deps, orgId, 'prop', {
          name: `v${round}`,
          session_config: { kind: 'Seat', sockets: 6 },
        });
        assert.ok(version.ok);
        const views: CandidateView[] = [];
        for (const [i, d] of fleet.entries()) {
          const p = PLACES[d.place]!;
          const place = {
            city: p.city,
            country: p.country,
            continent: p.continent,
            administrative_division: '',
            region: '',
            latitude: p.latitude,
            longitude: p.longitude,
          };
          views.push(
            await seedCandidate(
              deps.db,
              { requestId: `p${round}x${i}`, orgId, appId: version.value.appId, versionId: version.value.id },
              d,
              place,
            ),
          );
        }
        const constraints = locationConstraintsOf({ filters: request.filters, selectors: request.selectors });
        assert.ok(constraints.ok);
        const criteria: PlacementCriteria = {
          seats: request.seats,
          requiredTags: requiredTagsOf(request),
          constraints: constraints.value,
          position: request.position,
        };
        const expected = bestCandidate(views, criteria);
        // Rolled back, so each request sees the fleet as generated. Nothing else holds a row, so the
        // first pass (skipping locked rows) and the waiting pass must both pick the same.
        // Both walks must choose the same deployment (a create runs the one its version's hint names).
        for (const walk of WALKS) {
          const placement = {
            orgId,
            appName: 'prop',
            versionName: `v${round}`,
            criteria,
            statuses: STATUSES,
            skipLocked: round % 2 === 0,
            sessionId: `prop-${round}`,
          };
          const placed = await placeRolledBack(deps.db, placement, walk);
          assert.equal(placed.roomSeen, expected !== undefined);
          assert.equal(placed.session?.deploymentId, placed.deployment?.id);
          assert.equal(placed.session?.seats, placed.deployment ? request.seats : undefined);
          const chosen = placed.deployment;
          assert.equal(chosen?.id, expected?.id, JSON.stringify({ walk, fleet, request }));
          if (chosen && expected) assert.equal(chosen.socketsUsage, expected.socketsUsage + request.seats);
        }
      }),
      { numRuns: 60 },
    );
  });
});
