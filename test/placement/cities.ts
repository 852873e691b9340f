/** Places for placement tests, beyond the harness's MONTREAL, FRANKFURT and TOKYO. */
import { FRANKFURT, MONTREAL, TOKYO } from '../support/harness.js';

export { FRANKFURT, MONTREAL, TOKYO };
export const SAN_JOSE = {
  city: 'San Jose',
  country: 'United States of America',
  continent: 'North America',
  administrative_division: 'California',
  timezone: 'America/Los_Angeles',
  latitude: 37.3382,
  longitude: -121.8863,
};
export const LONDON = {
  city: 'London',
  country: 'United Kingdom',
  continent: 'Europe',
  administrative_division: 'England',
  timezone: 'Europe/London',
  latitude: 51.5072,
  longitude: -0.1276,
};
export const SYDNEY = {
  city: 'Sydney',
  country: 'Australia',
  continent: 'Oceania',
  administrative_division: 'New South Wales',
  timezone: 'Australia/Sydney',
  latitude: -33.8688,
  longitude: 151.2093,
};

/** Player positions: near a city, never exactly on it. */
export const PARIS = { latitude: 48.8566, longitude: 2.3522 };
export const OSAKA = { latitude: 34.6937, longitude: 135.5023 };
export const TORONTO = { latitude: 43.6532, longitude: -79.3832 };

/** Public IPs and the DB-IP city each resolves to (checked in each file's setup). */
export const IP_MOUNTAIN_VIEW = '8.8.8.8';
export const IP_TOKYO = '133.242.0.3';
export const IP_FRANKFURT = '80.239.137.1';
export const IP_MONTREAL = '24.48.0.1';
