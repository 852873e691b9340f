import { describe, it } from '../support/node-test.js';
import assert from 'node:assert/strict';
import { client, startTestService } from '../support/harness.js';
import { newTenant } from './wire-shapes.js';

describe('per-key rate limits', () => {
  it('answers 429 with Retry-After past the burst, per key, with the standard headers', async () => {
    const t = await startTestService({ env: { RATE_LIMIT_PER_SECOND: '1', RATE_LIMIT_BURST: '3' } });
    try {
      const call = client(t.url, t.key);
      // A second key, made before the first is exhausted: a global bucket would refuse it too.
      const other = await newTenant(t);
      const answers = [];
      for (let i = 0; i < 4; i++) answers.push(await call('GET', '/v1/apps'));
      assert.deepEqual(
        answers.map((a) => a.status),
        [200, 200, 200, 429],
      );
      assert.equal(answers[0]!.headers.get('x-ratelimit-limit'), '3');
      assert.equal(answers[0]!.headers.get('x-ratelimit-remaining'), '2');
      assert.ok(answers[0]!.headers.get('x-ratelimit-reset'));
      const limited = answers[3]!;
      assert.equal(limited.body.code, 'RATE_LIMITED');
      assert.deepEqual(Object.keys(limited.body).sort(), ['code', 'message']);
      assert.ok(Number(limited.headers.get('retry-after')) >= 1);
      const fresh = await other('GET', '/v1/apps');
      assert.equal(fresh.status, 200, 'another key has its own bucket');
      assert.equal(fresh.headers.get('x-ratelimit-remaining'), '2');
      // Unauthenticated requests are refused by auth before the limiter counts them.
      assert.equal((await client(t.url, 'rp_not_a_key_0000000000')('GET', '/v1/apps')).status, 401);
    } finally {
      await t.close();
    }
  });

  it('is off by default', async () => {
    const t = await startTestService();
    try {
      const call = client(t.url, t.key);
      const statuses = await Promise.all(
        Array.from({ length: 50 }, () => call('GET', '/v1/apps').then((r) => r.status)),
      );
      assert.ok(statuses.every((s) => s === 200));
    } finally {
      await t.close();
    }
  });
});
