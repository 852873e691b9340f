import { after, before, describe, it, LONG_TEST_MS } from '../support/node-test.js';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { selectSeatDrift } from '../../src/db/queries/deployments.js';
import type { RouteEntry } from '../../src/http/server.js';
import { client, startTestService, type TestService } from '../support/harness.js';
import { bodyFor, pathFor, request, seedOrganisation, type Seeded } from './route-fixtures.js';

const RUNS = Number(process.env['FUZZ_RUNS'] ?? 10_000);

/** Strings that have broken parsers, routers and databases before. */
const nasty = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom(
    '../../etc/passwd',
    '%2e%2e%2f',
    '%00',
    '\u0000',
    "'; DROP TABLE sessions; --",
    'NaN',
    '-1',
    '1e309',
    '0x10',
    '💥'.repeat(50),
    ' ',
    '\\',
    '%',
    '{}',
    'null',
  ),
  fc.string({ minLength: 5_000, maxLength: 20_000 }),
);

const jsonish = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  nasty,
  fc.array(nasty, { maxLength: 20 }),
  fc.constant(Array.from({ length: 5_000 }, (_, i) => `10.${i >> 8}.${i & 255}.1`)),
);

interface Fuzzed {
  route: RouteEntry;
  param: string | null;
  body:
    | { kind: 'none' }
    | { kind: 'raw'; text: string }
    | { kind: 'json'; value: unknown }
    | { kind: 'mutated'; field: string; value: unknown };
  contentType: string | null;
  auth: 'valid' | 'none' | 'doubled' | 'garbage';
  query: string;
}

function render(f: Fuzzed, seeded: Seeded, key: string): { path: string; init: RequestInit } {
  let path = pathFor(f.route.url, seeded);
  if (f.param !== null && f.route.url.includes(':')) {
    const segments = path.split('/');
    const index = f.route.url.split('/').findIndex((s) => s.startsWith(':'));
    segments[index] = encodeURIComponent(f.param);
    path = segments.join('/');
  }
  const headers: [string, string][] = [];
  if (f.auth === 'valid') headers.push(['authorization', `token ${key}`]);
  if (f.auth === 'doubled') headers.push(['authorization', `token ${key}`], ['authorization', 'token other']);
  if (f.auth === 'garbage') headers.push(['authorization', '\u00ff\u00fe token']);
  if (f.contentType !== null) headers.push(['content-type', f.contentType]);
  let body: string | undefined;
  if (f.body.kind === 'raw') body = f.body.text;
  if (f.body.kind === 'json') body = JSON.stringify(f.body.value);
  if (f.body.kind === 'mutated') {
    const base = bodyFor(f.route, seeded);
    body = JSON.stringify(
      base !== null && typeof base === 'object' ? { ...base, [f.body.field]: f.body.value } : f.body.value,
    );
  }
  const hasBody = body !== undefined && f.route.method !== 'GET';
  return { path: `${path}${f.query}`, init: { method: f.route.method, headers, ...(hasBody ? { body } : {}) } };
}

describe('hostile input on every route', () => {
  let t: TestService;
  let seeded: Seeded;
  before(async () => {
    t = await startTestService();
    seeded = await seedOrganisation(client(t.url, t.key));
  });
  after(() => t.close());

  it(
    `never answers 5xx to ${RUNS} generated requests, and errors are JSON {message}`,
    { timeout: LONG_TEST_MS },
    async () => {
      const routes = t.service.app.routeTable.filter((r) => !r.url.startsWith('/docs') && r.url !== '/openapi.json');
      const fields = [
        'app_name',
        'ip_list',
        'filters',
        'selectors',
        'location',
        'geo_ip_list',
        'session_config',
        'ports',
        'name',
        'is_active',
        'webhook_url',
        'deployment_request_id',
        'values',
        '__proto__',
        'constructor',
      ];
      const arbitrary: fc.Arbitrary<Fuzzed> = fc.record({
        route: fc.constantFrom(...routes),
        param: fc.option(nasty, { freq: 3 }),
        body: fc.oneof(
          fc.constant({ kind: 'none' as const }),
          fc.record({
            kind: fc.constant('raw' as const),
            text: fc.oneof(
              fc.string(),
              fc.constantFrom('{', '{"a":', '[1,2', 'undefined', '\u0000{}', '{"ip_list":["1.1.1.1",]}'),
            ),
          }),
          fc.record({ kind: fc.constant('json' as const), value: jsonish }),
          fc.record({ kind: fc.constant('mutated' as const), field: fc.constantFrom(...fields), value: jsonish }),
        ),
        contentType: fc.constantFrom(
          'application/json',
          'application/json; charset=utf-8',
          'text/plain',
          'application/x-www-form-urlencoded',
          null,
        ),
        auth: fc.constantFrom('valid', 'valid', 'valid', 'none', 'doubled', 'garbage'),
        query: fc.constantFrom(
          '',
          '?page=0',
          '?limit=99999',
          '?page=abc',
          '?page=2&limit=1',
          '?session_id=%00',
          '?limit=-5&page=1e9',
        ),
      });
      let count = 0;
      await fc.assert(
        fc.asyncProperty(arbitrary, async (f) => {
          const { path, init } = render(f, seeded, t.key);
          const res = await request(`${t.url}${path}`, init);
          count += 1;
          const label = `${init.method} ${path.slice(0, 120)} → ${res.status} ${res.text.slice(0, 160)}`;
          assert.ok(res.status < 500, label);
          if (res.status >= 400) {
            assert.match(res.contentType, /application\/json/, label);
            assert.equal(typeof JSON.parse(res.text).message, 'string', label);
          }
        }),
        { numRuns: RUNS, seed: Number(process.env['FUZZ_SEED'] ?? Date.now() % 2 ** 31) },
      );
      assert.equal(count, RUNS);
      assert.deepEqual(await selectSeatDrift(t.service.deps.db), [], 'seat accounting drifted');
    },
  );
});
