/**
 * The operator's log: a start-up summary, game servers starting and exiting, webhook deliveries
 * that die, at info or warn; health checks, scrapes and static files not logged per request.
 */
import { after, describe, eventually, it } from '../support/node-test.js';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { registerServer, seedVersion, startTestService, client, type TestService } from '../support/harness.js';
import { createTestDatabase } from '../support/harness.js';
import { spawnServer, stopAll, type ServerProcess } from '../support/processes.js';

const LEVEL = { debug: 20, info: 30, warn: 40 } as const;

describe('operator log', { timeout: 120_000 }, () => {
  let t: TestService | undefined;
  let servers: ServerProcess[] = [];
  after(async () => {
    await t?.close();
    await stopAll(servers);
  });

  it('logs game servers and dead webhook deliveries, and not health checks or static files', async () => {
    const lines: Array<Record<string, any>> = [];
    const stream = new PassThrough();
    let buffered = '';
    stream.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const parts = buffered.split('\n');
      buffered = parts.pop()!;
      for (const part of parts) if (part.trim()) lines.push(JSON.parse(part));
    });
    t = await startTestService({ env: { LOG_LEVEL: 'info', WEBHOOK_MAX_AGE_MS: '0' }, server: { logStream: stream } });
    const call = client(t.url, t.key);
    for (const path of ['/healthz', '/readyz', '/dashboard', '/v1/apps']) await call('GET', path);
    await eventually('the /v1/apps request line', () =>
      lines.find((l) => l['msg'] === 'request' && l['route'] === '/v1/apps'),
    );
    for (const route of ['/healthz', '/readyz', '/dashboard'])
      assert.ok(!lines.some((l) => l['route'] === route), `${route} is not logged at info`);

    const { app, version } = await seedVersion(call);
    const requestId = await registerServer(call, { app, version });
    const started = await eventually('game server started', () =>
      lines.find((l) => l['msg'] === 'game server started' && l['request_id'] === requestId),
    );
    assert.equal(started['level'], LEVEL.info);
    assert.equal(started['provider'], 'registered');
    assert.equal((await call('DELETE', `/v1/stop/${requestId}`)).status, 200);
    await t.service.jobs.runDue();
    const exited = await eventually('game server exited', () =>
      lines.find((l) => l['msg'] === 'game server exited' && l['request_id'] === requestId),
    );
    assert.equal(exited['level'], LEVEL.info);

    const requestId2 = await registerServer(call, { app, version, ip: '203.0.113.11' });
    const session = await call('POST', '/v1/session', {
      app_name: app,
      ip_list: ['1.2.3.4'],
      deployment_request_id: requestId2,
      webhook_url: 'http://127.0.0.1:9/hook',
    });
    assert.equal(session.status, 200, JSON.stringify(session.body));
    await t.service.webhooks.runDue();
    const dead = await eventually('a dead delivery line', () =>
      lines.find((l) => l['msg']?.startsWith('webhook delivery dead')),
    );
    assert.equal(dead['level'], LEVEL.warn);
    assert.match(dead['delivery_id'], /\S+/);
    assert.match(dead['error'], /^gave up after 1 attempt; last: /);
  });

  it('prints a start-up summary: database, providers, listen address, migrations applied', async () => {
    const server = await spawnServer({ databaseUrl: await createTestDatabase(), env: { LOG_LEVEL: 'info' } });
    servers = [server];
    const summary = await eventually('the summary line', () =>
      server
        .stdout()
        .split('\n')
        .filter(Boolean)
        .map((l) => {
          try {
            return JSON.parse(l);
          } catch {
            return {};
          }
        })
        .find(
          (l: Record<string, any>) => typeof l['msg'] === 'string' && l['msg'].startsWith('rallypoint listening on'),
        ),
    );
    assert.equal(summary['level'], LEVEL.info);
    assert.match(summary['database'], /^127\.0\.0\.1:\d+\/rp_test_/);
    assert.deepEqual(summary['providers'], ['registered']);
    assert.equal(summary['listen'], server.url);
    assert.ok(summary['migrations_applied'].includes('001-core'));
  });
});
