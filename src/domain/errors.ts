/**
 * The closed list of error codes a client can see, and the one map from code to HTTP status.
 * Expected failures travel as `Failure` values; exceptions are reserved for bugs and outages.
 */
export const ERROR_STATUS = {
  MALFORMED_JSON: 400,
  MALFORMED_URL: 400,
  MALFORMED_REQUEST: 400,
  VALIDATION_FAILED: 400,
  UNKNOWN_APP: 400,
  UNKNOWN_VERSION: 400,
  APP_INACTIVE: 400,
  VERSION_INACTIVE: 400,
  NOT_SESSION_BASED: 400,
  /** The deployment's provider keeps no logs or metrics for it (or it is gone). */
  DEPLOYMENT_DATA_UNAVAILABLE: 400,
  UNAUTHORIZED: 401,
  OPERATOR_ONLY: 403,
  ROUTE_NOT_FOUND: 404,
  APP_NOT_FOUND: 404,
  VERSION_NOT_FOUND: 404,
  DEPLOYMENT_NOT_FOUND: 404,
  SESSION_NOT_FOUND: 404,
  KEY_NOT_FOUND: 404,
  DELIVERY_NOT_FOUND: 404,
  ORG_NOT_FOUND: 404,
  HOST_NOT_FOUND: 404,
  /** Operator commands only (`rallypoint jobs retry`, `delete`): background jobs are not on the API. */
  JOB_NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  REQUEST_TIMEOUT: 408,
  CONFLICT: 409,
  APP_EXISTS: 409,
  VERSION_EXISTS: 409,
  APP_IN_USE: 409,
  VERSION_IN_USE: 409,
  DEPLOYMENT_UNAVAILABLE: 409,
  IDEMPOTENCY_IN_PROGRESS: 409,
  DELIVERY_NOT_DEAD: 409,
  JOB_NOT_DEAD: 409,
  JOB_NOT_GIVEN_UP: 409,
  LAST_ACTIVE_KEY: 409,
  ORG_EXISTS: 409,
  ORG_IN_USE: 409,
  HOST_EXISTS: 409,
  HOST_IN_USE: 409,
  ALREADY_TERMINATING: 410,
  PAYLOAD_TOO_LARGE: 413,
  URI_TOO_LONG: 414,
  UNSUPPORTED_MEDIA_TYPE: 415,
  NOT_ENOUGH_SEATS: 422,
  SESSION_NOT_ACCEPTING_USERS: 422,
  DEPLOYMENT_NOT_ACCEPTING_USERS: 422,
  NO_PROVIDER: 422,
  NO_HOST_FITS: 422,
  IDEMPOTENCY_KEY_REUSED: 422,
  RATE_LIMITED: 429,
  /** The key or its organisation holds as many `/v1/events` streams as allowed (EVENT_STREAMS_PER_KEY, EVENT_STREAMS_PER_ORG). */
  TOO_MANY_STREAMS: 429,
  HEADERS_TOO_LARGE: 431,
  SERVICE_UNAVAILABLE: 503,
  INTERNAL: 500,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export interface Failure {
  readonly code: ErrorCode;
  readonly message: string;
}

export type Result<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: Failure };

export function ok<T>(value: T): Result<T> {
  return { ok: true, value };
}

export function fail<T = never>(code: ErrorCode, message: string): Result<T> {
  return { ok: false, error: { code, message } };
}

export function httpStatusOf(code: ErrorCode): number {
  return ERROR_STATUS[code];
}
