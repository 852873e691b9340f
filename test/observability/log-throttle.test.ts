import { describe, it } from '../support/node-test.js';
import assert from 'node:assert/strict';
import { createLogThrottle } from '../../src/observability/log-throttle.js';

describe('log throttle', () => {
  it('turns 250 identical errors of a 5 s outage (one every 20 ms) into one line, then reports the count', () => {
    let nowMs = 0;
    const throttle = createLogThrottle({ windowMs: 10_000, nowMs: () => nowMs });
    let logged = 0;
    for (; nowMs < 5_000; nowMs += 20)
      if (throttle.check('event sequencer: database unavailable').shouldLog) logged += 1;
    assert.equal(logged, 1);
    // A different failure is its own line at once.
    assert.deepEqual(throttle.check('event sequencer: deadlock'), { shouldLog: true, suppressed: 0 });
    nowMs = 10_000;
    assert.deepEqual(throttle.check('event sequencer: database unavailable'), { shouldLog: true, suppressed: 249 });
    assert.deepEqual(throttle.check('event sequencer: database unavailable'), { shouldLog: false, suppressed: 1 });
  });
});
