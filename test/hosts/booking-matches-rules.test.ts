/**
 * The booking SQL (its room predicate, its lock order) must choose exactly the host the pure rules
 * of domain/host-scheduling.ts rank first, and refuse exactly when they find none, for random
 * fleets: shared places, unknown coordinates, every state, hosts near full, filters, positions.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from '../support/node-test.js';
import fc from 'fast-check';
import { bookHostIn } from '../../src/app/host-scheduling.js';
import { insertHost, selectHosts } from '../../src/db/queries/hosts.js';
import {
  compareHosts,
  mismatchOf,
  noHostReason,
  rankHosts,
  type HostRequest,
} from '../../src/domain/host-scheduling.js';
import { locationConstraintsOf } from '../../src/domain/placement.js';
import { HOST_STATES, type HostRecord } from '../../src/domain/records.js';
import { startTestService, type TestService } from '../support/harness.js';

const PLACES = [
  { city: 'Montreal', country: 'Canada', continent: 'North America', latitude: 45.5017, longitude: -73.5673 },
  { city: 'Frankfurt', country: 'Germany', continent: 'Europe', latitude: 50.1109, longitude: 8.6821 },
  { city: 'Tokyo', country: 'Japan', continent: 'Asia', latitude: 35.6762, longitude: 139.6503 },
  { city: 'Nowhere', country: 'Canada', continent: 'North America', latitude: null, longitude: null },
] as const;

const hostArb = fc.record({
  place: fc.integer({ min: 0, max: PLACES.length - 1 }),
  state: fc.constantFrom(...HOST_STATES, 'active', 'active'),
  cpu: fc.constantFrom(512, 1024, 2048),
  memory: fc.constantFrom(512, 1024, 4096),
  portCount: fc.integer({ min: 1, max: 4 }),
  cpuUsedPart: fc.double({ min: 0, max: 1, noNaN: true }),
  memoryUsedPart: fc.double({ min: 0, max: 1, noNaN: true }),
  portsUsedPart: fc.double({ min: 0, max: 1, noNaN: true }),
});
const requestArb = fc.record({
  cpu: fc.constantFrom(256, 512, 1024, 4096),
  memory: fc.constantFrom(256, 1024, 2048),
  ports: fc.integer({ min: 0, max: 3 }),
  position: fc.option(
    fc.record({
      latitude: fc.double({ min: -80, max: 80, noNaN: true }),
      longitude: fc.double({ min: -179, max: 179, noNaN: true }),
    }),
  ),
  filters: fc.subarray(
    [
      { field: 'continent', filter_type: 'not' as const, values: ['Asia'] },
      { field: 'country', filter_type: 'any' as const, values: ['CA', 'Germany'] },
    ],
    { maxLength: 2 },
  ),
});

class Rollback extends Error {
  constructor(readonly outcome: { pickedId: number | undefined; ports: number[]; hosts: HostRecord[] }) {
    super('rollback');
  }
}

describe('host booking SQL matches the pure scheduling rules', { timeout: 300_000 }, () => {
  let t: TestService;
  before(async () => {
    t = await startTestService();
  });
  after(() => t.close());

  it('books the host rankHosts puts first, or refuses when it finds none', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(hostArb, { minLength: 0, maxLength: 6 }), requestArb, async (fleet, req) => {
        const constraints = locationConstraintsOf({ filters: req.filters });
        assert.ok(constraints.ok);
        const request: HostRequest = {
          demand: { cpuUnits: req.cpu, memoryMb: req.memory, ports: req.ports },
          constraints: constraints.value,
          position: req.position,
        };
        let result: Awaited<ReturnType<typeof bookHostIn>> | undefined;
        const outcome = await t.service.deps.db
          .transaction(async (tx) => {
            for (const [i, h] of fleet.entries()) {
              const p = PLACES[h.place]!;
              const host = (await insertHost(tx, {
                name: `h${i}`,
                endpoint: { kind: 'socket', path: '/x.sock' },
                publicIp: '203.0.113.1',
                place: { ...p, administrativeDivision: '', region: '', timezone: '' },
                cpuUnits: h.cpu,
                memoryMb: h.memory,
                portMin: 30000,
                portMax: 30000 + h.portCount - 1,
                tags: [],
                now: new Date(),
              }))!;
              await tx.query(
                'UPDATE hosts SET state = $2, used_cpu_units = $3, used_memory_mb = $4, used_ports = $5 WHERE id = $1',
                [
                  host.id,
                  h.state,
                  Math.floor(h.cpuUsedPart * h.cpu),
                  Math.floor(h.memoryUsedPart * h.memory),
                  Math.floor(h.portsUsedPart * h.portCount),
                ],
              );
            }
            const hosts = await selectHosts(tx);
            result = await bookHostIn(tx, request);
            throw new Rollback({
              pickedId: result.ok ? result.value.host.id : undefined,
              ports: result.ok ? result.value.hostPorts : [],
              hosts,
            });
          })
          .catch((error: unknown) => {
            if (error instanceof Rollback) return error.outcome;
            throw error;
          });
        const expected = rankHosts(outcome.hosts, request)[0];
        assert.equal(
          outcome.pickedId,
          expected?.id,
          `booked host id ${outcome.pickedId}, the rules rank ${expected?.id} (${expected?.name}) first`,
        );
        if (expected) {
          assert.equal(outcome.ports.length, req.ports);
          assert.ok(outcome.ports.every((port) => port >= expected.portMin && port <= expected.portMax));
        } else {
          assert.ok(result && !result.ok && result.error.code === 'NO_HOST_FITS');
          assert.equal(result.error.message, noHostReason(outcome.hosts, request));
        }
      }),
      { numRuns: 60 },
    );
  });

  it('ranks nearest first, then the fullest that fits, and names every reason', () => {
    const base = (id: number, place: number, usedCpu: number, overrides: Partial<HostRecord> = {}): HostRecord => {
      const p = PLACES[place]!;
      return {
        id,
        name: `h${id}`,
        endpoint: { kind: 'socket', path: '/x' },
        publicIp: '',
        place: { ...p, administrativeDivision: '', region: '', timezone: '' },
        cpuUnits: 1024,
        memoryMb: 1024,
        portMin: 1,
        portMax: 10,
        tags: [],
        state: 'active',
        stateDetail: null,
        unreachableSince: null,
        usedCpuUnits: usedCpu,
        usedMemoryMb: 0,
        usedPorts: 0,
        createdAt: new Date(0),
        updatedAt: new Date(0),
        ...overrides,
      };
    };
    const nearMontreal = { latitude: 45, longitude: -73 };
    const request: HostRequest = {
      demand: { cpuUnits: 256, memoryMb: 256, ports: 1 },
      constraints: [],
      position: nearMontreal,
    };
    const hosts = [base(1, 1, 0), base(2, 0, 0), base(3, 0, 512), base(4, 0, 1024), base(5, 3, 0)];
    assert.deepEqual(
      rankHosts(hosts, request).map((h) => h.id),
      [3, 2, 1, 5],
      'Montreal fullest that fits, Montreal, Frankfurt, no coordinates',
    );
    assert.equal(mismatchOf(hosts[3]!, request), 'full');
    assert.ok(compareHosts(hosts[2]!, hosts[1]!, request) < 0);
    const reason = noHostReason(
      [base(6, 0, 0, { state: 'down' }), base(7, 1, 0, { usedPorts: 10 }), base(8, 2, 0, { cpuUnits: 128 })],
      request,
    );
    assert.match(reason, /h6 is not active/);
    assert.match(reason, /h7 is out of free ports/);
    assert.match(reason, /h8 is too small/);
    assert.match(noHostReason([], request), /there are no hosts/);
  });
});
