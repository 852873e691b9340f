import { describe, it } from '../support/node-test.js';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { client, FRANKFURT, registerServer, seedVersion, useTestService } from '../support/harness.js';
import { launchChromium } from '../support/browser.js';

describe('dashboard', () => {
  const { t, call } = useTestService();

  it('serves the page and its assets without a key, with a strict CSP', async () => {
    const page = await fetch(`${t.url}/dashboard`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
    assert.match(page.headers.get('content-security-policy') ?? '', /script-src 'self'/);
    const html = await page.text();
    assert.match(html, /<label for="api-key">API key<\/label>/);
    assert.doesNotMatch(html, /https?:\/\//, 'no CDN or remote asset');
    for (const file of ['dashboard.js', 'world-map.js', 'dashboard.css']) {
      const asset = await fetch(`${t.url}/dashboard/${file}`);
      assert.equal(asset.status, 200, file);
      assert.doesNotMatch(await asset.text(), /https?:\/\/(?!www\.w3\.org\/2000\/svg)/, `${file} loads nothing remote`);
    }
    const missing = await fetch(`${t.url}/dashboard/secrets.txt`);
    assert.equal(missing.status, 404);
    assert.equal((await missing.json()).code, 'ROUTE_NOT_FOUND');
    // Found by the fuzzer: an inherited property name used to answer 500.
    for (const name of ['toString', 'constructor', '__proto__', 'hasOwnProperty']) {
      const inherited = await fetch(`${t.url}/dashboard/${name}`);
      assert.equal(inherited.status, 404, name);
      assert.equal((await inherited.json()).code, 'ROUTE_NOT_FOUND');
    }
  });

  it('loads the state it shows through an authenticated /v1 route', async () => {
    assert.equal((await client(t.url, undefined)('GET', '/v1/dashboard/state')).status, 401);
    const { app, version } = await seedVersion(call, { sockets: 6 });
    const requestId = await registerServer(call, { app, version, sockets: 6, location: FRANKFURT });
    const created = await call('POST', '/v1/session', { app_name: app, ip_list: ['1.2.3.4'] });
    // Events get their ids after commit; without this the state may predate the first one.
    await t.service.eventSequencer.runDue();
    const state = await call('GET', '/v1/dashboard/state');
    assert.equal(state.status, 200);
    assert.ok(state.body.latest_event_id > 0);
    const deployment = state.body.deployments.find((d: any) => d.request_id === requestId);
    assert.deepEqual(
      {
        app: deployment.app,
        version: deployment.version,
        status: deployment.status,
        sockets: deployment.sockets,
        sockets_usage: deployment.sockets_usage,
        latitude: deployment.latitude,
      },
      { app, version, status: 'Status.READY', sockets: 6, sockets_usage: 1, latitude: FRANKFURT.latitude },
    );
    const session = state.body.sessions.find((s: any) => s.session_id === created.body.session_id);
    assert.equal(session.status, 'Ready');
    assert.equal(session.user_count, 1);
    assert.equal(session.deployment_request_id, requestId);
  });

  it('signs in, shows a session created through the API without reload, and saves a screenshot', async () => {
    const { app, version } = await seedVersion(call, { app: 'dashboard-demo', sockets: 8 });
    await registerServer(call, { app, version, sockets: 8, location: FRANKFURT });
    const browser = await launchChromium();
    try {
      const page = await browser.newPage({ viewport: { width: 1366, height: 768 } });
      await page.goto(`${t.url}/dashboard`);
      await page.getByLabel('API key').fill(t.key);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('status').filter({ hasText: 'Live' }).waitFor();
      const created = await call('POST', '/v1/session', { app_name: app, ip_list: ['1.2.3.4', '5.6.7.8'] });
      assert.equal(created.status, 200);
      const row = page.locator('#sessions tr', { hasText: created.body.session_id });
      await row.waitFor();
      assert.match(await row.innerText(), /Ready/);
      assert.match(await page.locator('#activity').innerText(), new RegExp(created.body.session_id));
      // The README's picture is refreshed on purpose (DASHBOARD_SCREENSHOT=docs/dashboard.png),
      // so an ordinary test run leaves the work tree clean.
      const screenshot = process.env['DASHBOARD_SCREENSHOT'] ?? 'test-output/dashboard.png';
      await mkdir(dirname(screenshot), { recursive: true });
      await page.screenshot({ path: screenshot });
    } finally {
      await browser.close();
    }
  });
});
