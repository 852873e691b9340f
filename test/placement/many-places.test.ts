import { after, before, describe, it, LONG_TEST_MS } from '../support/node-test.js';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { createApp } from '../../src/app/apps.js';
import { createVersion } from '../../src/app/versions.js';
import type { Walk } from '../../src/db/queries/placement.js';
import { bestCandidate, type CandidateView, type PlacementCriteria } from '../../src/domain/placement.js';
import { DeploymentStatus, LIVE_DEPLOYMENT_STATUSES } from '../../src/domain/session-rules.js';
import { startTestService, type TestService } from '../support/harness.js';
import { placeRolledBack, seedCandidate } from './seed-candidates.js';

/**
 * The create walks a version's places nearest first and stops at the first with room
 * (version_places, migration 012). On fleets of many places, moved between places and statuses
 * after they were written (so the table is kept by its trigger, not only filled), it must choose
 * exactly what bestCandidate chooses over every deployment: places at equal distance (the same
 * coordinates under other names), unknown coordinates and players within 1e-100 degrees of 0
 * included. The table must also count exactly the live, joinable deployments at each place.
 */
const STATUSES = [...LIVE_DEPLOYMENT_STATUSES, DeploymentStatus.error, DeploymentStatus.terminated];
const coordinate = (max: number) =>
  fc.oneof(fc.double({ min: -max, max, noNaN: true }), fc.constantFrom(0, 1e-200, -3e-120, 45.5, max));
/**
 * Places never sit within 1e-100 degrees of 0 without being at 0: the SQL distance reads such
 * coordinates as 0 (src/db/queries/placement.ts), which the pure rules only match to 1e-90 km.
 */
const placeCoordinate = (max: number) => coordinate(max).map((degrees) => (Math.abs(degrees) < 1e-100 ? 0 : degrees));
/**
 * Around the band walk's edges (placement.ts, 10 degrees of latitude either side of the players):
 * with players near (0, 0), places just inside and outside the band, nearer ones outside it.
 */
const BAND_EDGE_LATITUDES = [-12, -10.5, -10, -9.5, 9.5, 10, 10.5, 12, 30];
const BAND_EDGE_LONGITUDES = [0, 2, 8, 15, 40, 120];
const NEAR_ORIGIN = [
  { latitude: 0, longitude: 0 },
  { latitude: 0.3, longitude: 1 },
];
const placeArb = fc.record({
  city: fc.constantFrom('A', 'B', 'C', 'D'),
  country: fc.constantFrom('Canada', 'Japan'),
  latitude: fc.option(fc.oneof(placeCoordinate(80), fc.constantFrom(...BAND_EDGE_LATITUDES)), { freq: 8 }),
  longitude: fc.oneof(placeCoordinate(179), fc.constantFrom(...BAND_EDGE_LONGITUDES)),
});
const deploymentArb = (places: number) =>
  fc.record({
    place: fc.nat(places - 1),
    status: fc.constantFrom(...STATUSES),
    isJoinable: fc.nat(5).map((n) => n > 0),
    sockets: fc.integer({ min: 1, max: 5 }),
    usedPart: fc.double({ min: 0, max: 1, noNaN: true }),
    tags: fc.subarray(['gpu']),
  });
/** Changes after insertion: deployment `which` (mod fleet size) moves, changes status or joinability. */
const changeArb = (places: number) =>
  fc.record({
    which: fc.nat(),
    place: fc.nat(places - 1),
    status: fc.constantFrom(...STATUSES),
    isJoinable: fc.boolean(),
  });
/**
 * Players at or within a few degrees of a place: the band walk (placement.ts) then usually finds
 * its answer near them and must prove it, where random positions mostly send it to every place.
 */
const offset = fc.oneof(fc.constant(0), fc.double({ min: -4, max: 4, noNaN: true }));
const nearPlace = (places: Array<{ latitude: number | null; longitude: number }>) =>
  fc.record({ at: fc.nat(places.length - 1), dLat: offset, dLon: offset }).map(({ at, dLat, dLon }) => {
    const place = places[at]!;
    return {
      latitude: Math.max(-90, Math.min(90, (place.latitude ?? 0) + dLat)),
      longitude: Math.max(-180, Math.min(180, place.longitude + dLon)),
    };
  });
const fleetArb = fc.array(placeArb, { minLength: 1, maxLength: 60 }).chain((places) =>
  fc.record({
    places: fc.constant(places),
    deployments: fc.array(deploymentArb(places.length), { minLength: 0, maxLength: 80 }),
    changes: fc.array(changeArb(places.length), { maxLength: 15 }),
    seats: fc.integer({ min: 1, max: 3 }),
    position: fc.option(
      fc.oneof(
        fc.record({ latitude: coordinate(80), longitude: coordinate(179) }),
        nearPlace(places),
        fc.constantFrom(...NEAR_ORIGIN),
      ),
      {
        freq: 6,
      },
    ),
    gpu: fc.boolean(),
  }),
);

const WALKS: Walk[] = ['all', 'band'];

describe('placement over many places', () => {
  let t: TestService;
  before(async () => {
    t = await startTestService();
  });
  after(() => t.close());

  it('chooses the deployment bestCandidate chooses, and counts each place', { timeout: LONG_TEST_MS }, async () => {
    const deps = t.service.deps;
    const orgId = (await deps.db.query<{ id: number }>('SELECT id FROM organisations ORDER BY id LIMIT 1')).rows[0]!.id;
    assert.ok((await createApp(deps, orgId, { name: 'many', isActive: true, image: '' })).ok);
    let round = 0;
    await fc.assert(
      fc.asyncProperty(fleetArb, async (fleet) => {
        round += 1;
        const version = await createVersion(deps, orgId, 'many', {
          name: `v${round}`,
          session_config: { kind: 'Seat', sockets: 5 },
        });
        assert.ok(version.ok);
        const placeOf = (i: number) => {
          const p = fleet.places[i]!;
          return {
            city: p.city,
            country: p.country,
            continent: '',
            administrative_division: '',
            region: '',
            latitude: p.latitude,
            longitude: p.latitude === null ? null : p.longitude,
          };
        };
        const views: CandidateView[] = [];
        for (const [i, d] of fleet.deployments.entries()) {
          const p = placeOf(d.place);
          views.push(
            await seedCandidate(
              deps.db,
              { requestId: `m${round}x${i}`, orgId, appId: version.value.appId, versionId: version.value.id },
              d,
              p,
            ),
          );
        }
        for (const change of views.length > 0 ? fleet.changes : []) {
          const view = views[change.which % views.length]!;
          const p = placeOf(change.place);
          await deps.db.query(
            'UPDATE deployments SET status = $2, is_joinable = $3, city = $4, country = $5, latitude = $6, longitude = $7 WHERE id = $1',
            [view.id, change.status, change.isJoinable, p.city, p.country, p.latitude, p.longitude],
          );
          Object.assign(view, { status: change.status, isJoinable: change.isJoinable, place: p });
        }

        const counted = await deps.db.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM (
             (SELECT ready, lat, lon, city, country, deployments FROM version_places WHERE version_id = $1
              EXCEPT ALL
              SELECT status = 'Status.READY', coalesce(latitude, 'NaN'), coalesce(longitude, 'NaN'), city, country, count(*)::int FROM deployments
              WHERE version_id = $1 AND is_joinable AND status IN ('Status.READY', 'Status.DEPLOYING', 'Status.INITIALIZING') GROUP BY 1, 2, 3, 4, 5)
             UNION ALL
             (SELECT status = 'Status.READY', coalesce(latitude, 'NaN'), coalesce(longitude, 'NaN'), city, country, count(*)::int FROM deployments
              WHERE version_id = $1 AND is_joinable AND status IN ('Status.READY', 'Status.DEPLOYING', 'Status.INITIALIZING') GROUP BY 1, 2, 3, 4, 5
              EXCEPT ALL
              SELECT ready, lat, lon, city, country, deployments FROM version_places WHERE version_id = $1)) differences`,
          [version.value.id],
        );
        assert.equal(counted.rows[0]!.n, 0, 'version_places differs from the deployments it counts');

        const criteria: PlacementCriteria = {
          seats: fleet.seats,
          requiredTags: fleet.gpu ? ['gpu'] : [],
          constraints: [],
          position: fleet.position,
        };
        const expected = bestCandidate(views, criteria);
        // Both walks must choose the same deployment (a create runs the one its version's hint names).
        for (const walk of WALKS) {
          const placement = {
            orgId,
            appName: 'many',
            versionName: `v${round}`,
            criteria,
            statuses: STATUSES,
            skipLocked: round % 2 === 0,
            sessionId: `many-${round}`,
          };
          const placed = await placeRolledBack(deps.db, placement, walk);
          assert.equal(placed.roomSeen, expected !== undefined);
          const chosen = placed.deployment?.id;
          assert.equal(chosen, expected?.id, JSON.stringify({ walk, fleet, chosen, expected: expected?.id }));
        }
      }),
      { numRuns: 40 },
    );
  });

  it(
    'reads every place when the band cannot prove its nearest place with room',
    { timeout: LONG_TEST_MS },
    async () => {
      const deps = t.service.deps;
      const orgId = (await deps.db.query<{ id: number }>('SELECT id FROM organisations ORDER BY id LIMIT 1')).rows[0]!
        .id;
      assert.ok((await createApp(deps, orgId, { name: 'band', isActive: true, image: '' })).ok);
      // Players at (0, 0); the band holds latitudes -10 to 10. Each case names the place to choose.
      const cases: Array<{ why: string; places: Record<string, [number, number]>; expected: string }> = [
        { why: 'a nearer place just outside the band', places: { in: [0, 30], out: [12, 0] }, expected: 'out' },
        { why: 'the band proves its place', places: { in: [0, 9], out: [10.5, 0] }, expected: 'in' },
        { why: 'too close to the edge to prove', places: { in: [0, 9.9999999], out: [10.0000001, 0] }, expected: 'in' },
        {
          why: 'as far in the band as out of it: the older wins',
          places: { out: [10, 0], in: [0, 10] },
          expected: 'out',
        },
        { why: 'the nearest within the band, not at its centre', places: { mid: [7, 0], in: [0, 9] }, expected: 'mid' },
        { why: 'nothing in the band', places: { far: [45, 0], farther: [-60, 0] }, expected: 'far' },
      ];
      for (const [n, c] of cases.entries()) {
        const version = await createVersion(deps, orgId, 'band', {
          name: `b${n}`,
          session_config: { kind: 'Seat', sockets: 5 },
        });
        assert.ok(version.ok);
        const views: CandidateView[] = [];
        for (const [i, [city, [latitude, longitude]]] of Object.entries(c.places).entries()) {
          const place = {
            city,
            country: 'X',
            continent: '',
            administrative_division: '',
            region: '',
            latitude,
            longitude,
          };
          const deployment = { status: DeploymentStatus.ready, isJoinable: true, sockets: 5, usedPart: 0, tags: [] };
          const at = { requestId: `b${n}x${i}`, orgId, appId: version.value.appId, versionId: version.value.id };
          views.push(await seedCandidate(deps.db, at, deployment, place));
        }
        const criteria = { seats: 1, requiredTags: [], constraints: [], position: { latitude: 0, longitude: 0 } };
        assert.equal(bestCandidate(views, criteria)?.place.city, c.expected, c.why);
        for (const walk of WALKS) {
          const placement = {
            orgId,
            appName: 'band',
            versionName: `b${n}`,
            criteria,
            statuses: [DeploymentStatus.ready],
            skipLocked: true,
            sessionId: `band-${n}-${walk}`,
          };
          const placed = (await placeRolledBack(deps.db, placement, walk)).deployment?.id;
          assert.equal(views.find((v) => v.id === placed)?.place.city, c.expected, `${walk} walk: ${c.why}`);
        }
      }
    },
  );

  it(
    "walks the band once a full walk of the version read 100 places, and only with the players' position",
    {
      timeout: LONG_TEST_MS,
    },
    async () => {
      const deps = t.service.deps;
      const orgId = (await deps.db.query<{ id: number }>('SELECT id FROM organisations ORDER BY id LIMIT 1')).rows[0]!
        .id;
      assert.ok((await createApp(deps, orgId, { name: 'hint', isActive: true, image: '' })).ok);
      const walksFor = async (versionName: string, places: number) => {
        const version = await createVersion(deps, orgId, 'hint', {
          name: versionName,
          session_config: { kind: 'Seat', sockets: 5 },
        });
        assert.ok(version.ok);
        for (let i = 0; i < places; i++) {
          // Places 1.5 degrees of latitude apart along the meridian, so each is its own place.
          const place = {
            city: `P${i}`,
            country: 'X',
            continent: '',
            administrative_division: '',
            region: '',
            latitude: -80 + 1.5 * (i % 107),
            longitude: i >= 107 ? 90 : 0,
          };
          const deployment = { status: DeploymentStatus.ready, isJoinable: true, sockets: 5, usedPart: 0, tags: [] };
          await seedCandidate(
            deps.db,
            { requestId: `${versionName}x${i}`, orgId, appId: version.value.appId, versionId: version.value.id },
            deployment,
            place,
          );
        }
        const create = async (position: PlacementCriteria['position'], n: number) => {
          const criteria = { seats: 1, requiredTags: [], constraints: [], position };
          const placement = {
            orgId,
            appName: 'hint',
            versionName,
            criteria,
            statuses: [DeploymentStatus.ready],
            skipLocked: true,
            sessionId: `${versionName}-${n}`,
          };
          const placed = await placeRolledBack(deps.db, placement);
          assert.ok(placed.deployment, 'every create finds room');
          return placed.walk;
        };
        const at = { latitude: 10, longitude: 1 };
        return [await create(at, 1), await create(at, 2), await create(null, 3), await create(at, 4)];
      };
      assert.deepEqual(
        await walksFor('many', 120),
        ['all', 'band', 'all', 'band'],
        '120 places: the band after the first walk, none without a position',
      );
      assert.deepEqual(await walksFor('few', 99), ['all', 'all', 'all', 'all'], '99 places: every place each time');
    },
  );
});
