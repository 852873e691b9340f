import { describe, it } from '../support/node-test.js';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { backoffDelayMs } from '@rallypoint/sdk';

describe('the one backoff schedule', () => {
  const backoff = { firstMs: 100, maxMs: 10_000 };

  it('doubles per failure between half and all of the exponential delay, capped', () => {
    assert.equal(backoffDelayMs(1, backoff, 0), 50);
    assert.equal(backoffDelayMs(1, backoff, 0.999999), 100);
    assert.equal(backoffDelayMs(3, backoff, 0), 200);
    assert.equal(backoffDelayMs(50, backoff, 0), 5_000);
    assert.equal(backoffDelayMs(50, backoff, 0.999999), 10_000);
    assert.equal(backoffDelayMs(0, backoff, 0), 50);
  });

  it('never waits less than half or more than the cap, whatever the failure count and jitter', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -5, max: 10_000 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (failures, random) => {
          const wait = backoffDelayMs(failures, backoff, random);
          const full = Math.min(backoff.maxMs, backoff.firstMs * 2 ** Math.min(Math.max(failures - 1, 0), 30));
          return wait >= full / 2 && wait <= backoff.maxMs;
        },
      ),
    );
  });

  it('spreads retries of clients that failed together', () => {
    const waits = new Set(Array.from({ length: 50 }, () => backoffDelayMs(4, backoff)));
    assert.ok(waits.size > 10, `only ${waits.size} distinct waits`);
  });
});
