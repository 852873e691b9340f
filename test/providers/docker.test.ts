/**
 * The docker provider against a real engine (Podman's Docker-compatible service, started here):
 * containers on a host with the ports the fleet reserved, their environment, context and
 * self-stop, failures, reconciliation, and an unreachable host. Every test ends by checking
 * that no container of its host is left on the engine.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { noGeo } from '../../src/app/deps.js';
import { authenticate } from '../../src/app/keys.js';
import { selectHostById } from '../../src/db/queries/hosts.js';
import type { DockerProvider } from '../../src/providers/docker/docker-provider.js';
import { LABELS } from '../../src/providers/docker/container-spec.js';
import { DeploymentStatus } from '../../src/domain/session-rules.js';
import { client, seedVersion, startTestService, type TestService } from '../support/harness.js';
import { ECHO_IMAGE, startPodman, type TestPodman } from '../support/podman.js';
import {
  addContainerDeployment, addHost, deploymentNow, ECHO_VERSION, eventually, freeHostPort, tcpExchange, udpExchange,
} from '../support/docker-fixtures.js';

const TEST_TIMEOUT = { timeout: 120_000 };

describe('docker provider on a real engine', { timeout: 600_000 }, () => {
  let podman: TestPodman;
  let t: TestService;
  let call: ReturnType<typeof client>;
  let orgId: number;
  let app: string;
  let version: string;

  before(async () => {
    podman = await startPodman();
    t = await startTestService({
      geo: noGeo, listenHost: '0.0.0.0',
      env: {
        PROVIDERS: 'registered,docker', LOG_LEVEL: process.env['TEST_LOG_LEVEL'] ?? 'silent', DOCKER_UDP_READY_MS: '300', DOCKER_READY_TIMEOUT_MS: '30000',
        // Containers reach the service on the engine's bridge gateway, at the port it listens on.
        DOCKER_CALLBACK_URL: 'http://host.containers.internal:0', DOCKER_HOST_DOWN_AFTER_MS: '0', DOCKER_ENGINE_TIMEOUT_MS: '3000',
      },
    });
    call = client(t.url, t.key);
    orgId = (await authenticate(t.service.deps.db, t.key))!;
    ({ app, version } = await seedVersion(call, { kind: 'Match', sockets: 2, extra: ECHO_VERSION }));
  });
  after(async () => {
    await t?.close();
    await podman?.close();
  });

  const deps = () => t.service.deps;
  const provider = () => deps().providers.get('docker') as DockerProvider;
  const statusOf = async (requestId: string) => (await deploymentNow(deps(), requestId)).status;
  const untilStatus = (requestId: string, status: string) =>
    eventually(`deployment ${requestId} ${status}`, async () => ((await statusOf(requestId)) === status ? true : undefined));
  const leftOn = async (hostName: string) => (await podman.containersLabelled(`${LABELS.host}=${hostName}`)).length;

  it('runs the image on the host with the reserved ports; the game server talks, reads its context and stops itself', TEST_TIMEOUT, async () => {
    const host = await addHost(deps(), { kind: 'socket', path: podman.socketPath });
    const deployment = await addContainerDeployment(deps(), { orgId, app, version, host, tags: ['blue'] });
    await t.service.jobs.runDue();
    await untilStatus(deployment.requestId, DeploymentStatus.ready);
    const [container] = await podman.containersLabelled(`${LABELS.requestId}=${deployment.requestId}`);
    assert.equal(container?.Image, ECHO_IMAGE);
    assert.equal(container?.Labels[LABELS.host], host.name);
    assert.equal(container?.Labels[LABELS.organisation], String(orgId));
    assert.equal(container?.Labels[LABELS.app], app);
    const inspected = await podman.docker.getContainer(container!.Id).inspect();
    assert.equal(inspected.HostConfig.NanoCpus, 250_000_000);
    assert.equal(inspected.HostConfig.Memory, 128 * 1024 * 1024);

    const status = (await call('GET', `/v1/status/${deployment.requestId}`)).body;
    const { game, control } = status.ports;
    assert.equal(game.external, deployment.ports['game']!.external);
    assert.equal(game.internal, 7777);
    assert.equal(control.link, `127.0.0.1:${control.external}`);
    assert.equal(await udpExchange(game.external, 'hello over udp'), 'hello over udp');
    assert.equal(await tcpExchange(control.external, 'hello over tcp'), 'hello over tcp');

    const env = JSON.parse(await tcpExchange(control.external, 'env'));
    assert.equal(env.ARBITRIUM_REQUEST_ID, deployment.requestId);
    assert.equal(env.ARBITRIUM_PUBLIC_IP, '127.0.0.1');
    assert.equal(env.ARBITRIUM_DEPLOYMENT_TAGS, 'blue');
    assert.deepEqual(JSON.parse(env.ARBITRIUM_PORTS_MAPPING).ports.game, { name: 'game', internal: 7777, external: game.external, protocol: 'UDP', link: game.link });
    assert.equal(JSON.parse(env.ARBITRIUM_DEPLOYMENT_LOCATION).city, 'Montreal');
    assert.equal(env.ARBITRIUM_DEPLOYMENT_VCPU_UNITS, '256');
    const context = JSON.parse(await udpExchange(game.external, 'context'));
    assert.equal(context.status, 200);
    assert.equal(context.body.request_id, deployment.requestId);
    assert.equal(context.body.ports.control.external, control.external);

    const logs = await call('GET', `/v1/deployment/${deployment.requestId}/container-logs`);
    assert.equal(logs.status, 200);
    assert.match(logs.body.logs, /UDP echo on 0\.0\.0\.0:7777/);
    const metrics = await call('GET', `/v1/metrics/deployment/${deployment.requestId}`);
    assert.equal(metrics.status, 200);
    assert.equal(metrics.body.mem.datasets.length, 1);
    assert.ok(metrics.body.mem.datasets[0] > 0, JSON.stringify(metrics.body.mem));

    assert.equal(await tcpExchange(control.external, 'stop'), 'stop 200');
    await untilStatus(deployment.requestId, DeploymentStatus.terminating);
    await t.service.jobs.runDue();
    assert.equal(await statusOf(deployment.requestId), DeploymentStatus.terminated);
    assert.equal(await leftOn(host.name), 0);
  });

  it('a killed container turns its deployment ERROR and its sessions Error', TEST_TIMEOUT, async () => {
    const host = await addHost(deps(), { kind: 'socket', path: podman.socketPath });
    const deployment = await addContainerDeployment(deps(), { orgId, app, version, host });
    await t.service.jobs.runDue();
    await untilStatus(deployment.requestId, DeploymentStatus.ready);
    const session = await call('POST', '/v1/session', { app_name: app, version_name: version, ip_list: ['1.2.3.4'], deployment_request_id: deployment.requestId });
    assert.equal(session.status, 200);
    assert.equal((await call('GET', `/v1/session/${session.body.session_id}`)).body.status, 'Ready');
    const [container] = await podman.containersLabelled(`${LABELS.requestId}=${deployment.requestId}`);
    await podman.docker.getContainer(container!.Id).kill({ signal: 'SIGKILL' });
    await untilStatus(deployment.requestId, DeploymentStatus.error);
    assert.match((await deploymentNow(deps(), deployment.requestId)).errorDetail ?? '', /exited with code 137/);
    const after = await call('GET', `/v1/session/${session.body.session_id}`);
    assert.equal(after.body.status, 'Error');
    await t.service.jobs.runDue();
    assert.equal(await leftOn(host.name), 0);
  });

  it('an image that does not exist, or a reserved port already taken, fails the deployment with the reason and leaves no container', TEST_TIMEOUT, async () => {
    const host = await addHost(deps(), { kind: 'socket', path: podman.socketPath });
    const missing = await seedVersion(call, { kind: 'Match', sockets: 2, extra: { ...ECHO_VERSION, docker_image: 'no-such-image', docker_tag: 'nope' } });
    const bad = await addContainerDeployment(deps(), { orgId, app: missing.app, version: missing.version, host });
    const taken = await freeHostPort();
    const squatter = net.createServer().listen(taken, '127.0.0.1');
    try {
      const clash = await addContainerDeployment(deps(), { orgId, app, version, host, externalPorts: [await freeHostPort(), taken] });
      await t.service.jobs.runDue();
      await untilStatus(bad.requestId, DeploymentStatus.error);
      assert.match((await deploymentNow(deps(), bad.requestId)).errorDetail ?? '', /localhost\/no-such-image:nope could not be pulled/);
      await untilStatus(clash.requestId, DeploymentStatus.error);
      assert.match((await deploymentNow(deps(), clash.requestId)).errorDetail ?? '', /could not start|refused/);
      await t.service.jobs.runDue();
      assert.equal(await leftOn(host.name), 0);
    } finally {
      squatter.close();
    }
  });

  it('reconciliation removes orphans, fails deployments whose container vanished, and keeps the rest', TEST_TIMEOUT, async () => {
    const host = await addHost(deps(), { kind: 'socket', path: podman.socketPath });
    const kept = await addContainerDeployment(deps(), { orgId, app, version, host });
    const vanishing = await addContainerDeployment(deps(), { orgId, app, version, host });
    await t.service.jobs.runDue();
    await untilStatus(kept.requestId, DeploymentStatus.ready);
    await untilStatus(vanishing.requestId, DeploymentStatus.ready);
    const orphan = await podman.docker.createContainer({
      Image: ECHO_IMAGE, name: 'rallypoint-0rphan0rphan',
      Labels: { [LABELS.marker]: 'true', [LABELS.host]: host.name, [LABELS.requestId]: '0rphan0rphan' },
    });
    await orphan.start();
    const [gone] = await podman.containersLabelled(`${LABELS.requestId}=${vanishing.requestId}`);
    await podman.docker.getContainer(gone!.Id).remove({ force: true });
    // What a restarted Rallypoint does first, and what the periodic job does.
    await provider().reconcileHosts();
    await untilStatus(vanishing.requestId, DeploymentStatus.error);
    assert.match((await deploymentNow(deps(), vanishing.requestId)).errorDetail ?? '', /removed|vanished/);
    assert.equal(await statusOf(kept.requestId), DeploymentStatus.ready);
    const left = await podman.containersLabelled(`${LABELS.host}=${host.name}`);
    assert.deepEqual(left.map((c) => c.Labels[LABELS.requestId]), [kept.requestId]);
    assert.equal((await call('DELETE', `/v1/stop/${kept.requestId}`)).status, 200);
    await t.service.jobs.runDue();
    assert.equal(await leftOn(host.name), 0);
  });

  it('a host whose engine does not answer is marked down, its deployments fail, and it comes back when it answers', TEST_TIMEOUT, async () => {
    const host = await addHost(deps(), { kind: 'socket', path: `${podman.socketPath}.missing` });
    const stranded = await addContainerDeployment(deps(), { orgId, app, version, host });
    await t.service.jobs.runDue();
    await untilStatus(stranded.requestId, DeploymentStatus.error);
    assert.match((await deploymentNow(deps(), stranded.requestId)).errorDetail ?? '', /ENOENT|did not answer/);
    await provider().reconcileHosts();
    const down = await selectHostById(deps().db, host.id);
    assert.equal(down?.state, 'down');
    assert.match(down?.stateDetail ?? '', /did not answer/);
    await deps().db.query('UPDATE hosts SET endpoint = $2 WHERE id = $1', [host.id, JSON.stringify({ kind: 'socket', path: podman.socketPath })]);
    await provider().reconcileHosts();
    assert.equal((await selectHostById(deps().db, host.id))?.state, 'active');
    assert.equal(await leftOn(host.name), 0);
  });
});
