/**
 * The SDK's three failure kinds. `RallypointError` is an answer from the API (it has a status and
 * a stable `code`); the other two mean no usable answer arrived, so callers can tell "the server
 * said no" from "the server could not be reached" with `instanceof`.
 */

/**
 * The API answered with an error: HTTP `status`, stable `code` (see the README's error list) and
 * a human `message`. `waitForReady` also rejects with it, with code `SESSION_UNPROCESSABLE` or
 * `SESSION_ERROR` and the session's own error as message.
 * @example try { await rp.sessions.getSession(id) } catch (e) { if (e instanceof RallypointError && e.code === 'SESSION_NOT_FOUND') ... }
 */
export class RallypointError extends Error {
  override readonly name = 'RallypointError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** The server's `x-request-id`, to quote when reporting a problem. */
    readonly requestId?: string,
    /** The parsed error body, or for waitForReady the session that failed. */
    readonly details?: unknown,
  ) {
    super(message);
  }
}

/**
 * The request never got an HTTP answer: DNS failure, connection refused or reset, TLS error.
 * @example if (e instanceof RallypointNetworkError) console.error('Rallypoint unreachable:', e.cause)
 */
export class RallypointNetworkError extends Error {
  override readonly name = 'RallypointNetworkError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/**
 * No answer within `timeoutMs` (a single request, or `waitForReady` as a whole).
 * @example if (e instanceof RallypointTimeoutError) console.error(`gave up after ${e.timeoutMs} ms`)
 */
export class RallypointTimeoutError extends Error {
  override readonly name = 'RallypointTimeoutError';
  constructor(
    message: string,
    readonly timeoutMs: number,
  ) {
    super(message);
  }
}
