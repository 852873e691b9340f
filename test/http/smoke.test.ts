import { describe, it } from '../support/node-test.js';
import assert from 'node:assert/strict';
import { registerServer, seedVersion, useTestService } from '../support/harness.js';

describe('service smoke', () => {
  const { call } = useTestService();

  it('links a session to a registered server and reports it ready', async () => {
    const { app, version } = await seedVersion(call, { sockets: 4 });
    const requestId = await registerServer(call, { app, version });
    const created = await call('POST', '/v1/session', { app_name: app, ip_list: ['1.2.3.4', '5.6.7.8'] });
    assert.equal(created.status, 200);
    assert.equal(created.body.deployment_request_id, requestId);
    assert.equal(created.body.version, version);
    const got = await call('GET', `/v1/session/${created.body.session_id}`);
    assert.equal(got.status, 200);
    assert.equal(got.body.ready, true);
    assert.equal(got.body.status, 'Ready');
    assert.equal(got.body.deployment.sockets_usage, 2);
  });
});
