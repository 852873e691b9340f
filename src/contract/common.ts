import { Type, type Static, type TSchema } from '@sinclair/typebox';

/** Error body of every failure. `code` is one of the closed list in domain/errors.ts. */
export const ErrorBody = Type.Object(
  { message: Type.String(), code: Type.Optional(Type.String()), request_id: Type.Optional(Type.String()) },
  { $id: 'Error' },
);

export const Pagination = Type.Object({
  number: Type.Integer(),
  next_page_number: Type.Union([Type.Integer(), Type.Null()]),
  previous_page_number: Type.Union([Type.Integer(), Type.Null()]),
  paginator: Type.Object({ num_pages: Type.Integer() }),
  has_next: Type.Boolean(),
  has_previous: Type.Boolean(),
});
export type Pagination = Static<typeof Pagination>;

export const PageQuery = Type.Object({
  page: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000, default: 1 })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
});
export type PageQuery = Static<typeof PageQuery>;

export const LocationModel = Type.Object({
  latitude: Type.Number({ minimum: -90, maximum: 90 }),
  longitude: Type.Number({ minimum: -180, maximum: 180 }),
});

export const GeoIpListModel = Type.Object({
  ip: Type.String({ maxLength: 64 }),
  latitude: Type.Number({ minimum: -90, maximum: 90 }),
  longitude: Type.Number({ minimum: -180, maximum: 180 }),
});

export const FilterType = Type.Union([Type.Literal('any'), Type.Literal('all'), Type.Literal('not')]);

export const PortMapping = Type.Object({
  external: Type.Optional(Type.Integer()),
  internal: Type.Optional(Type.Integer()),
  protocol: Type.Optional(Type.String()),
  name: Type.Optional(Type.String()),
  tls_upgrade: Type.Optional(Type.Boolean()),
  link: Type.Optional(Type.String()),
  proxy: Type.Optional(Type.Integer()),
});

export const DeploymentLocation = Type.Object({
  city: Type.String(),
  country: Type.String(),
  continent: Type.String(),
  administrative_division: Type.String(),
  timezone: Type.String(),
  latitude: Type.Number(),
  longitude: Type.Number(),
});

/**
 * An environment variable name: a process environment is `NAME=value` pairs ending in NUL, so a
 * name holding `=` or NUL would set another variable than the one written (`ARBITRIUM_X=forged`).
 */
export const EnvKey = Type.String({ minLength: 1, maxLength: 256, pattern: '^[^=\\u0000]+$' });

export const IpList = Type.Array(Type.String({ maxLength: 64 }), { maxItems: 1000 });

export function paginationOf(page: number, limit: number, total: number): Pagination {
  const numPages = Math.max(1, Math.ceil(total / limit));
  return {
    number: page,
    next_page_number: page < numPages ? page + 1 : null,
    previous_page_number: page > 1 ? Math.min(page - 1, numPages) : null,
    paginator: { num_pages: numPages },
    has_next: page < numPages,
    has_previous: page > 1,
  };
}

export function Nullable<T extends TSchema>(schema: T) {
  return Type.Union([schema, Type.Null()]);
}
