import { after, before, describe, it } from '../support/node-test.js';
import assert from 'node:assert/strict';
import { client, registerServer, seedVersion, startTestService, type TestService } from '../support/harness.js';
import { FRANKFURT, LONDON, MONTREAL, PARIS, SAN_JOSE, TOKYO } from './cities.js';

/** Location constraints and selectors exclude what they should; ranking applies to what is left. */
describe('placement: filters and selectors', () => {
  let t: TestService;
  let call: ReturnType<typeof client>;
  let app: string;
  let ids: Record<string, string>;
  before(async () => {
    t = await startTestService();
    call = client(t.url, t.key);
    const seeded = await seedVersion(call, { sockets: 1000 });
    app = seeded.app;
    ids = {};
    const tagsOf: Record<string, string[]> = {
      Frankfurt: ['eu', 'gpu'],
      London: ['eu'],
      Montreal: ['na', 'gpu'],
      Tokyo: ['asia'],
      'San Jose': ['na'],
    };
    for (const location of [FRANKFURT, LONDON, MONTREAL, TOKYO, SAN_JOSE]) {
      ids[location.city] = await registerServer(call, {
        ...seeded,
        location,
        sockets: 1000,
        tags: tagsOf[location.city]!,
      });
    }
  });
  after(() => t.close());

  /** Where a session from Paris lands with these extra fields; undefined when Unprocessable. */
  async function placeFromParis(extra: Record<string, unknown>): Promise<string | undefined> {
    const created = await call('POST', '/v1/session', {
      app_name: app,
      ip_list: ['1.2.3.4'],
      location: PARIS,
      ...extra,
    });
    assert.equal(created.status, 200, JSON.stringify(created.body));
    const got = await call('GET', `/v1/session/${created.body.session_id}`);
    if (got.body.status === 'Unprocessable') return undefined;
    assert.equal(got.body.status, 'Ready', JSON.stringify(got.body));
    return created.body.deployment_request_id;
  }
  const filter = (field: string, filter_type: string, values: string[]) => ({
    filters: [{ field, filter_type, values }],
  });

  it('without constraints the nearest wins (London from Paris)', async () => {
    assert.equal(await placeFromParis({}), ids['London']);
  });

  it('any: only the listed places qualify, nearest of them first', async () => {
    assert.equal(await placeFromParis(filter('city', 'any', ['Tokyo', 'Montreal'])), ids['Montreal']);
    assert.equal(await placeFromParis(filter('country', 'any', ['Japan'])), ids['Tokyo']);
    assert.equal(await placeFromParis(filter('continent', 'any', ['North America'])), ids['Montreal']);
    assert.equal(await placeFromParis(filter('administrative_division', 'any', ['hesse'])), ids['Frankfurt']);
    assert.equal(await placeFromParis(filter('city', 'any', ['Atlantis'])), undefined);
  });

  it('not: the listed places are excluded', async () => {
    assert.equal(await placeFromParis(filter('continent', 'not', ['Europe'])), ids['Montreal']);
    assert.equal(await placeFromParis(filter('city', 'not', ['London'])), ids['Frankfurt']);
    assert.equal(
      await placeFromParis(filter('country', 'not', ['United Kingdom', 'Germany', 'Canada'])),
      ids['San Jose'],
    );
  });

  it('all: a deployment must match every value (one place can only be one city)', async () => {
    assert.equal(await placeFromParis(filter('city', 'all', ['Tokyo'])), ids['Tokyo']);
    assert.equal(await placeFromParis(filter('city', 'all', ['Tokyo', 'Montreal'])), undefined);
    assert.equal(await placeFromParis(filter('country', 'all', ['Japan', 'JP'])), ids['Tokyo']);
  });

  it('country and continent match by ISO code or by name, in any case', async () => {
    assert.equal(await placeFromParis({ country: 'CA' }), ids['Montreal']);
    assert.equal(await placeFromParis({ country: 'canada' }), ids['Montreal']);
    assert.equal(await placeFromParis({ country: 'US' }), ids['San Jose']); // stored as "United States of America"
    assert.equal(await placeFromParis({ country: 'United States' }), ids['San Jose']);
    assert.equal(await placeFromParis({ continent: 'AS' }), ids['Tokyo']);
    assert.equal(await placeFromParis(filter('country', 'not', ['GB', 'de'])), ids['Montreal']);
  });

  it('several filters and plain fields combine with AND', async () => {
    assert.equal(
      await placeFromParis({ ...filter('continent', 'any', ['North America']), city: 'San Jose' }),
      ids['San Jose'],
    );
    assert.equal(
      await placeFromParis({
        filters: [
          { field: 'continent', filter_type: 'any', values: ['Europe'] },
          { field: 'city', filter_type: 'not', values: ['London'] },
        ],
      }),
      ids['Frankfurt'],
    );
    assert.equal(await placeFromParis({ city: 'Tokyo', country: 'Canada' }), undefined);
  });

  it('an unprocessable session says why', async () => {
    const created = await call('POST', '/v1/session', { app_name: app, ip_list: ['1.2.3.4'], city: 'Atlantis' });
    const got = await call('GET', `/v1/session/${created.body.session_id}`);
    assert.equal(got.body.status, 'Unprocessable');
    assert.equal(got.body.linked, false);
    assert.match(got.body.error, /location/);
  });

  it('an unknown filter field is a 400 naming it, and nothing is created', async () => {
    const before = await call('GET', '/v1/sessions');
    const created = await call('POST', '/v1/session', {
      app_name: app,
      ip_list: ['1.2.3.4'],
      ...filter('planet', 'any', ['Mars']),
    });
    assert.equal(created.status, 400);
    assert.equal(created.body.code, 'VALIDATION_FAILED');
    assert.match(created.body.message, /planet/);
    const after = await call('GET', '/v1/sessions');
    assert.equal(after.body.total_count, before.body.total_count);
  });

  it('selectors: every non-tag_only tag is required; tag_only ones do not constrain', async () => {
    assert.equal(await placeFromParis({ selectors: [{ tag: 'gpu' }] }), ids['Frankfurt']);
    assert.equal(await placeFromParis({ selectors: [{ tag: 'gpu' }, { tag: 'na' }] }), ids['Montreal']);
    assert.equal(await placeFromParis({ selectors: [{ tag: 'asia' }, { tag: 'gpu' }] }), undefined);
    assert.equal(await placeFromParis({ selectors: [{ tag: 'asia', tag_only: true }] }), ids['London']);
  });

  it('selectors and location filters together', async () => {
    assert.equal(
      await placeFromParis({ selectors: [{ tag: 'gpu' }], ...filter('continent', 'not', ['Europe']) }),
      ids['Montreal'],
    );
    assert.equal(await placeFromParis({ selectors: [{ tag: 'eu' }], country: 'JP' }), undefined);
  });
});
