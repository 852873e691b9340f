/**
 * The Edgegap IP lookup and locations routes: what the IP database says about addresses, and
 * where the configured providers can start deployments.
 */
import { isIP } from 'node:net';
import { selectApp } from '../db/queries/apps.js';
import { selectVersion } from '../db/queries/versions.js';
import { selectHosts } from '../db/queries/hosts.js';
import { fail, ok, type Result } from '../domain/errors.js';
import { CONTINENT_NAMES, countryName, type ContinentCode } from '../domain/place-names.js';
import type { ProviderLocation } from '../providers/provider.js';
import type { AppDeps } from './deps.js';

/** Edgegap documents at most 20 addresses per bulk lookup. */
export const MAX_LOOKUP_ADDRESSES = 20;

export interface IpLookup {
  ip: string;
  family: 'ipv4' | 'ipv6';
  /** Absent for private, loopback, reserved and unknown addresses. */
  location?: {
    continent?: { code: string; name: string };
    country?: { code: string; name: string };
    latitude: number;
    longitude: number;
  };
}

function lookupOne(deps: Pick<AppDeps, 'geo'>, ip: string): IpLookup {
  const family = isIP(ip) === 4 ? 'ipv4' : 'ipv6';
  if (deps.geo.placeOf) {
    const place = deps.geo.placeOf(ip);
    if (!place) return { ip, family };
    const continentName = CONTINENT_NAMES[place.continentCode as ContinentCode] as string | undefined;
    const country = place.countryCode ? countryName(place.countryCode) : undefined;
    return {
      ip,
      family,
      location: {
        ...(continentName ? { continent: { code: place.continentCode, name: continentName } } : {}),
        ...(country ? { country: { code: place.countryCode, name: country } } : {}),
        latitude: place.latitude,
        longitude: place.longitude,
      },
    };
  }
  const position = deps.geo.positionOf(ip);
  return position ? { ip, family, location: position } : { ip, family };
}

function invalidOf(ips: readonly string[]): string[] {
  return ips.filter((ip) => isIP(ip) === 0);
}

export function lookupIp(deps: Pick<AppDeps, 'geo'>, ip: string): Result<IpLookup> {
  if (isIP(ip) === 0) return fail('VALIDATION_FAILED', `Not an IP address: ${JSON.stringify(ip.slice(0, 64))}.`);
  return ok(lookupOne(deps, ip));
}

export function lookupIps(deps: Pick<AppDeps, 'geo'>, ips: readonly string[]): Result<IpLookup[]> {
  if (ips.length > MAX_LOOKUP_ADDRESSES)
    return fail('VALIDATION_FAILED', `At most ${MAX_LOOKUP_ADDRESSES} addresses per lookup; got ${ips.length}.`);
  const bad = invalidOf(ips);
  if (bad.length > 0)
    return fail(
      'VALIDATION_FAILED',
      `Not an IP address: ${bad
        .slice(0, 5)
        .map((ip) => JSON.stringify(ip.slice(0, 64)))
        .join(', ')}.`,
    );
  return ok(ips.map((ip) => lookupOne(deps, ip)));
}

export interface LocationsQuery {
  app?: string | undefined;
  version?: string | undefined;
  type?: string | undefined;
}

export interface LocationList {
  locations: ProviderLocation[];
  messages: string[];
}

/** The places of the active hosts, when a provider that runs on hosts is configured. */
async function hostLocations(deps: AppDeps): Promise<ProviderLocation[]> {
  const provider = deps.providers.all().find((p) => p.runsOnHosts);
  if (!provider) return [];
  return (await selectHosts(deps.db))
    .filter((host) => host.state === 'active')
    .map((host) => ({ provider: provider.name, ...host.place }));
}

/** Every provider location and active host place once (providers may share a place); the app and version must exist if named. */
export async function listLocations(
  deps: AppDeps,
  orgId: number,
  query: LocationsQuery,
): Promise<Result<LocationList>> {
  if (query.version !== undefined && query.app === undefined)
    return fail('VALIDATION_FAILED', 'The version parameter needs the app parameter.');
  if (query.app !== undefined) {
    const app = await selectApp(deps.db, orgId, query.app);
    if (!app) return fail('UNKNOWN_APP', `Application "${query.app}" does not exist.`);
    if (query.version !== undefined && !(await selectVersion(deps.db, app.id, query.version))) {
      return fail('UNKNOWN_VERSION', `Application "${query.app}" has no version named "${query.version}".`);
    }
  }
  // Every location a provider offers is of Edgegap's "standard" type.
  if (query.type !== undefined && query.type !== 'standard')
    return ok({ locations: [], messages: [`No locations of type "${query.type}".`] });
  const seen = new Set<string>();
  const locations: ProviderLocation[] = [];
  let withoutPosition = 0;
  for (const location of [...deps.providers.locations(), ...(await hostLocations(deps))]) {
    if (location.latitude === null || location.longitude === null) {
      withoutPosition += 1;
      continue;
    }
    const key = JSON.stringify([
      location.city,
      location.country,
      location.administrativeDivision,
      location.latitude,
      location.longitude,
    ]);
    if (seen.has(key)) continue;
    seen.add(key);
    locations.push(location);
  }
  const messages =
    withoutPosition > 0 ? [`${withoutPosition} provider location(s) without coordinates are not listed.`] : [];
  return ok({ locations, messages });
}
