/**
 * The docker provider against a real engine (Podman's Docker-compatible service, started here):
 * containers on a host with the ports the fleet reserved, their environment, context and
 * self-stop, failures, reconciliation, and an unreachable host. Every test ends by checking
 * that no container of its host is left on the engine.
 */
import { after, before, describe, eventually, it } from '../support/node-test.js';
import assert from 'node:assert/strict';
import net from 'node:net';
import { noGeo } from '../../src/app/deps.js';
import { authenticate } from '../../src/app/keys.js';
import { selectHostById } from '../../src/db/queries/hosts.js';
import type { DockerProvider } from '../../src/providers/docker/docker-provider.js';
import { LABELS } from '../../src/providers/docker/container-spec.js';
import { issueGameServerAccess } from '../../src/providers/game-server-env.js';
import { DeploymentStatus } from '../../src/domain/session-rules.js';
import { client, FakeClock, seedVersion, startTestService, type TestService } from '../support/harness.js';
import { ECHO_IMAGE, startPodman, type TestPodman } from '../support/podman.js';
import {
  addContainerDeployment,
  addHost,
  deploymentNow,
  ECHO_VERSION,
  freeHostPort,
  tcpExchange,
  udpExchange,
} from '../support/docker-fixtures.js';

const TEST_TIMEOUT = { timeout: 120_000 };

let podman: TestPodman;
before(
  async () => {
    podman = await startPodman();
  },
  { timeout: 180_000 },
);
after(() => podman?.close());

describe('docker provider on a real engine', { timeout: 600_000 }, () => {
  let t: TestService;
  let call: ReturnType<typeof client>;
  let orgId: number;
  let app: string;
  let version: string;

  before(async () => {
    t = await startTestService({
      geo: noGeo,
      listenHost: '0.0.0.0',
      env: {
        PROVIDERS: 'registered,docker',
        LOG_LEVEL: process.env['TEST_LOG_LEVEL'] ?? 'silent',
        DOCKER_UDP_READY_MS: '300',
        DOCKER_READY_TIMEOUT_MS: '30000',
        // Containers reach the service on the engine's bridge gateway, at the port it listens on.
        DOCKER_CALLBACK_URL: 'http://host.containers.internal:0',
        DOCKER_HOST_DOWN_AFTER_MS: '0',
        DOCKER_ENGINE_TIMEOUT_MS: '3000',
      },
    });
    call = client(t.url, t.key);
    orgId = (await authenticate(t.service.deps.db, t.key))!;
    ({ app, version } = await seedVersion(call, { kind: 'Match', sockets: 2, extra: ECHO_VERSION }));
  });
  after(() => t?.close());

  const deps = () => t.service.deps;
  const provider = () => deps().providers.get('docker') as DockerProvider;
  const statusOf = async (requestId: string) => (await deploymentNow(deps(), requestId)).status;
  const untilStatus = (requestId: string, status: string) =>
    eventually(`deployment ${requestId} ${status}`, async () =>
      (await statusOf(requestId)) === status ? true : undefined,
    );
  const leftOn = async (hostName: string) => (await podman.containersLabelled(`${LABELS.host}=${hostName}`)).length;

  it(
    'runs the image on the host with the reserved ports; the game server talks, reads its context and stops itself',
    TEST_TIMEOUT,
    async () => {
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
      assert.deepEqual(JSON.parse(env.ARBITRIUM_PORTS_MAPPING).ports.game, {
        name: 'game',
        internal: 7777,
        external: game.external,
        protocol: 'UDP',
        link: game.link,
      });
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
    },
  );

  it('a killed container turns its deployment ERROR and its sessions Error', TEST_TIMEOUT, async () => {
    const host = await addHost(deps(), { kind: 'socket', path: podman.socketPath });
    const deployment = await addContainerDeployment(deps(), { orgId, app, version, host });
    await t.service.jobs.runDue();
    await untilStatus(deployment.requestId, DeploymentStatus.ready);
    const session = await call('POST', '/v1/session', {
      app_name: app,
      version_name: version,
      ip_list: ['1.2.3.4'],
      deployment_request_id: deployment.requestId,
    });
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

  it(
    'an image that does not exist, or a reserved port already taken, fails the deployment with the reason and leaves no container',
    TEST_TIMEOUT,
    async () => {
      const host = await addHost(deps(), { kind: 'socket', path: podman.socketPath });
      const missing = await seedVersion(call, {
        kind: 'Match',
        sockets: 2,
        extra: {
          ...ECHO_VERSION,
          docker_image: 'no-such-image',
          docker_tag: 'nope',
          private_username: 'studio',
          private_token: 'registry-secret-4242',
        },
      });
      const bad = await addContainerDeployment(deps(), { orgId, app: missing.app, version: missing.version, host });
      const taken = await freeHostPort();
      const squatter = net.createServer().listen(taken, '127.0.0.1');
      try {
        const clash = await addContainerDeployment(deps(), {
          orgId,
          app,
          version,
          host,
          externalPorts: [await freeHostPort(), taken],
        });
        await t.service.jobs.runDue();
        await untilStatus(bad.requestId, DeploymentStatus.error);
        assert.match(
          (await deploymentNow(deps(), bad.requestId)).errorDetail ?? '',
          /localhost\/no-such-image:nope could not be pulled/,
        );
        const status = await call('GET', `/v1/status/${bad.requestId}`);
        assert.match(status.body.error_detail, /could not be pulled/);
        assert.ok(
          !JSON.stringify(status.body).includes('registry-secret-4242'),
          'the registry token never reaches an answer',
        );
        await untilStatus(clash.requestId, DeploymentStatus.error);
        assert.match((await deploymentNow(deps(), clash.requestId)).errorDetail ?? '', /could not start|refused/);
        await t.service.jobs.runDue();
        assert.equal(await leftOn(host.name), 0);
      } finally {
        squatter.close();
      }
    },
  );

  it(
    'reconciliation removes orphans, fails deployments whose container vanished, and keeps the rest',
    TEST_TIMEOUT,
    async () => {
      const host = await addHost(deps(), { kind: 'socket', path: podman.socketPath });
      const kept = await addContainerDeployment(deps(), { orgId, app, version, host });
      const vanishing = await addContainerDeployment(deps(), { orgId, app, version, host });
      await t.service.jobs.runDue();
      await untilStatus(kept.requestId, DeploymentStatus.ready);
      await untilStatus(vanishing.requestId, DeploymentStatus.ready);
      const orphan = await podman.docker.createContainer({
        Image: ECHO_IMAGE,
        name: 'rallypoint-0rphan0rphan',
        Labels: { [LABELS.marker]: 'true', [LABELS.host]: host.name, [LABELS.requestId]: '0rphan0rphan' },
      });
      await orphan.start();
      const [gone] = await podman.containersLabelled(`${LABELS.requestId}=${vanishing.requestId}`);
      await podman.docker.getContainer(gone!.Id).remove({ force: true });
      // What a restarted Rallypoint does first, and what the periodic job does.
      await provider().reconcileHosts();
      await untilStatus(vanishing.requestId, DeploymentStatus.error);
      // The host's event stream may see the forced removal's kill first: then the exit is the reason.
      assert.match(
        (await deploymentNow(deps(), vanishing.requestId)).errorDetail ?? '',
        /removed|vanished|exited with code 137/,
      );
      assert.equal(await statusOf(kept.requestId), DeploymentStatus.ready);
      const left = await podman.containersLabelled(`${LABELS.host}=${host.name}`);
      assert.deepEqual(
        left.map((c) => c.Labels[LABELS.requestId]),
        [kept.requestId],
      );
      assert.equal((await call('DELETE', `/v1/stop/${kept.requestId}`)).status, 200);
      await t.service.jobs.runDue();
      assert.equal(await leftOn(host.name), 0);
    },
  );

  it(
    'a start job run again adopts the container an earlier attempt left running, instead of starting a second, and its tokens still work',
    TEST_TIMEOUT,
    async () => {
      const host = await addHost(deps(), { kind: 'socket', path: podman.socketPath });
      const deployment = await addContainerDeployment(deps(), { orgId, app, version, host });
      const control = deployment.ports['control']!;
      const mapping = JSON.stringify({
        ports: { control: { name: 'control', internal: 7778, external: control.external, protocol: 'TCP' } },
      });
      // The earlier attempt's credentials: the job run again issues others, which this container never saw.
      const { access } = issueGameServerAccess();
      const earlier = await podman.docker.createContainer({
        Image: ECHO_IMAGE,
        name: `rallypoint-${deployment.requestId}`,
        Env: [
          `ARBITRIUM_PORTS_MAPPING=${mapping}`,
          `ARBITRIUM_CONTEXT_TOKEN=${access.contextToken}`,
          `ARBITRIUM_DELETE_TOKEN=${access.deleteToken}`,
          `ARBITRIUM_CONTEXT_URL=${t.url}/v1/context/${deployment.requestId}/${access.securityNumber}`,
          `ARBITRIUM_DELETE_URL=${t.url}/v1/self/stop/${deployment.requestId}/${access.accessPointId}`,
        ],
        Labels: { [LABELS.marker]: 'true', [LABELS.host]: host.name, [LABELS.requestId]: deployment.requestId },
        ExposedPorts: { '7778/tcp': {} },
        HostConfig: { PortBindings: { '7778/tcp': [{ HostIp: '127.0.0.1', HostPort: String(control.external) }] } },
      });
      await earlier.start();
      await t.service.jobs.runDue();
      await untilStatus(deployment.requestId, DeploymentStatus.ready);
      const running = await podman.containersLabelled(`${LABELS.requestId}=${deployment.requestId}`);
      assert.deepEqual(
        running.map((c) => c.Id),
        [earlier.id],
      );
      assert.equal((await deploymentNow(deps(), deployment.requestId)).providerData['containerId'], earlier.id);
      const context = await fetch(`${t.url}/v1/context/${deployment.requestId}/${access.securityNumber}`, {
        headers: { authorization: access.contextToken },
      });
      assert.equal(context.status, 200);
      assert.equal((await call('DELETE', `/v1/stop/${deployment.requestId}`)).status, 200);
      await t.service.jobs.runDue();
      assert.equal(await leftOn(host.name), 0);
    },
  );

  it(
    'a host whose engine does not answer is marked down, its deployments fail, and it comes back when it answers',
    TEST_TIMEOUT,
    async () => {
      const host = await addHost(deps(), { kind: 'socket', path: `${podman.socketPath}.missing` });
      const stranded = await addContainerDeployment(deps(), { orgId, app, version, host });
      await t.service.jobs.runDue();
      await untilStatus(stranded.requestId, DeploymentStatus.error);
      assert.match((await deploymentNow(deps(), stranded.requestId)).errorDetail ?? '', /ENOENT|did not answer/);
      await provider().reconcileHosts();
      const down = await selectHostById(deps().db, host.id);
      assert.equal(down?.state, 'down');
      assert.match(down?.stateDetail ?? '', /did not answer/);
      await deps().db.query('UPDATE hosts SET endpoint = $2 WHERE id = $1', [
        host.id,
        JSON.stringify({ kind: 'socket', path: podman.socketPath }),
      ]);
      await provider().reconcileHosts();
      assert.equal((await selectHostById(deps().db, host.id))?.state, 'active');
      assert.equal(await leftOn(host.name), 0);
    },
  );
});

describe('sessions on containers, scheduled by the fleet', { timeout: 600_000 }, () => {
  let t: TestService;
  let call: ReturnType<typeof client>;
  const clock = new FakeClock(new Date());

  before(async () => {
    t = await startTestService({
      geo: noGeo,
      listenHost: '0.0.0.0',
      clock,
      env: {
        PROVIDERS: 'registered,docker',
        LOG_LEVEL: process.env['TEST_LOG_LEVEL'] ?? 'silent',
        DOCKER_UDP_READY_MS: '300',
        DOCKER_CALLBACK_URL: 'http://host.containers.internal:0',
      },
    });
    call = client(t.url, t.key);
  });
  after(() => t?.close());

  const deps = () => t.service.deps;
  const statusOf = async (requestId: string) => (await deploymentNow(deps(), requestId)).status;
  const leftOn = async (hostName: string) => (await podman.containersLabelled(`${LABELS.host}=${hostName}`)).length;

  it(
    'a session with no free server starts a container, turns Ready with its ports, plays, and ends when the server stops itself',
    TEST_TIMEOUT,
    async () => {
      const host = await addHost(
        deps(),
        { kind: 'socket', path: podman.socketPath },
        { portMin: 43100, portMax: 43199 },
      );
      const { app } = await seedVersion(call, { kind: 'Seat', sockets: 4, autodeploy: true, extra: ECHO_VERSION });
      const created = await call('POST', '/v1/session', { app_name: app, ip_list: ['1.2.3.4'] });
      assert.equal(created.status, 200);
      const requestId = created.body.deployment_request_id as string;
      assert.equal((await call('GET', `/v1/session/${created.body.session_id}`)).body.status, 'Waiting');
      await t.service.jobs.runDue();
      const ready = await eventually('session Ready', async () => {
        const got = await call('GET', `/v1/session/${created.body.session_id}`);
        return got.body.status === 'Ready' ? got.body : undefined;
      });
      assert.equal(ready.deployment.public_ip, '127.0.0.1');
      assert.equal(ready.deployment.location.city, 'Montreal');
      const { game, control } = ready.deployment.ports;
      assert.ok(game.external >= 43100 && game.external <= 43199, JSON.stringify(game));
      assert.equal(game.internal, 7777);
      assert.equal(await udpExchange(game.external, 'a datagram from a player'), 'a datagram from a player');
      assert.equal(await tcpExchange(control.external, 'a stream from a player'), 'a stream from a player');
      const env = JSON.parse(await udpExchange(game.external, 'env'));
      assert.equal(env.ARBITRIUM_REQUEST_ID, requestId);
      assert.equal(JSON.parse(env.ARBITRIUM_PORTS_MAPPING).ports.control.external, control.external);
      const context = JSON.parse(await tcpExchange(control.external, 'context'));
      assert.equal(context.body.sockets_usage, 1);
      assert.equal((await selectHostById(deps().db, host.id))?.usedPorts, 2);

      assert.equal(await udpExchange(game.external, 'stop'), 'stop 200');
      const ended = await eventually('session ended', async () => {
        const got = await call('GET', `/v1/session/${created.body.session_id}`);
        return got.body.status === 'Error' ? got.body : undefined;
      });
      assert.equal(ended.ready, false);
      await t.service.jobs.runDue();
      assert.equal(await statusOf(requestId), DeploymentStatus.terminated);
      assert.equal(await leftOn(host.name), 0);
      assert.equal((await selectHostById(deps().db, host.id))?.usedPorts, 0, 'the stop gave the ports back');
    },
  );

  it('DELETE /v1/stop, bulk-stop and empty_ttl stop containers through the stop job', TEST_TIMEOUT, async () => {
    const host = await addHost(deps(), { kind: 'socket', path: podman.socketPath }, { portMin: 43200, portMax: 43299 });
    const { app } = await seedVersion(call, {
      kind: 'Match',
      sockets: 2,
      extra: { ...ECHO_VERSION, session_config: { kind: 'Match', sockets: 2, empty_ttl: 1 } },
    });
    const deploy = async (tags: string[]) => {
      const answer = await call('POST', '/v1/deploy', { app_name: app, tags });
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      return answer.body.request_id as string;
    };
    const stopped = await deploy(['one']);
    const bulk = await deploy(['bulk']);
    await t.service.jobs.runDue();
    for (const id of [stopped, bulk]) {
      await eventually(`${id} ready`, async () => ((await statusOf(id)) === DeploymentStatus.ready ? true : undefined));
    }
    assert.equal((await call('DELETE', `/v1/stop/${stopped}`)).status, 200);
    const bulkStop = await call('POST', '/v1/deployments/bulk-stop', {
      filters: [{ field: 'deployment_tags', filter_type: 'any', values: ['bulk'] }],
    });
    assert.deepEqual(bulkStop.body.processable, [{ request_id: bulk }]);
    await t.service.jobs.runDue();
    assert.equal(await leftOn(host.name), 0);

    const idle = await deploy([]);
    await t.service.jobs.runDue();
    await eventually('idle ready', async () => ((await statusOf(idle)) === DeploymentStatus.ready ? true : undefined));
    clock.advance(3 * 60_000);
    // The sweep ends it; the stop job it writes runs on a later pass.
    await eventually('idle stopped', async () => {
      await t.service.jobs.runDue();
      return (await statusOf(idle)) === DeploymentStatus.terminated ? true : undefined;
    });
    assert.equal(await leftOn(host.name), 0);
  });

  it(
    'a host without enough free ports refuses the deploy with a 4xx that says why, and starts nothing',
    TEST_TIMEOUT,
    async () => {
      const host = await addHost(
        deps(),
        { kind: 'socket', path: podman.socketPath },
        { portMin: 43300, portMax: 43300 },
      );
      await deps().db.query(`UPDATE hosts SET state = 'draining' WHERE id <> $1`, [host.id]);
      const { app } = await seedVersion(call, { kind: 'Match', sockets: 2, extra: ECHO_VERSION });
      const answer = await call('POST', '/v1/deploy', { app_name: app });
      assert.ok(answer.status >= 400 && answer.status < 500, `${answer.status} ${JSON.stringify(answer.body)}`);
      assert.match(answer.body.message, /port/i);
      await t.service.jobs.runDue();
      assert.equal(await leftOn(host.name), 0);
    },
  );
});

describe('a restarted Rallypoint', { timeout: 600_000 }, () => {
  const env = {
    PROVIDERS: 'registered,docker',
    LOG_LEVEL: process.env['TEST_LOG_LEVEL'] ?? 'silent',
    DOCKER_UDP_READY_MS: '300',
    DOCKER_CALLBACK_URL: 'http://host.containers.internal:0',
  };

  it(
    'adopts the containers still running, removes the orphans, and watches the adopted ones',
    TEST_TIMEOUT,
    async () => {
      const first = await startTestService({ geo: noGeo, listenHost: '0.0.0.0', env });
      let second: TestService | undefined;
      try {
        const call = client(first.url, first.key);
        const orgId = (await authenticate(first.service.deps.db, first.key))!;
        const { app, version } = await seedVersion(call, { kind: 'Match', sockets: 2, extra: ECHO_VERSION });
        const host = await addHost(first.service.deps, { kind: 'socket', path: podman.socketPath });
        const running = await addContainerDeployment(first.service.deps, { orgId, app, version, host });
        await first.service.jobs.runDue();
        await eventually('ready', async () =>
          (await deploymentNow(first.service.deps, running.requestId)).status === DeploymentStatus.ready
            ? true
            : undefined,
        );
        await first.close();
        const orphan = await podman.docker.createContainer({
          Image: ECHO_IMAGE,
          name: `rallypoint-${running.requestId.slice(0, 6)}orphan`,
          Labels: {
            [LABELS.marker]: 'true',
            [LABELS.host]: host.name,
            [LABELS.requestId]: `${running.requestId.slice(0, 6)}orphan`,
          },
        });
        await orphan.start();

        second = await startTestService({ geo: noGeo, listenHost: '0.0.0.0', env, databaseUrl: first.databaseUrl });
        const deps = second.service.deps;
        const left = await podman.containersLabelled(`${LABELS.host}=${host.name}`);
        assert.deepEqual(
          left.map((c) => c.Labels[LABELS.requestId]),
          [running.requestId],
        );
        assert.equal((await deploymentNow(deps, running.requestId)).status, DeploymentStatus.ready);
        const port = running.ports['control']!.external;
        assert.equal(await tcpExchange(port, 'still here'), 'still here');
        // The restarted service watches the host's events again.
        await podman.docker.getContainer(left[0]!.Id).kill({ signal: 'SIGKILL' });
        await eventually('error', async () =>
          (await deploymentNow(deps, running.requestId)).status === DeploymentStatus.error ? true : undefined,
        );
        await second.service.jobs.runDue();
        assert.equal((await podman.containersLabelled(`${LABELS.host}=${host.name}`)).length, 0);
      } finally {
        await second?.close();
      }
    },
  );
});
