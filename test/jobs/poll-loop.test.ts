/**
 * The poll loop's wake (src/jobs/poll-loop.ts): a wake runs at once even without polling, and a
 * wake that arrives during a run is not lost, since that run may have looked before the news.
 */
import { describe, eventually, it } from '../support/node-test.js';
import assert from 'node:assert/strict';
import { atMostEvery, msUntilDue, startPollLoop } from '../../src/jobs/poll-loop.js';

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

  it('wakeWithin brings a long wait forward, and bounds the wait after a run it arrived during', async () => {
    let runs = 0;
    let release: (() => void) | undefined;
    // Every run asks to sleep an hour: only wakeWithin can bring the next run sooner.
    const loop = startPollLoop(
      async () => {
        runs += 1;
        if (runs === 2) await new Promise<void>((resolve) => (release = resolve));
        return 3_600_000;
      },
      3_600_000,
      (error) => assert.fail(String(error)),
      { waitAfter: (ms) => ms },
    );
    try {
      loop.wakeWithin(20);
      await eventually('the hour-long first wait was brought forward', () => runs === 1);
      loop.wakeWithin(20);
      await eventually('the second run started', () => release !== undefined);
      loop.wakeWithin(20);
      loop.wakeWithin(3_600_000);
      release!();
      await eventually('the wait after the second run ended within the bound it was given', () => runs === 3);
    } finally {
      release?.();
      await loop.stop();
    }
  });

  it('with minGapMs, a burst of wakes after a run shares one run', async () => {
    let runs = 0;
    const loop = startPollLoop(
      async () => {
        runs += 1;
      },
      0,
      (error) => assert.fail(String(error)),
      { minGapMs: 200 },
    );
    try {
      loop.wake();
      await eventually('the first run', () => runs === 1);
      for (let i = 0; i < 10; i++) loop.wake();
      await eventually('the burst ran', () => runs >= 2);
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.equal(runs, 2, 'ten wakes within the gap made one run');
    } finally {
      await loop.stop();
    }
  });
});

describe('sleeping until due', () => {
  it('sleeps until the next work is due, at most the fallback; looks again after pollMs at work held back', () => {
    const at = { lookedAtMs: 1_000, nowMs: 1_200 };
    assert.equal(msUntilDue(undefined, at, 500, 30_000), 30_000, 'nothing waits: the fallback');
    assert.equal(msUntilDue(5_000, at, 500, 30_000), 3_800, 'due later: until then, from now');
    assert.equal(msUntilDue(100_000, at, 500, 30_000), 30_000, 'due after the fallback: the fallback');
    assert.equal(msUntilDue(1_000, at, 500, 30_000), 500, 'due at the look and still waiting: pollMs');
    assert.equal(msUntilDue(1_100, at, 500, 30_000), 0, 'due since the look: at once');
  });

  it('atMostEvery lets housekeeping through once per period of the clock it is given', () => {
    const due = atMostEvery(60_000);
    assert.deepEqual(
      [0, 59_999, 60_000, 60_001, 120_000].map((ms) => due(ms)),
      [true, false, true, false, true],
    );
  });
});
