/** Server timeouts and load shedding: slow clients are dropped, an overloaded process sheds load with 503. */
import { describe, eventually, it } from '../support/node-test.js';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { createLagMonitor } from '../../src/http/load-shedding.js';
import { client, startTestService } from '../support/harness.js';

/** Resolves when the server closes a connection that sent nothing; rejects after `deadlineMs`. */
function idleUntilClosed(url: string, deadlineMs: number): Promise<number> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const startedMs = performance.now();
    const socket = connect(Number(port), hostname);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`still open after ${deadlineMs} ms`));
    }, deadlineMs);
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(performance.now() - startedMs);
    });
  });
}

function busyFor(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    /* hold the event loop, as a CPU-bound burst would */
  }
}

describe('server limits', { timeout: 60_000 }, () => {
  it('sets the configured timeouts and closes a connection that sends nothing', async () => {
    const t = await startTestService({
      env: {
        REQUEST_TIMEOUT_MS: '20000',
        HEADERS_TIMEOUT_MS: '5000',
        KEEP_ALIVE_TIMEOUT_MS: '7000',
        CONNECTION_TIMEOUT_MS: '300',
      },
    });
    try {
      const server = t.service.app.server;
      assert.equal(server.requestTimeout, 20_000);
      assert.equal(server.headersTimeout, 5_000);
      assert.equal(server.keepAliveTimeout, 7_000);
      assert.equal(server.timeout, 300);
      const closedAfterMs = await idleUntilClosed(t.url, 10_000);
      assert.ok(closedAfterMs >= 250, `closed after ${closedAfterMs} ms`);
    } finally {
      await t.close();
    }
  });

  it('sheds load with 503 SERVICE_UNAVAILABLE and Retry-After while the event loop lags, then recovers', async () => {
    const t = await startTestService({
      env: { LOAD_SHED_MAX_EVENT_LOOP_DELAY_MS: '100', LOAD_SHED_RETRY_AFTER_SECONDS: '7' },
    });
    try {
      const call = client(t.url, t.key);
      const deadline = performance.now() + 20_000;
      const answersOnceCalm = async () => {
        while (performance.now() < deadline + 10_000) {
          if ((await call('GET', '/v1/apps')).status === 200) return true;
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        return false;
      };
      // The start itself can lag the loop past 100 ms: wait until it answers.
      assert.ok(await answersOnceCalm(), 'answers once started');
      let shed;
      while (!shed && performance.now() < deadline) {
        busyFor(400);
        const r = await call('GET', '/v1/apps');
        if (r.status === 503) shed = r;
      }
      assert.ok(shed, 'a lagging event loop sheds requests');
      assert.deepEqual(shed.body, {
        message: 'The server is overloaded; retry after the Retry-After delay.',
        code: 'SERVICE_UNAVAILABLE',
      });
      assert.equal(shed.headers.get('retry-after'), '7');
      assert.ok(await answersOnceCalm(), 'answers again once the loop keeps up');
    } finally {
      await t.close();
    }
  });

  it('measures the event loop only while requests arrive, so an idle server is not woken', async () => {
    const monitor = createLagMonitor(50);
    try {
      assert.equal(monitor.measuring(), false, 'nothing measured before the first request');
      monitor.noteRequest();
      assert.equal(monitor.measuring(), true);
      // The first request holds the loop 300 ms at once. Timers run in order of due time, so the
      // monitor's sample (due 50 ms after the request) runs before this 1 ms timer set after the stall.
      busyFor(300);
      await new Promise((resolve) => setTimeout(resolve, 1));
      const lag = monitor.lagMs();
      assert.ok(lag >= 200 && lag < 10_000, `a 300 ms stall read as ${lag} ms of lag`);
      await eventually('measuring stopped after an interval without requests', () => !monitor.measuring(), {
        withinMs: 10_000,
        everyMs: 20,
      });
      assert.equal(monitor.lagMs(), 0, 'an idle loop has no lag');
      monitor.noteRequest();
      assert.equal(monitor.measuring(), true, 'the next request measures again');
    } finally {
      monitor.stop();
    }
    assert.equal(monitor.measuring(), false);
  });
});
