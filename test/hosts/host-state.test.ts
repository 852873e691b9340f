/**
 * Host rows and their state: the schema refuses impossible capacity, an unreachable host ends
 * its live deployments (their sessions turn Error), and a release gives capacity back once.
 */
import assert from 'node:assert/strict';
import { describe, it } from '../support/node-test.js';
import { markHostReachable, markHostUnreachable } from '../../src/app/hosts.js';
import {
  insertHost,
  releaseHostAllocation,
  selectHostById,
  selectHosts,
  type NewHost,
} from '../../src/db/queries/hosts.js';
import { registerServer, seedVersion, useTestService, MONTREAL } from '../support/harness.js';

const place = {
  city: MONTREAL.city,
  country: MONTREAL.country,
  continent: MONTREAL.continent,
  administrativeDivision: MONTREAL.administrative_division,
  region: '',
  timezone: MONTREAL.timezone,
  latitude: MONTREAL.latitude,
  longitude: MONTREAL.longitude,
};

function newHost(name: string, overrides: Partial<NewHost> = {}): NewHost {
  return {
    name,
    endpoint: { kind: 'socket', path: '/run/podman/podman.sock' },
    publicIp: '203.0.113.50',
    place,
    cpuUnits: 2048,
    memoryMb: 4096,
    portMin: 30000,
    portMax: 30009,
    tags: [],
    now: new Date('2026-01-01T00:00:00Z'),
    ...overrides,
  };
}

describe('hosts: rows and state', { timeout: 60_000 }, () => {
  const { t, call } = useTestService();

  it('stores a host once per name and refuses impossible ranges and capacity', async () => {
    const db = t.service.deps.db;
    const host = await insertHost(db, newHost('h-rows'));
    assert.ok(host);
    assert.equal(host.state, 'active');
    assert.deepEqual(host.endpoint, { kind: 'socket', path: '/run/podman/podman.sock' });
    assert.equal(await insertHost(db, newHost('h-rows')), undefined, 'a second host with the same name');
    await assert.rejects(
      insertHost(db, newHost('h-bad-range', { portMin: 40000, portMax: 30000 })),
      /hosts_port_range/,
    );
    await assert.rejects(insertHost(db, newHost('h-bad-port', { portMax: 70000 })), /hosts_port_range/);
    await assert.rejects(
      db.query('UPDATE hosts SET used_cpu_units = cpu_units + 1 WHERE id = $1', [host.id]),
      /hosts_within_capacity/,
    );
    await assert.rejects(
      db.query('UPDATE hosts SET used_ports = 11 WHERE id = $1', [host.id]),
      /hosts_within_capacity/,
    );
    assert.ok((await selectHosts(db)).some((h) => h.name === 'h-rows'));
  });

  it('marks an unreachable host down, ends its live deployments, and revives it when it answers', async () => {
    const db = t.service.deps.db;
    const host = (await insertHost(db, newHost('h-down')))!;
    const { app, version } = await seedVersion(call, { kind: 'Seat', sockets: 4 });
    const requestId = await registerServer(call, { app, version });
    await db.query('UPDATE deployments SET host_id = $1 WHERE request_id = $2', [host.id, requestId]);
    const session = await call('POST', '/v1/session', {
      app_name: app,
      version_name: version,
      ip_list: ['1.2.3.4'],
      deployment_request_id: requestId,
    });
    assert.equal(session.status, 200, JSON.stringify(session.body));

    const down = await markHostUnreachable(t.service.deps, host.id, 'connect ECONNREFUSED');
    assert.equal(down?.state, 'down');
    assert.equal(down?.stateDetail, 'connect ECONNREFUSED');
    assert.ok(down?.unreachableSince instanceof Date);
    const status = await call('GET', `/v1/status/${requestId}`);
    assert.equal(status.body.current_status, 'Status.ERROR');
    assert.match(status.body.error_detail ?? '', /Host h-down is unreachable: connect ECONNREFUSED/);
    const s = await call('GET', `/v1/session/${session.body.session_id}`);
    assert.equal(s.body.status, 'Error');

    const revived = await markHostReachable(t.service.deps, host.id);
    assert.equal(revived?.state, 'active');
    assert.equal(revived?.unreachableSince, null);
    assert.equal(await markHostUnreachable(t.service.deps, 999_999, 'x'), undefined);
  });

  it('a draining host stays draining when it answers again', async () => {
    const db = t.service.deps.db;
    const host = (await insertHost(db, newHost('h-drain')))!;
    await db.query("UPDATE hosts SET state = 'draining', unreachable_since = now() WHERE id = $1", [host.id]);
    const after = await markHostReachable(t.service.deps, host.id);
    assert.equal(after?.state, 'draining');
    assert.equal(after?.unreachableSince, null);
  });

  it("releases a deployment's cpu, memory and ports exactly once", async () => {
    const db = t.service.deps.db;
    const host = (await insertHost(db, newHost('h-release')))!;
    const { app, version } = await seedVersion(call);
    const requestId = await registerServer(call, { app, version });
    const { rows } = await db.query<{ id: number }>(
      'UPDATE deployments SET host_id = $1 WHERE request_id = $2 RETURNING id',
      [host.id, requestId],
    );
    const deploymentId = rows[0]!.id;
    await db.query(
      'INSERT INTO host_allocations (deployment_id, host_id, cpu_units, memory_mb) VALUES ($1, $2, 512, 1024)',
      [deploymentId, host.id],
    );
    await db.query('INSERT INTO host_ports (host_id, port, deployment_id) VALUES ($1, 30000, $2), ($1, 30001, $2)', [
      host.id,
      deploymentId,
    ]);
    await db.query('UPDATE hosts SET used_cpu_units = 512, used_memory_mb = 1024, used_ports = 2 WHERE id = $1', [
      host.id,
    ]);

    assert.equal(await releaseHostAllocation(db, deploymentId), true);
    assert.equal(await releaseHostAllocation(db, deploymentId), false, 'a second release changes nothing');
    const after = (await selectHostById(db, host.id))!;
    assert.deepEqual([after.usedCpuUnits, after.usedMemoryMb, after.usedPorts], [0, 0, 0]);
    const ports = await db.query('SELECT 1 FROM host_ports WHERE deployment_id = $1', [deploymentId]);
    assert.equal(ports.rowCount, 0);
  });
});
