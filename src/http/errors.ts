import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { DatabaseUnavailableError } from '../db/db.js';
import { httpStatusOf, type ErrorCode, type Failure, type Result } from '../domain/errors.js';

export function sendFailure(reply: FastifyReply, failure: Failure): FastifyReply {
  return reply.code(httpStatusOf(failure.code)).send({ message: failure.message, code: failure.code });
}

/** Sends the mapped value with `status`, or the failure as `{message, code}`. */
export function sendResult<T>(reply: FastifyReply, result: Result<T>, map: (value: T) => unknown, status = 200): FastifyReply {
  if (!result.ok) return sendFailure(reply, result.error);
  return reply.code(status).send(map(result.value));
}

function failure(code: ErrorCode, message: string): Failure {
  return { code, message };
}

/** Fastify's own error codes for what a client sent wrong. */
const CLIENT_ERRORS: Record<string, ErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'VALIDATION_FAILED',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'MALFORMED_JSON',
  FST_ERR_CTP_INVALID_JSON_BODY: 'MALFORMED_JSON',
  FST_ERR_BAD_URL: 'VALIDATION_FAILED',
  FST_ERR_ASYNC_CONSTRAINT: 'VALIDATION_FAILED',
};

/**
 * The one place errors become responses. Client mistakes get a 4xx with a sentence; outages a
 * 503; anything else is a bug, logged in full and answered with a generic 500.
 */
export function toFailure(error: FastifyError | Error, request: FastifyRequest): Failure {
  if (error instanceof DatabaseUnavailableError) {
    return failure('SERVICE_UNAVAILABLE', 'The database is unavailable; retry shortly.');
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
  if (error instanceof SyntaxError || fastifyError.code === 'FST_ERR_CTP_INVALID_JSON_BODY') {
    return failure('MALFORMED_JSON', 'The request body is not valid JSON.');
  }
  const mapped = fastifyError.code ? CLIENT_ERRORS[fastifyError.code] : undefined;
  if (mapped) return failure(mapped, error.message);
  const status = fastifyError.statusCode;
  if (status !== undefined && status >= 400 && status < 500) {
    return failure(status === 413 ? 'PAYLOAD_TOO_LARGE' : status === 415 ? 'UNSUPPORTED_MEDIA_TYPE' : 'VALIDATION_FAILED', error.message);
  }
  request.log.error({ err: error }, 'unhandled error');
  return failure('INTERNAL', 'Internal error; it has been logged.');
}
