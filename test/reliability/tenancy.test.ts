import { after, before, describe, it } from '../support/node-test.js';
import assert from 'node:assert/strict';
import { createOrganisation } from '../../src/app/keys.js';
import { client, startTestService, type TestService } from '../support/harness.js';
import { bodyFor, pathFor, request, seedOrganisation, type Seeded } from './route-fixtures.js';

describe('tenancy and auth on every route of the route table', () => {
  let t: TestService;
  let seeded: Seeded;
  let otherKey: string;
  let revokedKey: string;

  before(async () => {
    t = await startTestService();
    const call = client(t.url, t.key);
    seeded = await seedOrganisation(call);
    otherKey = (await createOrganisation(t.service.deps, 'other studio')).key;
    const spare = await call('POST', '/v1/keys', { name: 'to revoke' });
    revokedKey = spare.body.key;
    assert.equal((await call('DELETE', `/v1/keys/${spare.body.key_id}`)).status, 200);
  });
  after(() => t.close());

  const routes = () => t.service.app.routeTable.filter((r) => r.isAuthenticated);

  it('enumerates the routes from the server', () => {
    assert.ok(routes().length >= 25, `only ${routes().length} authenticated routes found`);
  });

  it("hides one organisation's resources from another, which can never change them", async () => {
    for (const route of routes()) {
      const body = bodyFor(route, seeded);
      const res = await request(`${t.url}${pathFor(route.url, seeded)}`, {
        method: route.method,
        headers: {
          authorization: `token ${otherKey}`,
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      const label = `${route.method} ${route.url} → ${res.status} ${res.text.slice(0, 200)}`;
      assert.ok(res.status < 500, label);
      // Parameters that name a resource of the organisation must answer exactly as a missing one.
      if (/:(session_id|request_id|app_name|version_name|key_id|delivery_id|id)\b/.test(route.url))
        assert.equal(res.status, 404, label);
      const sent = `${pathFor(route.url, seeded)} ${JSON.stringify(body ?? '')}`;
      for (const secret of [seeded.sessionId, seeded.requestId, seeded.keyId, seeded.app]) {
        // An id the caller sent may be echoed in "X does not exist"; any other appearance is a leak.
        if (!sent.includes(secret))
          assert.ok(!res.text.includes(JSON.stringify(secret)), `leak of ${secret} in ${label}`);
      }
    }
    // The owner sees everything as it was.
    const owner = client(t.url, t.key);
    const session = await owner('GET', `/v1/session/${seeded.sessionId}`);
    assert.equal(session.status, 200);
    assert.deepEqual(session.body.session_users, [{ ip: '198.51.100.7' }]);
    const status = await owner('GET', `/v1/status/${seeded.requestId}`);
    assert.equal(status.body.current_status, 'Status.READY');
    assert.equal(status.body.is_joinable_by_session, true);
    assert.equal((await owner('GET', `/v1/app/${seeded.app}`)).body.is_active, true);
    assert.equal(
      (await owner('GET', '/v1/keys')).body.keys.find((k: { key_id: string }) => k.key_id === seeded.keyId).revoked,
      false,
    );
  });
  // Last: the wrong keys it sends spend this address's failed-lookup budget, which would hold
  // back the first use of another organisation's valid key in the test above.
  it('answers 401 JSON without a key, with a wrong key and with a revoked key', async () => {
    for (const route of routes()) {
      for (const authorization of [undefined, 'token rp_not_a_key', `token ${revokedKey}`, 'Bearer', 'token a b c']) {
        const body = bodyFor(route, seeded);
        const res = await request(`${t.url}${pathFor(route.url, seeded)}`, {
          method: route.method,
          headers: {
            ...(authorization ? { authorization } : {}),
            ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
          },
          ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        });
        assert.equal(res.status, 401, `${route.method} ${route.url} with ${authorization ?? 'no key'}: ${res.status}`);
        assert.match(res.contentType, /application\/json/);
        assert.equal(typeof JSON.parse(res.text).message, 'string');
      }
    }
  });
});
