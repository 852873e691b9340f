/**
 * The poll loop's wake (src/jobs/poll-loop.ts): a wake runs at once even without polling, and a
 * wake that arrives during a run is not lost, since that run may have looked before the news.
 */
import { describe, eventually, it } from '../support/node-test.js';
import assert from 'node:assert/strict';
import { startPollLoop } from '../../src/jobs/poll-loop.js';

describe('poll loop wake', () => {
  it('runs on wake with polling off, and once more after a run during which it was woken', async () => {
    let runs = 0;
    let release: (() => void) | undefined;
    const loop = startPollLoop(
      async () => {
        runs += 1;
        if (runs === 1) await new Promise<void>((resolve) => (release = resolve));
      },
      0,
      (error) => assert.fail(String(error)),
    );
    try {
      loop.wake();
      await eventually('the wake started a run', () => release !== undefined);
      loop.wake();
      loop.wake();
      assert.equal(runs, 1, 'one run at a time');
      release!();
      await eventually('a second run followed the wake during the first', () => runs === 2);
    } finally {
      release?.();
      await loop.stop();
    }
    assert.equal(runs, 2, 'two wakes during one run make one more run, not two');
  });
});
