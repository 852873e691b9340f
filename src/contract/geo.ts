/** IP lookup and locations, shapes from Edgegap's full v1 document (IPAddressLookupResponse, Locations). */
import { Type } from '@sinclair/typebox';
import type { IpLookup } from '../app/geo.js';
import type { ProviderLocation } from '../providers/provider.js';

const CodeAndName = Type.Object({ code: Type.String(), name: Type.String() });

export const IpAddressLookupResponse = Type.Object({
  type: Type.Optional(Type.String({ description: '"ipv4" or "ipv6"' })),
  ip_address: Type.String(),
  location: Type.Optional(
    Type.Object({
      continent: Type.Optional(CodeAndName),
      country: Type.Optional(CodeAndName),
      latitude: Type.Optional(Type.Number()),
      longitude: Type.Optional(Type.Number()),
    }),
  ),
});

export const IpParams = Type.Object({ ip: Type.String({ maxLength: 64 }) });

export const IpAddressesLookupPayload = Type.Object({
  addresses: Type.Array(Type.String({ maxLength: 64 }), { maxItems: 1000 }),
});

export const IpAddressesLookupResponse = Type.Object({ addresses: Type.Array(IpAddressLookupResponse) });

export const LocationsQuery = Type.Object({
  app: Type.Optional(Type.String({ maxLength: 256 })),
  version: Type.Optional(Type.String({ maxLength: 256 })),
  type: Type.Optional(Type.String({ maxLength: 64 })),
  tags: Type.Optional(Type.String({ maxLength: 16 })),
});

export const Location = Type.Object({
  city: Type.String(),
  continent: Type.String(),
  country: Type.String(),
  timezone: Type.String(),
  administrative_division: Type.String(),
  latitude: Type.Number(),
  longitude: Type.Number(),
  type: Type.String(),
  tags: Type.Optional(Type.Array(Type.Object({ key: Type.String(), value: Type.String() }))),
});

export const Locations = Type.Object({ locations: Type.Array(Location), messages: Type.Array(Type.String()) });

/** Wire view of one lookup: `location` omitted (never null) when the address has no place. */
export function ipLookupView(lookup: IpLookup) {
  return { type: lookup.family, ip_address: lookup.ip, ...(lookup.location ? { location: lookup.location } : {}) };
}

export function locationView(location: ProviderLocation, withTags: boolean) {
  return {
    city: location.city,
    continent: location.continent,
    country: location.country,
    timezone: location.timezone,
    administrative_division: location.administrativeDivision,
    latitude: location.latitude ?? 0,
    longitude: location.longitude ?? 0,
    type: 'standard',
    ...(withTags ? { tags: [] } : {}),
  };
}
