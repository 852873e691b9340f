import { after, before, describe, it } from '../support/node-test.js';
import assert from 'node:assert/strict';
import { Rallypoint } from '@rallypoint/sdk';
import { markDeploymentReady } from '../../src/app/deployment-lifecycle.js';
import { client, seedVersion, startTestService, type TestService } from '../support/harness.js';
import { createFakeProvider, type FakeProvider } from '../sdk/fake-provider.js';

describe('SDK waitForReady over the event stream', () => {
  let t: TestService;
  let provider: FakeProvider;
  let app: string;
  before(async () => {
    provider = createFakeProvider();
    t = await startTestService({ providers: [provider] });
    ({ app } = await seedVersion(client(t.url, t.key), { sockets: 4, autodeploy: true }));
  });
  after(() => t.close());

  // Four players fill a whole 4-seat server, so each session needs a new one (and waits for it).
  async function waitingSession(rp: Rallypoint): Promise<string> {
    const ip_list = ['4.4.4.1', '4.4.4.2', '4.4.4.3', '4.4.4.4'];
    const { session_id } = await rp.sessions.sessionPost({
      app_name: app,
      ip_list,
      location: { latitude: 45, longitude: -73 },
    });
    assert.equal((await rp.sessions.getSession(session_id)).status, 'Waiting');
    return session_id;
  }

  async function makeReady(): Promise<void> {
    await t.service.jobs.runDue();
    const started = provider.started.at(-1);
    assert.ok(started);
    await markDeploymentReady(t.service.deps, started.id);
  }

  it('re-reads the session when its event arrives instead of polling', async () => {
    const requested: string[] = [];
    const rp = new Rallypoint({
      baseUrl: t.url,
      apiKey: t.key,
      fetch: (input, init) => {
        requested.push(String(input));
        return fetch(input, init);
      },
    });
    const sessionId = await waitingSession(rp);
    const polls: string[] = [];
    // A poll interval far longer than the test: only the stream can end this wait in time.
    const ready = await rp.sessions.waitForReady(sessionId, {
      intervalMs: 3_600_000,
      timeoutMs: 60_000,
      onPoll: (s) => {
        polls.push(s.status);
        if (polls.length === 1) void makeReady();
      },
    });
    assert.equal(ready.status, 'Ready');
    assert.deepEqual(polls.slice(0, 1), ['Waiting']);
    assert.equal(polls.at(-1), 'Ready');
    assert.ok(
      requested.some((url) => url.endsWith(`/v1/events?session_id=${encodeURIComponent(sessionId)}`)),
      requested.join('\n'),
    );
  });

  it('falls back to polling when the server has no event stream', async () => {
    const rp = new Rallypoint({
      baseUrl: t.url,
      apiKey: t.key,
      fetch: (input, init) =>
        String(input).includes('/v1/events')
          ? Promise.resolve(
              new Response(JSON.stringify({ message: 'No route', code: 'ROUTE_NOT_FOUND' }), {
                status: 404,
                headers: { 'content-type': 'application/json' },
              }),
            )
          : fetch(input, init),
    });
    const sessionId = await waitingSession(rp);
    let polls = 0;
    const ready = await rp.sessions.waitForReady(sessionId, {
      intervalMs: 5,
      onPoll: () => {
        polls += 1;
        if (polls === 1) void makeReady();
      },
    });
    assert.equal(ready.status, 'Ready');
    assert.ok(polls >= 2);
  });
});
