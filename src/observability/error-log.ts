/**
 * What a logged error may say. A database error's `detail`, `where`, `hint`, message and the
 * statement's parameters can quote the request around the failure (a registry
 * `private_token`, an env value...), so only its SQLSTATE, constraint and table are kept, with
 * a fixed sentence. Installed as the logger's `err` serializer: every `log.x({ err })` goes
 * through it.
 */
const SQLSTATE = /^[0-9A-Z]{5}$/;

/** An error the database server raised (it carries a SQLSTATE and a severity). */
export function isDatabaseError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { code, severity } = error as { code?: unknown; severity?: unknown };
  return typeof code === 'string' && SQLSTATE.test(code) && typeof severity === 'string';
}

/** The shape pino's own error serializer gives, so the logger accepts this one in its place. */
export interface LoggableError {
  type: string;
  message: string;
  stack: string;
  [field: string]: unknown;
}

/**
 * The fields of `error` that are safe to write to a log.
 * @example log.error({ err: loggableError(error) }, 'failed')
 */
export function loggableError(error: unknown, depth = 0): LoggableError {
  if (isDatabaseError(error)) {
    const { code, constraint, table } = error as { code: string; constraint?: string; table?: string };
    return {
      type: 'DatabaseError',
      code,
      ...(constraint ? { constraint } : {}),
      ...(table ? { table } : {}),
      message: 'database error; see code, constraint and table',
      stack: '',
    };
  }
  if (!(error instanceof Error)) return { type: typeof error, message: 'a non-Error value was thrown', stack: '' };
  const { code } = error as { code?: unknown };
  const cause = depth < 3 && error.cause !== undefined ? { cause: loggableError(error.cause, depth + 1) } : {};
  return {
    type: error.name,
    message: error.message,
    ...(typeof code === 'string' ? { code } : {}),
    stack: error.stack ?? '',
    ...cause,
  };
}
