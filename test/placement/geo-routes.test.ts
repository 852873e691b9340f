import { after, before, describe, it } from '../support/node-test.js';
import assert from 'node:assert/strict';
import type { Provider, ProviderLocation } from '../../src/providers/provider.js';
import { client, seedVersion, startTestService, type TestService } from '../support/harness.js';
import { FRANKFURT, MONTREAL } from './cities.js';

const place = (l: typeof MONTREAL): Omit<ProviderLocation, 'provider'> => ({
  city: l.city,
  country: l.country,
  continent: l.continent,
  administrativeDivision: l.administrative_division,
  region: '',
  timezone: l.timezone,
  latitude: l.latitude,
  longitude: l.longitude,
});

/** A provider that only offers places (it is never asked to start anything here). */
function placesProvider(name: string, locations: Array<Omit<ProviderLocation, 'provider'>>): Provider {
  return {
    name,
    locations: () => locations.map((l) => ({ ...l, provider: name })),
    start: () => Promise.reject(new Error('not in these tests')),
    stop: () => Promise.resolve(),
  };
}

describe('IP lookup and locations routes', () => {
  let t: TestService;
  let call: ReturnType<typeof client>;
  before(async () => {
    t = await startTestService({
      providers: [
        placesProvider('east', [
          place(MONTREAL),
          place(FRANKFURT),
          { ...place(MONTREAL), latitude: null, longitude: null, city: 'Nowhere' },
        ]),
        placesProvider('west', [place(MONTREAL)]),
      ],
    });
    call = client(t.url, t.key);
  });
  after(() => t.close());

  it('GET /v1/ip/{ip}/lookup answers the IPAddressLookupResponse of a public IPv4 address', async () => {
    const r = await call('GET', '/v1/ip/8.8.8.8/lookup');
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type') ?? '', /application\/json/);
    const { location, ...rest } = r.body;
    assert.deepEqual(rest, { type: 'ipv4', ip_address: '8.8.8.8' });
    assert.deepEqual(location.continent, { code: 'NA', name: 'North America' });
    assert.deepEqual(location.country, { code: 'US', name: 'United States' });
    assert.ok(
      Math.abs(location.latitude - 37.42) < 0.1 && Math.abs(location.longitude + 122.08) < 0.1,
      JSON.stringify(location),
    );
  });

  it('looks up IPv6 and IPv4-mapped IPv6 addresses', async () => {
    const v6 = await call('GET', '/v1/ip/2001:4860:4860::8888/lookup');
    assert.equal(v6.status, 200);
    assert.equal(v6.body.type, 'ipv6');
    assert.equal(v6.body.ip_address, '2001:4860:4860::8888');
    assert.equal(typeof v6.body.location.latitude, 'number');
    assert.equal(v6.body.location.country.code.length, 2);
    const mapped = await call('GET', '/v1/ip/::ffff:133.242.0.3/lookup');
    assert.equal(mapped.body.location.country.code, 'JP');
    assert.deepEqual(mapped.body.location.continent, { code: 'AS', name: 'Asia' });
  });

  it('private, loopback, link-local, unspecified and documentation addresses have no location (omitted, not null)', async () => {
    for (const ip of [
      '10.1.2.3',
      '192.168.1.1',
      '172.16.5.4',
      '127.0.0.1',
      '169.254.1.1',
      '0.0.0.0',
      '100.64.0.1',
      '203.0.113.10',
      '::1',
      '::',
      'fe80::1',
      'fd00::5',
    ]) {
      const r = await call('GET', `/v1/ip/${ip}/lookup`);
      assert.equal(r.status, 200, ip);
      assert.deepEqual(r.body, { type: ip.includes(':') ? 'ipv6' : 'ipv4', ip_address: ip }, ip);
    }
  });

  it('an invalid IP is a 400 {message, code}', async () => {
    for (const ip of ['not-an-ip', '999.1.1.1', '1.2.3', 'example.com']) {
      const r = await call('GET', `/v1/ip/${ip}/lookup`);
      assert.equal(r.status, 400, ip);
      assert.equal(r.body.code, 'VALIDATION_FAILED');
      assert.match(r.body.message, /IP/);
    }
  });

  it('POST /v1/ips/lookup answers each address in order', async () => {
    const r = await call('POST', '/v1/ips/lookup', { addresses: ['133.242.0.3', '10.0.0.1', '80.239.137.1'] });
    assert.equal(r.status, 200);
    assert.deepEqual(
      r.body.addresses.map((a: any) => [a.ip_address, a.type, a.location?.country?.code]),
      [
        ['133.242.0.3', 'ipv4', 'JP'],
        ['10.0.0.1', 'ipv4', undefined],
        ['80.239.137.1', 'ipv4', 'DE'],
      ],
    );
    assert.equal('location' in r.body.addresses[1], false);
    const empty = await call('POST', '/v1/ips/lookup', { addresses: [] });
    assert.deepEqual(empty.body, { addresses: [] });
  });

  it('POST /v1/ips/lookup refuses invalid addresses, more than 20, and bad bodies with 400', async () => {
    const bad = await call('POST', '/v1/ips/lookup', { addresses: ['8.8.8.8', 'nope'] });
    assert.equal(bad.status, 400);
    assert.match(bad.body.message, /nope/);
    const many = await call('POST', '/v1/ips/lookup', {
      addresses: Array.from({ length: 21 }, (_, i) => `8.8.8.${i}`),
    });
    assert.equal(many.status, 400);
    assert.match(many.body.message, /20/);
    for (const body of [{}, { addresses: '8.8.8.8' }, { addresses: [1] }, '{not json']) {
      const r = await call('POST', '/v1/ips/lookup', body);
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.equal(typeof r.body.message, 'string');
    }
  });

  it('the IP routes need a key', async () => {
    const anonymous = client(t.url, undefined);
    assert.equal((await anonymous('GET', '/v1/ip/8.8.8.8/lookup')).status, 401);
    assert.equal((await anonymous('POST', '/v1/ips/lookup', { addresses: [] })).status, 401);
    assert.equal((await anonymous('GET', '/v1/locations')).status, 401);
  });

  it('GET /v1/locations lists each provider place once, in the Locations shape', async () => {
    const r = await call('GET', '/v1/locations');
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.locations, [
      {
        city: 'Montreal',
        country: 'Canada',
        continent: 'North America',
        administrative_division: 'Quebec',
        timezone: 'America/Toronto',
        latitude: MONTREAL.latitude,
        longitude: MONTREAL.longitude,
        type: 'standard',
      },
      {
        city: 'Frankfurt',
        country: 'Germany',
        continent: 'Europe',
        administrative_division: 'Hesse',
        timezone: 'Europe/Berlin',
        latitude: FRANKFURT.latitude,
        longitude: FRANKFURT.longitude,
        type: 'standard',
      },
    ]);
    assert.deepEqual(r.body.messages, ['1 provider location(s) without coordinates are not listed.']);
    const tagged = await call('GET', '/v1/locations?tags=true');
    assert.deepEqual(tagged.body.locations[0].tags, []);
    const edge = await call('GET', '/v1/locations?type=edge');
    assert.deepEqual(edge.body.locations, []);
  });

  it('GET /v1/locations checks a named app and version', async () => {
    const { app, version } = await seedVersion(call);
    assert.equal((await call('GET', `/v1/locations?app=${app}&version=${version}`)).body.locations.length, 2);
    const noApp = await call('GET', '/v1/locations?app=missing-app');
    assert.equal(noApp.status, 400);
    assert.equal(noApp.body.code, 'UNKNOWN_APP');
    const noVersion = await call('GET', `/v1/locations?app=${app}&version=v404`);
    assert.equal(noVersion.status, 400);
    assert.equal(noVersion.body.code, 'UNKNOWN_VERSION');
  });
});
