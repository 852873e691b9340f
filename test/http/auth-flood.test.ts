/** Failed authentication is cheap: an invalid-key flood costs at most one key lookup per address per second. */
import { describe, it } from '../support/node-test.js';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { client, useTestService } from '../support/harness.js';
import { clientBucket, FAILED_LOOKUP_BURST } from '../../src/http/auth-failures.js';

describe('invalid-key flood', { timeout: 60_000 }, () => {
  const { t, call } = useTestService();

  it('costs at most one database lookup per client address per second after a burst, and valid keys still work', async () => {
    assert.equal((await call('GET', '/v1/apps')).status, 200, 'the valid key is verified (and cached) first');
    const db = t.service.deps.db;
    const original = db.query.bind(db);
    let lookups = 0;
    db.query = ((sql: string, params?: readonly unknown[]) => {
      if (/api_keys/.test(sql)) lookups++;
      return original(sql, params);
    }) as typeof db.query;
    const statuses = new Map<number, number>();
    const startedMs = performance.now();
    try {
      // 10 waves of 20 concurrent requests, each with a new random key.
      for (let wave = 0; wave < 10; wave++) {
        const answers = await Promise.all(
          Array.from({ length: 20 }, () => client(t.url, `rp_${randomBytes(24).toString('hex')}`)('GET', '/v1/apps')),
        );
        for (const a of answers) {
          statuses.set(a.status, (statuses.get(a.status) ?? 0) + 1);
          assert.deepEqual(Object.keys(a.body).sort(), ['code', 'message']);
          assert.equal(a.body.code, 'UNAUTHORIZED');
        }
        const valid = await call('GET', '/v1/apps');
        assert.equal(valid.status, 200, 'a key verified recently is never held back');
      }
    } finally {
      db.query = original;
    }
    const seconds = (performance.now() - startedMs) / 1000;
    const requests = statuses.get(401) ?? 0;
    console.log(`invalid-key flood: ${requests} requests in ${seconds.toFixed(1)} s cost ${lookups} key lookups`);
    assert.equal(requests, 200);
    // One per second after the first FAILED_LOOKUP_BURST.
    assert.ok(lookups <= Math.ceil(seconds) + FAILED_LOOKUP_BURST, `${lookups} lookups in ${seconds.toFixed(1)} s`);
    // Whatever the budget refilled meanwhile, a few more unknown keys spend it: then Retry-After.
    let retryAfter: string | null = null;
    for (let i = 0; i <= FAILED_LOOKUP_BURST + 1 && retryAfter === null; i++) {
      const held = await client(t.url, `rp_${randomBytes(24).toString('hex')}`)('GET', '/v1/apps');
      assert.equal(held.status, 401);
      retryAfter = held.headers.get('retry-after');
    }
    assert.ok(Number(retryAfter) >= 1, 'a held address is told when to try again');
  });

  it('counts an IPv6 /64 as one address and IPv4-mapped addresses as IPv4', () => {
    assert.equal(clientBucket('2001:db8:1:2:aaaa::1'), clientBucket('2001:DB8:1:2:bbbb::2'));
    assert.notEqual(clientBucket('2001:db8:1:2::1'), clientBucket('2001:db8:1:3::1'));
    assert.equal(clientBucket('::ffff:192.0.2.7'), '192.0.2.7');
    assert.equal(clientBucket('192.0.2.7'), '192.0.2.7');
  });
});
