import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { DatabaseUnavailableError, PgCode, pgErrorCode } from '../db/db.js';
import { isDatabaseError } from '../observability/error-log.js';
import { OverloadedError } from './load-shedding.js';
import { httpStatusOf, type ErrorCode, type Failure, type Result } from '../domain/errors.js';

export function sendFailure(reply: FastifyReply, failure: Failure): FastifyReply {
  return reply.code(httpStatusOf(failure.code)).send({ message: failure.message, code: failure.code });
}

/** Sends the mapped value with `status`, or the failure as `{message, code}`. */
export function sendResult<T>(
  reply: FastifyReply,
  result: Result<T>,
  map: (value: T) => unknown,
  status = 200,
): FastifyReply {
  if (!result.ok) return sendFailure(reply, result.error);
  return reply.code(status).send(map(result.value));
}

function failure(code: ErrorCode, message: string): Failure {
  return { code, message };
}

/** Fastify's own error codes for what a client sent wrong, with a sentence of ours. */
const CLIENT_ERRORS: Record<string, Failure> = {
  FST_ERR_CTP_BODY_TOO_LARGE: failure('PAYLOAD_TOO_LARGE', 'The request body is larger than this server accepts.'),
  FST_ERR_CTP_INVALID_MEDIA_TYPE: failure('UNSUPPORTED_MEDIA_TYPE', 'Send the request body as application/json.'),
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: failure('VALIDATION_FAILED', 'Content-Length does not match the body sent.'),
  FST_ERR_CTP_EMPTY_JSON_BODY: failure('MALFORMED_JSON', 'The request body is empty; send a JSON object.'),
  FST_ERR_CTP_INVALID_JSON_BODY: failure('MALFORMED_JSON', 'The request body is not valid JSON.'),
  FST_ERR_BAD_URL: failure('MALFORMED_URL', 'The URL holds malformed percent-encoding.'),
  FST_ERR_MAX_PARAM_LENGTH: failure('URI_TOO_LONG', 'A path parameter of this URL is too long.'),
  FST_ERR_ASYNC_CONSTRAINT: failure('VALIDATION_FAILED', 'The request does not match any route constraint.'),
};

/**
 * Conflicts between concurrent transactions that the database settles by failing one of them:
 * the request lost a race (a name taken meanwhile, a parent deleted meanwhile, a retried
 * serialization failure or deadlock), not a bug, and a retry sees the winner's result.
 */
const CONCURRENT_CONFLICTS = new Set<string>([
  PgCode.uniqueViolation,
  PgCode.foreignKeyViolation,
  PgCode.serializationFailure,
  PgCode.deadlockDetected,
]);

/**
 * The one place errors become responses. Client mistakes get a 4xx with a sentence; lost races
 * a 409; outages a 503; anything else is a bug, logged (without request data, see
 * error-log.ts) and answered with a generic 500.
 */
export function toFailure(error: FastifyError | Error, request: FastifyRequest): Failure {
  if (error instanceof DatabaseUnavailableError) {
    return failure('SERVICE_UNAVAILABLE', 'The database is unavailable; retry shortly.');
  }
  if (error instanceof OverloadedError) {
    return failure('SERVICE_UNAVAILABLE', 'The server is overloaded; retry after the Retry-After delay.');
  }
  const fastifyError = error as FastifyError;
  if (fastifyError.validation) {
    const context = fastifyError.validationContext ?? 'body';
    const first = fastifyError.validation[0];
    const path = first?.instancePath ? `${context}${first.instancePath.replace(/\//g, '.')}` : context;
    const name = (first as { propertyName?: string } | undefined)?.propertyName;
    const what = name === undefined ? path : `${path}: the name ${JSON.stringify(name.slice(0, 64))}`;
    return failure('VALIDATION_FAILED', `${what} ${first?.message ?? 'is invalid'}.`);
  }
  if (error instanceof SyntaxError) return CLIENT_ERRORS['FST_ERR_CTP_INVALID_JSON_BODY']!;
  const sqlState = isDatabaseError(error) ? pgErrorCode(error) : undefined;
  if (sqlState !== undefined && CONCURRENT_CONFLICTS.has(sqlState)) {
    request.log.warn({ err: error }, 'request lost a race with a concurrent change');
    return failure('CONFLICT', 'This request conflicted with a concurrent change to the same resources; retry it.');
  }
  const mapped = fastifyError.code ? CLIENT_ERRORS[fastifyError.code] : undefined;
  if (mapped) return mapped;
  const status = fastifyError.statusCode;
  if (status === 429) return failure('RATE_LIMITED', error.message);
  if (sqlState === undefined && status !== undefined && status >= 400 && status < 500) {
    return failure(
      status === 413 ? 'PAYLOAD_TOO_LARGE' : status === 415 ? 'UNSUPPORTED_MEDIA_TYPE' : 'VALIDATION_FAILED',
      error.message,
    );
  }
  request.log.error({ err: error }, 'unhandled error');
  return failure('INTERNAL', 'Internal error; it has been logged.');
}
