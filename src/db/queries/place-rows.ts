/** How the place columns of a deployments or hosts row map to a PlaceRecord. */
import type { PlaceRecord } from '../../domain/records.js';

export interface PlaceRow {
  city: string;
  country: string;
  continent: string;
  administrative_division: string;
  region: string;
  timezone: string;
  latitude: number | null;
  longitude: number | null;
}

/** The place columns, in the order the deployments and hosts tables have them. */
export const PLACE_COLUMNS = [
  'city',
  'country',
  'continent',
  'administrative_division',
  'region',
  'timezone',
  'latitude',
  'longitude',
] as const satisfies ReadonlyArray<keyof PlaceRow>;

export function placeOf(row: PlaceRow): PlaceRecord {
  return {
    city: row.city,
    country: row.country,
    continent: row.continent,
    administrativeDivision: row.administrative_division,
    region: row.region,
    timezone: row.timezone,
    latitude: row.latitude,
    longitude: row.longitude,
  };
}
