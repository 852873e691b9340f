/**
 * Two services on one PostgreSQL database, each with its own connection pool, deploying at once
 * through POST /v1/deploy and autodeploying sessions, far more demand than the hosts hold. No host
 * may ever hold more than its capacity, and nothing may be refused while a host has room.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from '../support/node-test.js';
import { insertHost } from '../../src/db/queries/hosts.js';
import {
  FRANKFURT,
  MONTREAL,
  client,
  createTestDatabase,
  seedVersion,
  startTestService,
  type TestService,
} from '../support/harness.js';
import { createRecordingHostProvider } from '../support/host-provider.js';

const HOSTS = [
  { name: 'mtl-a', site: MONTREAL, cpu: 1024, ports: [30000, 30999] },
  { name: 'mtl-b', site: MONTREAL, cpu: 768, ports: [30000, 30999] },
  { name: 'fra-a', site: FRANKFURT, cpu: 1024, ports: [31000, 31005] },
] as const;
/** 256 cpu units each: 4 + 3 + 3 (fra-a has 6 ports, 2 per deployment). */
const ROOM = 10;
const ATTEMPTS = 48;

describe('two services deploying on the same hosts at once', { timeout: 180_000 }, () => {
  let services: TestService[] = [];

  before(async () => {
    const databaseUrl = await createTestDatabase();
    const first = await startTestService({ databaseUrl, providers: [createRecordingHostProvider()] });
    const second = await startTestService({
      databaseUrl,
      providers: [createRecordingHostProvider()],
      env: { RALLYPOINT_API_KEY: first.key },
    });
    services = [first, second];
    for (const h of HOSTS) {
      await insertHost(first.service.deps.db, {
        name: h.name,
        endpoint: { kind: 'socket', path: '/run/podman.sock' },
        publicIp: '203.0.113.9',
        place: { ...h.site, administrativeDivision: h.site.administrative_division, region: '' },
        cpuUnits: h.cpu,
        memoryMb: 4096,
        portMin: h.ports[0],
        portMax: h.ports[1],
        tags: [],
        now: new Date(),
      });
    }
  });
  after(async () => {
    for (const s of services) await s.close();
  });

  it('never over-commits a host and refuses only when every host is full', async () => {
    const calls = services.map((s) => client(s.url, services[0]!.key));
    const { app } = await seedVersion(calls[0]!, {
      kind: 'Match',
      sockets: 1,
      autodeploy: true,
      extra: {
        ports: [
          { port: 7777, protocol: 'UDP', name: 'game' },
          { port: 7778, protocol: 'TCP', name: 'admin' },
        ],
      },
    });
    const answers = await Promise.all(
      Array.from({ length: ATTEMPTS }, async (_, i) => {
        const call = calls[i % 2]!;
        const where = {
          geo_ip_list: [
            {
              ip: `198.51.100.${i + 1}`,
              latitude: (i % 3 === 0 ? FRANKFURT : MONTREAL).latitude,
              longitude: (i % 3 === 0 ? FRANKFURT : MONTREAL).longitude,
            },
          ],
        };
        if (i % 4 === 1) {
          const created = await call('POST', '/v1/session', { app_name: app, version_name: 'v1', ...where });
          assert.equal(created.status, 200, JSON.stringify(created.body));
          // A session may also join a deployment another call started: count deployments, not answers.
          return created.body.deployment_request_id as string | undefined;
        }
        const deployed = await call('POST', '/v1/deploy', { app_name: app, version_name: 'v1', ...where });
        assert.ok([200, 422].includes(deployed.status), JSON.stringify(deployed.body));
        if (deployed.status === 422) assert.equal(deployed.body.code, 'NO_HOST_FITS');
        return deployed.status === 200 ? (deployed.body.request_id as string) : undefined;
      }),
    );
    const deployments = new Set(answers.filter((a) => a !== undefined));
    assert.equal(deployments.size, ROOM, 'exactly the room the hosts have is used');

    const db = services[0]!.service.deps.db;
    const { rows } = await db.query<{
      name: string;
      cpu_units: number;
      used_cpu_units: number;
      allocated: number;
      used_ports: number;
      bound: number;
      deployments: number;
    }>(
      `SELECT h.name, h.cpu_units, h.used_cpu_units, h.used_ports,
         (SELECT COALESCE(sum(a.cpu_units), 0)::int FROM host_allocations a WHERE a.host_id = h.id) AS allocated,
         (SELECT count(*)::int FROM host_ports p WHERE p.host_id = h.id) AS bound,
         (SELECT count(*)::int FROM deployments d WHERE d.host_id = h.id) AS deployments
       FROM hosts h ORDER BY h.name`,
    );
    for (const row of rows) {
      assert.ok(row.allocated <= row.cpu_units, `${row.name}: ${row.allocated} > ${row.cpu_units}`);
      assert.equal(row.used_cpu_units, row.allocated, `${row.name}: used_cpu_units is the sum of its allocations`);
      assert.equal(row.used_ports, row.bound, `${row.name}: used_ports is the count of its bound ports`);
      assert.equal(row.deployments * 2, row.bound, `${row.name}: two ports per deployment`);
    }
    assert.deepEqual(
      rows.map((r) => [r.name, r.deployments]),
      [
        ['fra-a', 3],
        ['mtl-a', 4],
        ['mtl-b', 3],
      ],
    );
  });
});
