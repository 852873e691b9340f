/** docs/wire-contract.md#placement: which deployment a new session lands on (packing, selector tags, capacity). */
import { describe, it } from '../support/node-test.js';
import assert from 'node:assert/strict';
import { registerServer, seedVersion, useTestService } from '../support/harness.js';
import { expectOk } from './wire-shapes.js';

describe('placement', () => {
  const { call } = useTestService();

  const usage = async (requestId: string) =>
    (await call('GET', `/v1/status/${requestId}`)).body.sockets_usage as number;
  const place = async (body: Record<string, unknown>) => {
    const r = await call('POST', '/v1/session', body);
    expectOk(r, 'SessionRequest');
    return r.body.deployment_request_id as string | undefined;
  };

  it('packs sessions onto the fullest deployment first', async () => {
    const { app, version } = await seedVersion(call, { sockets: 4 });
    const a = await registerServer(call, { app, version });
    const b = await registerServer(call, { app, version });
    // Make b the fuller one.
    assert.equal(await place({ app_name: app, deployment_request_id: b, ip_list: ['9.0.0.1'] }), b);
    assert.equal(await place({ app_name: app, ip_list: ['1.0.0.1'] }), b);
    assert.equal(await place({ app_name: app, ip_list: ['1.0.0.2'] }), b);
    assert.equal(await place({ app_name: app, ip_list: ['1.0.0.3'] }), b);
    // b is full now: the next session goes to a, and then a is the fullest with room.
    assert.equal(await place({ app_name: app, ip_list: ['1.0.0.4'] }), a);
    assert.equal(await place({ app_name: app, ip_list: ['1.0.0.5'] }), a);
    assert.equal(await usage(a), 2);
    assert.equal(await usage(b), 4);
  });

  it('takes a deployment only when it has room for all the users (Seat)', async () => {
    const { app, version } = await seedVersion(call, { sockets: 3 });
    const small = await registerServer(call, { app, version, sockets: 2 });
    const big = await registerServer(call, { app, version, sockets: 5 });
    await place({ app_name: app, deployment_request_id: small, ip_list: ['9.0.0.1'] });
    // small is fuller but has 1 free socket; three users need the big one.
    assert.equal(await place({ app_name: app, ip_list: ['1.0.0.1', '1.0.0.2', '1.0.0.3'] }), big);
    assert.equal(await place({ app_name: app, ip_list: ['2.0.0.1'] }), small);
    // Neither can take three more: Unprocessable, nothing taken.
    assert.equal(await place({ app_name: app, ip_list: ['3.0.0.1', '3.0.0.2', '3.0.0.3'] }), undefined);
    assert.equal(await usage(small), 2);
    assert.equal(await usage(big), 3);
  });

  it('Match: one free socket is enough whatever the user count', async () => {
    const { app, version } = await seedVersion(call, { kind: 'Match', sockets: 1 });
    const one = await registerServer(call, { app, version });
    assert.equal(await place({ app_name: app, ip_list: ['1.0.0.1', '1.0.0.2', '1.0.0.3', '1.0.0.4'] }), one);
    assert.equal(await place({ app_name: app, ip_list: ['2.0.0.1'] }), undefined);
  });

  it('selector tags: every non tag_only tag must be present; tag_only tags do not filter', async () => {
    const { app, version } = await seedVersion(call, { sockets: 10 });
    const euRanked = await registerServer(call, { app, version, tags: ['eu', 'ranked'] });
    const eu = await registerServer(call, { app, version, tags: ['eu'] });
    const plain = await registerServer(call, { app, version, tags: [] });
    // Make plain the fullest, so tags and not packing decide below.
    await place({ app_name: app, deployment_request_id: plain, ip_list: ['9.0.0.1', '9.0.0.2', '9.0.0.3'] });

    assert.equal(
      await place({ app_name: app, ip_list: ['1.0.0.1'], selectors: [{ tag: 'eu' }, { tag: 'ranked' }] }),
      euRanked,
    );
    const onlyEu = await place({ app_name: app, ip_list: ['1.0.0.2'], selectors: [{ tag: 'eu', tag_only: false }] });
    assert.ok(onlyEu === eu || onlyEu === euRanked);
    assert.equal(
      await place({ app_name: app, ip_list: ['1.0.0.3'], selectors: [{ tag: 'ranked' }, { tag: 'us' }] }),
      undefined,
    );
    // tag_only selectors only tag the session: the fullest deployment wins as without selectors.
    assert.equal(
      await place({ app_name: app, ip_list: ['1.0.0.4'], selectors: [{ tag: 'nowhere', tag_only: true }] }),
      plain,
    );
    assert.equal(
      await place({
        app_name: app,
        ip_list: ['1.0.0.5'],
        selectors: [{ tag: 'ranked' }, { tag: 'nowhere', tag_only: true }],
      }),
      euRanked,
    );
  });

  it('the answer echoes the selectors; an unplaced session says why', async () => {
    const { app, version } = await seedVersion(call, { sockets: 2 });
    await registerServer(call, { app, version, tags: ['eu'] });
    const r = await call('POST', '/v1/session', {
      app_name: app,
      ip_list: ['1.0.0.1'],
      selectors: [{ tag: 'us', env: { MODE: 'x' } }],
    });
    expectOk(r, 'SessionRequest');
    assert.deepEqual(r.body.selectors, [{ tag: 'us', tag_only: false, env: { MODE: 'x' } }]);
    const got = await call('GET', `/v1/session/${r.body.session_id}`);
    assert.equal(got.body.status, 'Unprocessable');
    assert.match(got.body.error, /autodeploy/);
  });

  it("sessions of one version never land on another version's deployment", async () => {
    const { app } = await seedVersion(call, { version: 'v1', sockets: 5 });
    await seedVersion(call, { app, version: 'v2', sockets: 5 });
    const onV1 = await registerServer(call, { app, version: 'v1' });
    assert.equal(await place({ app_name: app, version_name: 'v2', ip_list: ['1.0.0.1'] }), undefined);
    assert.equal(await place({ app_name: app, version_name: 'v1', ip_list: ['1.0.0.1'] }), onV1);
  });

  it('location filters and plain fields narrow the candidates', async () => {
    const { app, version } = await seedVersion(call, { sockets: 5 });
    const montreal = await registerServer(call, { app, version });
    const { FRANKFURT } = await import('../support/harness.js');
    const frankfurt = await registerServer(call, { app, version, location: FRANKFURT });
    assert.equal(await place({ app_name: app, ip_list: ['1.0.0.1'], city: 'frankfurt' }), frankfurt);
    assert.equal(
      await place({
        app_name: app,
        ip_list: ['1.0.0.2'],
        filters: [{ field: 'country', filter_type: 'any', values: ['Canada'] }],
      }),
      montreal,
    );
    assert.equal(
      await place({
        app_name: app,
        ip_list: ['1.0.0.3'],
        filters: [{ field: 'continent', filter_type: 'not', values: ['Europe'] }],
      }),
      montreal,
    );
    assert.equal(await place({ app_name: app, ip_list: ['1.0.0.4'], continent: 'Asia' }), undefined);
  });
});
