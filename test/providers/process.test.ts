import { after, before, describe, eventually, it } from '../support/node-test.js';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { client, seedVersion, startTestService, type TestService } from '../support/harness.js';
import { noGeo } from '../../src/app/deps.js';
import { updateDeploymentProviderData } from '../../src/db/queries/deployments.js';
import { splitArguments } from '../../src/providers/process/arguments.js';
import { deploymentNow, ECHO_PORTS, tcpExchange, udpExchange } from '../support/docker-fixtures.js';

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('process provider', () => {
  let t: TestService;
  let call: ReturnType<typeof client>;
  let app: string;
  let version: string;
  const pids: number[] = [];

  before(async () => {
    t = await startTestService({
      geo: noGeo,
      env: {
        PROVIDERS: 'registered,process',
        PROCESS_UDP_READY_MS: '200',
        PROCESS_LOG_DIR: mkdtempSync(join(tmpdir(), 'rp-proc-')),
      },
    });
    call = client(t.url, t.key);
    ({ app, version } = await seedVersion(call, {
      kind: 'Match',
      sockets: 2,
      autodeploy: true,
      extra: {
        command: 'node',
        arguments: 'examples/echo-server/server.mjs',
        ports: ECHO_PORTS,
        termination_grace_period_seconds: 5,
      },
    }));
  });
  after(async () => {
    await t.close();
    for (const pid of pids) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
  });

  const pidOf = async (requestId: string) => {
    const pid = (await deploymentNow(t.service.deps, requestId)).providerData['pid'];
    assert.equal(typeof pid, 'number', 'the pid is stored in provider_data');
    pids.push(pid as number);
    return pid as number;
  };
  const statusOf = async (requestId: string) =>
    (await call('GET', `/v1/status/${requestId}`)).body.current_status as string;

  it('autodeploys the example server, turns the session Ready and echoes on the reported ports', async () => {
    const created = await call('POST', '/v1/session', { app_name: app, version_name: version, ip_list: ['1.2.3.4'] });
    assert.equal(created.status, 200);
    const waiting = await call('GET', `/v1/session/${created.body.session_id}`);
    assert.equal(waiting.body.status, 'Waiting');
    assert.equal(waiting.body.linked, true);
    assert.equal(waiting.body.ready, false);
    await t.service.jobs.runDue();
    const ready = await eventually('session Ready', async () => {
      const got = await call('GET', `/v1/session/${created.body.session_id}`);
      return got.body.status === 'Ready' ? got.body : undefined;
    });
    assert.equal(ready.ready, true);
    assert.equal(ready.deployment.public_ip, '127.0.0.1');
    const ports = ready.deployment.ports;
    assert.equal(ports.game.protocol, 'UDP');
    assert.equal(ports.control.protocol, 'TCP');
    assert.notEqual(ports.game.external, 7777);
    assert.equal(await udpExchange(ports.game.external, 'hello over udp'), 'hello over udp');
    assert.equal(await tcpExchange(ports.control.external, 'hello over tcp\n'), 'hello over tcp\n');

    // The process dies: the deployment fails and its sessions follow.
    const requestId = created.body.deployment_request_id as string;
    process.kill(await pidOf(requestId), 'SIGKILL');
    assert.equal(
      await eventually('deployment error', async () =>
        (await statusOf(requestId)) === 'Status.ERROR' ? true : undefined,
      ),
      true,
    );
    const failed = await call('GET', `/v1/session/${created.body.session_id}`);
    assert.equal(failed.body.status, 'Error');
    assert.equal(failed.body.ready, false);
  });

  it('POST /v1/deploy starts a process and DELETE /v1/stop ends it', async () => {
    const deployed = await call('POST', '/v1/deploy', { app_name: app, version_name: version, ip_list: ['1.2.3.4'] });
    assert.equal(deployed.status, 200);
    assert.equal(deployed.body.city, 'Local');
    const requestId = deployed.body.request_id as string;
    await t.service.jobs.runDue();
    await eventually('deployment ready', async () =>
      (await statusOf(requestId)) === 'Status.READY' ? true : undefined,
    );
    const pid = await pidOf(requestId);
    assert.equal(isAlive(pid), true);
    const stopped = await call('DELETE', `/v1/stop/${requestId}`);
    assert.equal(stopped.status, 200);
    await t.service.jobs.runDue();
    assert.equal(isAlive(pid), false, 'the stop job waited for the process to exit');
    assert.equal(await statusOf(requestId), 'Status.TERMINATED');
    assert.equal((await call('DELETE', `/v1/stop/${requestId}`)).status, 410);
  });

  it('a game server stops itself through ARBITRIUM_DELETE_URL; a wrong token is refused', async () => {
    const deployed = await call('POST', '/v1/deploy', { app_name: app, version_name: version });
    const requestId = deployed.body.request_id as string;
    await t.service.jobs.runDue();
    await eventually('deployment ready', async () =>
      (await statusOf(requestId)) === 'Status.READY' ? true : undefined,
    );
    const pid = await pidOf(requestId);
    const forged = await client(t.url, undefined)('DELETE', `/v1/self/stop/${requestId}`, undefined, {
      authorization: 'not-the-token',
    });
    assert.equal(forged.status, 401);
    assert.equal(forged.body.code, 'UNAUTHORIZED');
    assert.equal(await statusOf(requestId), 'Status.READY');
    const status = await call('GET', `/v1/status/${requestId}`);
    await tcpExchange(status.body.ports.control.external, 'quit\n');
    await eventually('self-stop', async () =>
      (await statusOf(requestId)) === 'Status.TERMINATING' ? true : undefined,
    );
    await t.service.jobs.runDue();
    assert.equal(isAlive(pid), false);
    assert.equal(await statusOf(requestId), 'Status.TERMINATED');
  });

  it('a game server reads its Edgegap environment and its context; its owner reads its output', async () => {
    const deployed = await call('POST', '/v1/deploy', {
      app_name: app,
      version_name: version,
      tags: ['blue'],
      env_vars: [{ key: 'ARBITRIUM_PUBLIC_IP', value: 'forged' }],
    });
    const requestId = deployed.body.request_id as string;
    await t.service.jobs.runDue();
    await eventually('deployment ready', async () =>
      (await statusOf(requestId)) === 'Status.READY' ? true : undefined,
    );
    const status = await call('GET', `/v1/status/${requestId}`);
    const control = status.body.ports.control.external as number;
    const env = JSON.parse(await tcpExchange(control, 'env'));
    assert.equal(env.ARBITRIUM_REQUEST_ID, requestId);
    assert.equal(env.ARBITRIUM_PUBLIC_IP, '127.0.0.1');
    assert.equal(env.ARBITRIUM_DEPLOYMENT_TAGS, 'blue');
    assert.equal(JSON.parse(env.ARBITRIUM_PORTS_MAPPING).ports.control.external, control);
    assert.equal(JSON.parse(env.ARBITRIUM_DEPLOYMENT_LOCATION).city, 'Local');
    assert.match(env.ARBITRIUM_DELETE_URL, new RegExp(`/v1/self/stop/${requestId}/\\d+$`));
    const context = JSON.parse(await tcpExchange(control, 'context'));
    assert.equal(context.status, 200);
    assert.equal(context.body.request_id, requestId);
    assert.equal(context.body.status, 'Status.READY');
    assert.equal(context.body.ports.control.external, control);
    // The context token is worth nothing for another deployment, nor without its number.
    const anonymous = client(t.url, undefined);
    const contextPath = new URL(env.ARBITRIUM_CONTEXT_URL).pathname;
    assert.equal(
      (await anonymous('GET', contextPath, undefined, { authorization: env.ARBITRIUM_CONTEXT_TOKEN })).status,
      200,
    );
    assert.equal(
      (
        await anonymous('GET', contextPath.replace(/\d+$/, '1'), undefined, {
          authorization: env.ARBITRIUM_CONTEXT_TOKEN,
        })
      ).status,
      401,
    );
    assert.equal(
      (await anonymous('GET', contextPath, undefined, { authorization: env.ARBITRIUM_DELETE_TOKEN })).status,
      401,
    );
    assert.equal(
      (
        await anonymous('GET', contextPath.replace(/\d+$/, 'abc'), undefined, {
          authorization: env.ARBITRIUM_CONTEXT_TOKEN,
        })
      ).status,
      400,
    );
    const logs = await call('GET', `/v1/deployment/${requestId}/container-logs`);
    assert.equal(logs.status, 200);
    assert.match(logs.body.logs, /TCP echo on/);
    const metrics = await call('GET', `/v1/metrics/deployment/${requestId}`);
    assert.equal(metrics.status, 400);
    assert.equal(metrics.body.code, 'DEPLOYMENT_DATA_UNAVAILABLE');
    // The self-stop number must be the one handed out; the (ext) path without it takes the token alone.
    const deletePath = new URL(env.ARBITRIUM_DELETE_URL).pathname;
    assert.equal(
      (
        await anonymous('DELETE', deletePath.replace(/\d+$/, '1'), undefined, {
          authorization: env.ARBITRIUM_DELETE_TOKEN,
        })
      ).status,
      401,
    );
    assert.equal(
      (
        await anonymous('DELETE', `/v1/self/stop/${requestId}`, undefined, {
          authorization: `token ${env.ARBITRIUM_DELETE_TOKEN}`,
        })
      ).status,
      200,
    );
    const again = await anonymous('DELETE', deletePath, undefined, { authorization: env.ARBITRIUM_DELETE_TOKEN });
    assert.equal(again.status, 410);
    assert.equal(again.body.code, 'ALREADY_TERMINATING');
    await t.service.jobs.runDue();
    assert.equal(await statusOf(requestId), 'Status.TERMINATED');
    // Output written on another server cannot be read from this one: a 4xx that says why.
    await updateDeploymentProviderData(t.service.deps.db, (await deploymentNow(t.service.deps, requestId)).id, {
      providerData: { hostname: 'elsewhere' },
    });
    const elsewhere = await call('GET', `/v1/deployment/${requestId}/container-logs`);
    assert.equal(elsewhere.status, 400);
    assert.equal(elsewhere.body.code, 'DEPLOYMENT_DATA_UNAVAILABLE');
    assert.match(elsewhere.body.message, /host elsewhere/);
  });

  it('a version without a command is not autodeployed: the session is Unprocessable and says why', async () => {
    const bare = await seedVersion(call, { kind: 'Match', sockets: 2, autodeploy: true });
    const created = await call('POST', '/v1/session', { app_name: bare.app, ip_list: ['1.2.3.4'] });
    await t.service.jobs.runDue();
    const got = await call('GET', `/v1/session/${created.body.session_id}`);
    assert.equal(got.body.status, 'Unprocessable');
    assert.equal(got.body.ready, false);
    assert.equal(got.body.linked, false);
    assert.match(got.body.error, /No provider can start a deployment.*command/);
    const deploy = await call('POST', '/v1/deploy', { app_name: bare.app });
    assert.equal(deploy.status, 422);
    assert.equal(deploy.body.code, 'NO_PROVIDER');
  });
});

describe('process arguments', () => {
  it('splits like a shell, without one', () => {
    assert.deepEqual(splitArguments(`a "b c" 'd "e"' f\\ g "h\\"i"`), ['a', 'b c', 'd "e"', 'f g', 'h"i']);
    assert.deepEqual(splitArguments('["x y", "z"]'), ['x y', 'z']);
    assert.deepEqual(splitArguments('  '), []);
    assert.throws(() => splitArguments('"open'));
  });
});

describe('process provider after a restart', () => {
  it('fails deployments whose process is gone and adopts the ones still running', async () => {
    const env = { PROVIDERS: 'registered,process', PROCESS_UDP_READY_MS: '200', PROCESS_KEEP_ON_SHUTDOWN: 'true' };
    const first = await startTestService({ env, geo: noGeo });
    const pids: number[] = [];
    let second: TestService | undefined;
    try {
      const call = client(first.url, first.key);
      const { app, version } = await seedVersion(call, {
        kind: 'Match',
        sockets: 2,
        autodeploy: true,
        extra: { command: 'node', arguments: 'examples/echo-server/server.mjs', ports: ECHO_PORTS },
      });
      const ids: string[] = [];
      for (let i = 0; i < 2; i++)
        ids.push((await call('POST', '/v1/deploy', { app_name: app, version_name: version })).body.request_id);
      await first.service.jobs.runDue();
      for (const id of ids) {
        await eventually('ready', async () =>
          (await call('GET', `/v1/status/${id}`)).body.current_status === 'Status.READY' ? true : undefined,
        );
        pids.push((await deploymentNow(first.service.deps, id)).providerData['pid'] as number);
      }
      await first.close();
      assert.equal(isAlive(pids[0]!), true, 'PROCESS_KEEP_ON_SHUTDOWN leaves game servers running');
      process.kill(pids[0]!, 'SIGKILL');
      await eventually('process gone', async () => (isAlive(pids[0]!) ? undefined : true));

      second = await startTestService({ env, geo: noGeo, databaseUrl: first.databaseUrl });
      const call2 = client(second.url, second.key);
      const gone = await call2('GET', `/v1/status/${ids[0]}`);
      assert.equal(gone.body.current_status, 'Status.ERROR', 'reconciled at start');
      assert.equal((await call2('GET', `/v1/status/${ids[1]}`)).body.current_status, 'Status.READY', 'adopted');
      process.kill(pids[1]!, 'SIGKILL');
      await eventually('adopted process death seen', async () =>
        (await call2('GET', `/v1/status/${ids[1]}`)).body.current_status === 'Status.ERROR' ? true : undefined,
      );
    } finally {
      await second?.close();
      for (const pid of pids) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
    }
  });
});
