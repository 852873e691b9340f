/**
 * Country and continent names and codes. Deployments carry place names ("Canada", "North
 * America") while clients and the IP database speak ISO codes ("CA", "NA"); placement filters
 * accept either, so a filter value stands for its whole group of equivalent spellings.
 */

export const CONTINENT_NAMES = {
  AF: 'Africa',
  AN: 'Antarctica',
  AS: 'Asia',
  EU: 'Europe',
  NA: 'North America',
  OC: 'Oceania',
  SA: 'South America',
} as const;
export type ContinentCode = keyof typeof CONTINENT_NAMES;

/** ISO 3166-1 alpha-2 codes by continent (GeoNames' assignment; XK is Kosovo's user-assigned code). */
const COUNTRIES_BY_CONTINENT: Record<ContinentCode, string> = {
  AF: 'DZ AO BJ BW BF BI CM CV CF TD KM CG CD CI DJ EG GQ ER ET GA GM GH GN GW KE LS LR LY MG MW ML MR MU YT MA MZ NA NE NG RE RW SH ST SN SC SL SO ZA SS SD SZ TZ TG TN UG EH ZM ZW',
  AN: 'AQ BV GS HM TF',
  AS: 'AF AM AZ BH BD BT IO BN KH CN CX CC CY GE HK IN ID IR IQ IL JP JO KZ KP KR KW KG LA LB MO MY MV MN MM NP OM PK PS PH QA SA SG LK SY TW TJ TH TL TR TM AE UZ VN YE',
  EU: 'AX AL AD AT BY BE BA BG HR CZ DK EE FO FI FR DE GI GR GG HU IS IE IM IT JE XK LV LI LT LU MT MD MC ME NL MK NO PL PT RO RU SM RS SK SI ES SJ SE CH UA GB VA',
  NA: 'AI AG AW BS BB BZ BM BQ VG CA KY CR CU CW DM DO SV GL GD GP GT HT HN JM MQ MX MS NI PA PR BL KN LC MF PM VC SX TT TC US UM VI',
  OC: 'AS AU CK FJ PF GU KI MH FM NR NC NZ NU NF MP PW PG PN WS SB TK TO TV VU WF',
  SA: 'AR BO BR CL CO EC FK GF GY PY PE SR UY VE',
};

const CONTINENT_OF_COUNTRY = new Map<string, ContinentCode>(
  (Object.entries(COUNTRIES_BY_CONTINENT) as Array<[ContinentCode, string]>).flatMap(([continent, codes]) =>
    codes.split(' ').map((code) => [code, continent] as [string, ContinentCode]),
  ),
);

/** Other names providers and people use for a country, beyond the English CLDR name. */
const EXTRA_COUNTRY_NAMES: Record<string, string[]> = {
  US: ['United States of America', 'USA'],
  GB: ['UK', 'Great Britain'],
  RU: ['Russian Federation'],
  CZ: ['Czech Republic'],
  KR: ['Korea', 'Republic of Korea'],
  TR: ['Turkey', 'Türkiye'],
  NL: ['The Netherlands', 'Holland'],
  HK: ['Hong Kong'],
  MO: ['Macau', 'Macao'],
  AE: ['UAE'],
  VN: ['Viet Nam'],
  CI: ["Cote d'Ivoire", 'Ivory Coast'],
};

const regionNames = new Intl.DisplayNames(['en'], { type: 'region', fallback: 'none' });

/** The English name of an ISO country code ("CA" → "Canada"), or undefined when unknown. */
export function countryName(code: string): string | undefined {
  const upper = code.toUpperCase();
  if (!CONTINENT_OF_COUNTRY.has(upper)) return undefined;
  return regionNames.of(upper) ?? undefined;
}

export function continentOfCountry(code: string): ContinentCode | undefined {
  return CONTINENT_OF_COUNTRY.get(code.toUpperCase());
}

function lower(values: Iterable<string>): string[] {
  return [...new Set([...values].map((v) => v.trim().toLowerCase()))];
}

/** Lower-cased spelling → its group of equivalent lower-cased spellings (code and names). */
function buildGroups(entries: Array<[code: string, names: string[]]>): Map<string, string[]> {
  const groups = new Map<string, string[]>();
  for (const [code, names] of entries) {
    const group = lower([code, ...names]);
    for (const spelling of group) groups.set(spelling, group);
  }
  return groups;
}

const COUNTRY_GROUPS = buildGroups(
  [...CONTINENT_OF_COUNTRY.keys()].map((code) => [
    code,
    [countryName(code), ...(EXTRA_COUNTRY_NAMES[code] ?? [])].filter((n): n is string => !!n),
  ]),
);
const CONTINENT_GROUPS = buildGroups(Object.entries(CONTINENT_NAMES).map(([code, name]) => [code, [name]]));

/**
 * Every spelling that means the same place as `value` for this field, lower-cased: "CA" and
 * "Canada" for a country, "EU" and "Europe" for a continent; other fields match as written.
 */
export function equivalentPlaceNames(field: string, value: string): string[] {
  const key = value.trim().toLowerCase();
  const groups = field === 'country' ? COUNTRY_GROUPS : field === 'continent' ? CONTINENT_GROUPS : undefined;
  return groups?.get(key) ?? [key];
}
