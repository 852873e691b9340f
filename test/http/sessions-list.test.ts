/**
 * docs/wire-contract.md#session-list and #bulk-stop: GET /v1/sessions (paging) and
 * POST /v1/sessions/bulk-stop (filters).
 */
import { after, before, describe, it } from '../support/node-test.js';
import assert from 'node:assert/strict';
import { FakeClock, registerServer, seedVersion, startTestService, type TestService } from '../support/harness.js';
import { expectError, expectOk, newTenant, SESSION_ID } from './wire-shapes.js';

describe('sessions list and bulk stop', () => {
  let t: TestService;
  const clock = new FakeClock();
  before(async () => {
    t = await startTestService({ clock });
  });
  after(() => t.close());

  describe('GET /v1/sessions', () => {
    it('lists newest first with total_count and pagination', async () => {
      const call = await newTenant(t);
      const { app, version } = await seedVersion(call, { sockets: 10 });
      const requestId = await registerServer(call, { app, version });
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) {
        clock.advance(1000);
        ids.push(
          (await call('POST', '/v1/session', { app_name: app, ip_list: [`10.0.0.${i + 1}`], custom_id: `c${i}` })).body
            .session_id,
        );
      }
      const newestFirst = [...ids].reverse();

      const all = await call('GET', '/v1/sessions');
      expectOk(all, 'Sessions');
      assert.equal(all.body.total_count, 5);
      assert.deepEqual(
        all.body.data.map((s: { session_id: string }) => s.session_id),
        newestFirst,
      );
      assert.deepEqual(all.body.data[0], {
        session_id: ids[4],
        custom_id: 'c4',
        status: 'Ready',
        ready: true,
        linked: true,
        kind: 'Seat',
        user_count: 1,
        deployment_request_id: requestId,
      });
      assert.deepEqual(all.body.pagination, {
        number: 1,
        next_page_number: null,
        previous_page_number: null,
        paginator: { num_pages: 1 },
        has_next: false,
        has_previous: false,
      });

      const first = await call('GET', '/v1/sessions?page=1&limit=2');
      expectOk(first, 'Sessions');
      assert.deepEqual(
        first.body.data.map((s: { session_id: string }) => s.session_id),
        newestFirst.slice(0, 2),
      );
      assert.equal(first.body.total_count, 5);
      assert.deepEqual(first.body.pagination, {
        number: 1,
        next_page_number: 2,
        previous_page_number: null,
        paginator: { num_pages: 3 },
        has_next: true,
        has_previous: false,
      });

      const middle = await call('GET', '/v1/sessions?page=2&limit=2');
      assert.deepEqual(
        middle.body.data.map((s: { session_id: string }) => s.session_id),
        newestFirst.slice(2, 4),
      );
      assert.deepEqual(middle.body.pagination, {
        number: 2,
        next_page_number: 3,
        previous_page_number: 1,
        paginator: { num_pages: 3 },
        has_next: true,
        has_previous: true,
      });

      const last = await call('GET', '/v1/sessions?page=3&limit=2');
      expectOk(last, 'Sessions');
      assert.deepEqual(
        last.body.data.map((s: { session_id: string }) => s.session_id),
        newestFirst.slice(4),
      );
      assert.deepEqual(last.body.pagination, {
        number: 3,
        next_page_number: null,
        previous_page_number: 2,
        paginator: { num_pages: 3 },
        has_next: false,
        has_previous: true,
      });

      const beyond = await call('GET', '/v1/sessions?page=9&limit=2');
      expectOk(beyond, 'Sessions');
      assert.deepEqual(beyond.body.data, []);
      assert.equal(beyond.body.total_count, 5);
    });

    it('leaves out deleted sessions, omits deployment_request_id when unlinked, and is empty for a new tenant', async () => {
      const call = await newTenant(t);
      const empty = await call('GET', '/v1/sessions');
      expectOk(empty, 'Sessions');
      assert.deepEqual(empty.body.data, []);
      assert.equal(empty.body.total_count, 0);
      assert.equal(empty.body.pagination.paginator.num_pages, 1);

      const { app } = await seedVersion(call, { sockets: 1 });
      const a = (await call('POST', '/v1/session', { app_name: app, ip_list: ['1.1.1.1'] })).body.session_id;
      const b = (await call('POST', '/v1/session', { app_name: app, ip_list: ['1.1.1.2'] })).body.session_id;
      await call('DELETE', `/v1/session/${a}`);
      const listed = await call('GET', '/v1/sessions');
      expectOk(listed, 'Sessions');
      assert.equal(listed.body.total_count, 1);
      assert.equal(listed.body.data[0].session_id, b);
      assert.equal(listed.body.data[0].status, 'Unprocessable');
      assert.equal(listed.body.data[0].linked, false);
      assert.equal('deployment_request_id' in listed.body.data[0], false);
    });

    it('refuses bad page and limit values with 400', async () => {
      const call = await newTenant(t);
      for (const query of ['page=0', 'limit=0', 'limit=1001', 'page=abc', 'limit=-1']) {
        expectError(await call('GET', `/v1/sessions?${query}`), 400, 'VALIDATION_FAILED');
      }
      expectOk(await call('GET', '/v1/sessions?limit=1000'), 'Sessions');
    });
  });

  describe('POST /v1/sessions/bulk-stop', () => {
    async function fleet() {
      const call = await newTenant(t);
      const { app, version } = await seedVersion(call, { sockets: 10 });
      const eu = await registerServer(call, { app, version, tags: ['eu', 'ranked'] });
      const us = await registerServer(call, { app, version, tags: ['us', 'ranked'] });
      const create = async (requestId: string, ip: string) =>
        (await call('POST', '/v1/session', { app_name: app, deployment_request_id: requestId, ip_list: [ip] })).body
          .session_id as string;
      const s = {
        eu1: await create(eu, '1.1.1.1'),
        eu2: await create(eu, '1.1.1.2'),
        us1: await create(us, '2.2.2.1'),
      };
      const { app: lonely } = await seedVersion(call, { sockets: 1 });
      const unlinked = (await call('POST', '/v1/session', { app_name: lonely, ip_list: ['3.3.3.1', '3.3.3.2'] })).body
        .session_id as string;
      return { call, eu, us, s: { ...s, unlinked } };
    }
    const stopped = (body: { processable: Array<{ session_id: string }> }) =>
      body.processable.map((p) => p.session_id).sort();

    it('stops by session_id (any) and answers the processable list', async () => {
      const { call, eu, s } = await fleet();
      const r = await call('POST', '/v1/sessions/bulk-stop', {
        filters: [{ field: 'session_id', filter_type: 'any', values: [s.eu1, s.us1, '0123456789ab-S'] }],
      });
      expectOk(r, 'SessionBulkStopResponse');
      assert.deepEqual(stopped(r.body), [s.eu1, s.us1].sort());
      for (const p of r.body.processable) assert.match(p.session_id, SESSION_ID);
      expectError(await call('GET', `/v1/session/${s.eu1}`), 404);
      assert.equal((await call('GET', `/v1/session/${s.eu2}`)).status, 200);
      assert.equal((await call('GET', `/v1/status/${eu}`)).body.sockets_usage, 1);
      // Already stopped sessions are not processable again.
      const again = await call('POST', '/v1/sessions/bulk-stop', {
        filters: [{ field: 'session_id', filter_type: 'any', values: [s.eu1] }],
      });
      assert.deepEqual(again.body, { processable: [] });
    });

    it('stops by request_id of the linked deployment', async () => {
      const { call, eu, s } = await fleet();
      const r = await call('POST', '/v1/sessions/bulk-stop', {
        filters: [{ field: 'request_id', filter_type: 'any', values: [eu] }],
      });
      expectOk(r, 'SessionBulkStopResponse');
      assert.deepEqual(stopped(r.body), [s.eu1, s.eu2].sort());
    });

    it('deployment_tags: any, all and not', async () => {
      const tagFilter = (filter_type: string, values: string[]) => ({
        filters: [{ field: 'deployment_tags', filter_type, values }],
      });
      let f = await fleet();
      let r = await f.call('POST', '/v1/sessions/bulk-stop', tagFilter('any', ['us', 'nowhere']));
      assert.deepEqual(stopped(r.body), [f.s.us1]);

      f = await fleet();
      r = await f.call('POST', '/v1/sessions/bulk-stop', tagFilter('all', ['eu', 'ranked']));
      assert.deepEqual(stopped(r.body), [f.s.eu1, f.s.eu2].sort());
      r = await f.call('POST', '/v1/sessions/bulk-stop', tagFilter('all', ['us', 'eu']));
      assert.deepEqual(r.body, { processable: [] });

      f = await fleet();
      r = await f.call('POST', '/v1/sessions/bulk-stop', tagFilter('not', ['eu']));
      // An unlinked session has no tags, so it carries none of them.
      assert.deepEqual(stopped(r.body), [f.s.us1, f.s.unlinked].sort());
    });

    it('ANDs several filters', async () => {
      const { call, s } = await fleet();
      const r = await call('POST', '/v1/sessions/bulk-stop', {
        filters: [
          { field: 'deployment_tags', filter_type: 'any', values: ['ranked'] },
          { field: 'session_id', filter_type: 'not', values: [s.eu2] },
        ],
      });
      expectOk(r, 'SessionBulkStopResponse');
      assert.deepEqual(stopped(r.body), [s.eu1, s.us1].sort());
    });

    it('refuses an empty filters list and bad filters with 400, stopping nothing', async () => {
      const { call, s } = await fleet();
      expectError(await call('POST', '/v1/sessions/bulk-stop', { filters: [] }), 400, 'VALIDATION_FAILED');
      expectError(await call('POST', '/v1/sessions/bulk-stop', {}), 400, 'VALIDATION_FAILED');
      expectError(
        await call('POST', '/v1/sessions/bulk-stop', {
          filters: [{ field: 'city', filter_type: 'any', values: ['x'] }],
        }),
        400,
      );
      expectError(
        await call('POST', '/v1/sessions/bulk-stop', {
          filters: [{ field: 'session_id', filter_type: 'some', values: ['x'] }],
        }),
        400,
      );
      const listed = await call('GET', '/v1/sessions');
      assert.equal(listed.body.total_count, 4);
      assert.ok(listed.body.data.some((x: { session_id: string }) => x.session_id === s.eu1));
    });

    it("only reaches the caller's own sessions", async () => {
      const { call, s } = await fleet();
      const stranger = await newTenant(t);
      const r = await stranger('POST', '/v1/sessions/bulk-stop', {
        filters: [{ field: 'session_id', filter_type: 'any', values: [s.eu1] }],
      });
      assert.deepEqual(r.body, { processable: [] });
      assert.equal((await call('GET', `/v1/session/${s.eu1}`)).status, 200);
    });
  });
});
