import { after, before, describe, eventually, it, LONG_TEST_MS } from '../support/node-test.js';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { client, createTestDatabase, registerServer, seedVersion } from '../support/harness.js';
import { spawnServer, stopAll, type ServerProcess } from '../support/processes.js';

/** A webhook receiver that records which sessions it was told about. */
async function startReceiver(): Promise<{ url: string; sessions: Set<string>; close(): Promise<void> }> {
  const sessions = new Set<string>();
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      try {
        sessions.add((JSON.parse(body) as { session_id: string }).session_id);
      } catch {
        /* not ours */
      }
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}/hook`, sessions, close: () => new Promise((r) => server.close(() => r())) };
}

describe('a server process killed with SIGKILL under load', () => {
  const processes: ServerProcess[] = [];
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  before(async () => {
    receiver = await startReceiver();
  });
  after(async () => {
    await stopAll(processes);
    await receiver.close();
  });

  it(
    'loses nothing it acknowledged, leaks no seat, and resumes pending webhooks after restart',
    { timeout: LONG_TEST_MS },
    async () => {
      const databaseUrl = await createTestDatabase();
      const key = `rp_crash_${Date.now()}`;
      const first = await spawnServer({ databaseUrl, key, env: { JOB_POLL_MS: '100' } });
      processes.push(first);
      const call = client(first.url, key);
      const { app } = await seedVersion(call, { sockets: 1_000_000 });
      await registerServer(call, { app, version: 'v1', sockets: 1_000_000 });

      /** session id → the users of its last acknowledged answer */
      const acknowledged = new Map<string, string[]>();
      let running = true;
      let n = 0;
      const loop = async () => {
        while (running) {
          n += 1;
          const ip = `10.1.${(n >> 8) & 255}.${n & 255}`;
          const created = await call('POST', '/v1/session', {
            app_name: app,
            ip_list: [ip],
            webhook_url: receiver.url,
          }).catch(() => undefined);
          if (created?.status !== 200) {
            await sleep(10);
            continue;
          }
          acknowledged.set(created.body.session_id, [ip]);
          const added = await call('PUT', `/v1/session/${created.body.session_id}/users`, {
            ip_list: [`10.2.${(n >> 8) & 255}.${n & 255}`],
          }).catch(() => undefined);
          if (added?.status === 200)
            acknowledged.set(
              created.body.session_id,
              added.body.session_users.map((u: { ip: string }) => u.ip),
            );
        }
      };
      const loops = Array.from({ length: 6 }, loop);
      // Killed once work is under way, however slowly a busy machine gets there.
      await eventually('20 sessions acknowledged under load', () => acknowledged.size >= 20, { withinMs: 120_000 });
      first.kill('SIGKILL');
      const ended = await first.exited;
      running = false;
      await Promise.all(loops);
      assert.equal(ended.signal, 'SIGKILL');

      const second = await spawnServer({ databaseUrl, key, env: { JOB_POLL_MS: '100' } });
      processes.push(second);
      const again = client(second.url, key);
      for (const [sessionId, users] of acknowledged) {
        const got = await again('GET', `/v1/session/${sessionId}`);
        assert.equal(got.status, 200, `acknowledged session ${sessionId} is gone`);
        const ips = got.body.session_users.map((u: { ip: string }) => u.ip);
        for (const ip of users) assert.ok(ips.includes(ip), `session ${sessionId} lost acknowledged user ${ip}`);
      }

      const db = new pg.Client({ connectionString: databaseUrl });
      await db.connect();
      try {
        const drift = await db.query(
          'SELECT d.request_id FROM deployments d WHERE d.sockets_usage <> (SELECT COALESCE(sum(seats), 0) FROM sessions WHERE deployment_id = d.id)',
        );
        assert.deepEqual(drift.rows, [], 'a seat leaked');
      } finally {
        await db.end();
      }

      // Every acknowledged session became Ready, so each is owed a webhook; the new process sends them.
      await eventually('every owed webhook', () => [...acknowledged.keys()].every((id) => receiver.sessions.has(id)), {
        withinMs: 120_000,
      }).catch(() => undefined);
      const missing = [...acknowledged.keys()].filter((id) => !receiver.sessions.has(id));
      assert.deepEqual(missing, [], `${missing.length} of ${acknowledged.size} webhooks never arrived`);
      console.log(
        `crash: ${acknowledged.size} sessions acknowledged before SIGKILL, all present with their users after restart`,
      );
    },
  );
});
