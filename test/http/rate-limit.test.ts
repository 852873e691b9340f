import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { client, startTestService } from '../support/harness.js';

describe('per-key rate limits', () => {
  it('answers 429 with Retry-After past the burst, per key', async () => {
    const t = await startTestService({ env: { RATE_LIMIT_PER_SECOND: '1', RATE_LIMIT_BURST: '3' } });
    try {
      const call = client(t.url, t.key);
      const statuses = [];
      for (let i = 0; i < 4; i++) statuses.push((await call('GET', '/v1/apps')).status);
      assert.deepEqual(statuses, [200, 200, 200, 429]);
      const limited = await call('GET', '/v1/apps');
      assert.equal(limited.status, 429);
      assert.equal(limited.body.code, 'RATE_LIMITED');
      assert.ok(Number(limited.headers.get('retry-after')) >= 1);
      // Another key has its own bucket; unauthenticated requests are refused before the limiter.
      const other = await call('POST', '/v1/keys', { name: 'second' });
      assert.equal(other.status, 429);
    } finally {
      await t.close();
    }
  });

  it('is off by default', async () => {
    const t = await startTestService();
    try {
      const call = client(t.url, t.key);
      const statuses = await Promise.all(Array.from({ length: 50 }, () => call('GET', '/v1/apps').then((r) => r.status)));
      assert.ok(statuses.every((s) => s === 200));
    } finally {
      await t.close();
    }
  });
});
