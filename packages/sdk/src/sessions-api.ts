import { RallypointError, RallypointTimeoutError } from './errors.js';
import { Transport, type RallypointConfig, type RequestOptions } from './transport.js';
import { watchSessionEvents, type SessionEventWatch } from './session-events.js';
import type {
  PageQuery,
  SessionBulkStopPayload,
  SessionBulkStopResponse,
  SessionContext,
  SessionDelete,
  SessionGet,
  SessionList,
  SessionModel,
  SessionRequest,
  SessionUserContext,
} from './types.js';

export interface WaitForReadyOptions {
  /** Give up after this long (RallypointTimeoutError). Default 60 000 ms. */
  timeoutMs?: number;
  /** Stops waiting; the promise rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Time between two polls. Default 500 ms. */
  intervalMs?: number;
  /** Called with each polled state, e.g. to show progress. */
  onPoll?: (session: SessionGet) => void;
  /**
   * Follow the server's event stream (`GET /v1/events`, ext) and re-read the session only when
   * it changes. Default true; falls back to polling when the stream is unavailable or drops.
   */
  useEvents?: boolean;
}

/** With the event stream open, the session is still re-read this often in case an event was lost. */
const EVENT_SAFETY_POLL_MS = 15_000;

/** Statuses after which a session will never become ready. */
const FAILED_STATUSES: Record<string, string> = {
  Unprocessable: 'SESSION_UNPROCESSABLE',
  Error: 'SESSION_ERROR',
  Terminating: 'SESSION_TERMINATING',
};

const enc = encodeURIComponent;

/** Resolves after `ms`, or at once when the signal aborts first (the caller checks which). */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

/**
 * The eight operations of Edgegap's v1 Sessions API, plus `waitForReady` and `iterateSessions`.
 * @example const sessions = new SessionsApi({ baseUrl: 'http://localhost:8080', apiKey: process.env.RALLYPOINT_API_KEY });
 */
export class SessionsApi {
  private readonly transport: Transport;

  constructor(config: RallypointConfig | Transport) {
    this.transport = config instanceof Transport ? config : new Transport(config);
  }

  /**
   * Creates a session; placement may finish later (poll with `getSession` or `waitForReady`).
   * @example const { session_id } = await sessions.sessionPost({ app_name: 'my-game', ip_list: ['203.0.113.7'] });
   */
  sessionPost(body: SessionModel, options?: RequestOptions): Promise<SessionRequest> {
    return this.transport.request({ method: 'POST', path: '/v1/session', body, options });
  }

  /**
   * Reads a session: status, users and, once linked, its deployment.
   * @example const session = await sessions.getSession('950dd2eaff09-S');
   */
  getSession(sessionId: string, options?: RequestOptions): Promise<SessionGet> {
    return this.transport.request({ method: 'GET', path: `/v1/session/${enc(sessionId)}`, options });
  }

  /**
   * Deletes a session; its seats are freed at once.
   * @example await sessions.sessionDelete('950dd2eaff09-S');
   */
  sessionDelete(sessionId: string, options?: RequestOptions): Promise<SessionDelete> {
    return this.transport.request({ method: 'DELETE', path: `/v1/session/${enc(sessionId)}`, options });
  }

  /**
   * Lists the users (IPs) of a session.
   * @example const { session_users } = await sessions.getUsersSession('950dd2eaff09-S');
   */
  getUsersSession(sessionId: string, options?: RequestOptions): Promise<SessionUserContext> {
    return this.transport.request({ method: 'GET', path: `/v1/session/${enc(sessionId)}/users`, options });
  }

  /**
   * Adds users (a set: adding a present IP changes nothing); answers the users after the change.
   * @example await sessions.putUsersSession('950dd2eaff09-S', { ip_list: ['198.51.100.4'] });
   */
  putUsersSession(
    sessionId: string,
    body: { ip_list: string[] },
    options?: RequestOptions,
  ): Promise<SessionUserContext> {
    return this.transport.request({ method: 'PUT', path: `/v1/session/${enc(sessionId)}/users`, body, options });
  }

  /**
   * Removes users; answers the users after the change.
   * @example await sessions.deleteUsersSession('950dd2eaff09-S', { ip_list: ['198.51.100.4'] });
   */
  deleteUsersSession(
    sessionId: string,
    body: { ip_list: string[] },
    options?: RequestOptions,
  ): Promise<SessionUserContext> {
    return this.transport.request({ method: 'DELETE', path: `/v1/session/${enc(sessionId)}/users`, body, options });
  }

  /**
   * One page of the organisation's sessions, newest first.
   * @example const { data, pagination } = await sessions.listSessions({ page: 1, limit: 50 });
   */
  listSessions(query: PageQuery = {}, options?: RequestOptions): Promise<SessionList> {
    return this.transport.request({
      method: 'GET',
      path: '/v1/sessions',
      query: { page: query.page, limit: query.limit },
      options,
    });
  }

  /**
   * Deletes every session matching all the filters; answers what it stopped.
   * @example await sessions.sessionsBulkStop({ filters: [{ field: 'deployment_tags', values: ['eu'], filter_type: 'any' }] });
   */
  sessionsBulkStop(body: SessionBulkStopPayload, options?: RequestOptions): Promise<SessionBulkStopResponse> {
    return this.transport.request({ method: 'POST', path: '/v1/sessions/bulk-stop', body, options });
  }

  /**
   * Every session of the organisation, page after page.
   * @example for await (const s of sessions.iterateSessions()) console.log(s.session_id, s.status);
   */
  async *iterateSessions(
    query: { limit?: number } = {},
    options?: RequestOptions,
  ): AsyncGenerator<SessionContext, void, undefined> {
    let page: number | null = 1;
    while (page !== null) {
      const result: SessionList = await this.listSessions(
        { page, ...(query.limit !== undefined ? { limit: query.limit } : {}) },
        options,
      );
      yield* result.data;
      page = result.pagination.next_page_number;
    }
  }

  /**
   * Waits until the session is ready (following the event stream when the server has one, else
   * polling `getSession`) and resolves with it; rejects with a
   * RallypointError (code SESSION_UNPROCESSABLE / SESSION_ERROR, the session's `error` as
   * message) once it can never be, or RallypointTimeoutError after `timeoutMs`.
   * @example const ready = await sessions.waitForReady(session_id, { timeoutMs: 30_000 });
   */
  async waitForReady(sessionId: string, options: WaitForReadyOptions = {}): Promise<SessionGet> {
    const timeoutMs = options.timeoutMs ?? 60_000;
    const intervalMs = options.intervalMs ?? 500;
    const stop = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      stop.abort();
    }, timeoutMs);
    const onAbort = () => stop.abort(options.signal?.reason);
    options.signal?.addEventListener('abort', onAbort, { once: true });
    let watch: SessionEventWatch | undefined;
    const giveUp = (): never => {
      if (timedOut)
        throw new RallypointTimeoutError(`Session ${sessionId} was not ready within ${timeoutMs} ms`, timeoutMs);
      throw options.signal?.reason;
    };
    try {
      // Opened before the first read, so a change right after that read is not missed.
      if (options.useEvents !== false) watch = await watchSessionEvents(this.transport.config, sessionId, stop.signal);
      for (;;) {
        let session: SessionGet;
        try {
          session = await this.getSession(sessionId, { signal: stop.signal });
        } catch (error) {
          if (stop.signal.aborted) giveUp();
          throw error;
        }
        options.onPoll?.(session);
        if (session.ready) return session;
        const failedCode = FAILED_STATUSES[session.status];
        if (failedCode) {
          throw new RallypointError(
            422,
            failedCode,
            session.error ?? `Session ${sessionId} is ${session.status} and will not become ready.`,
            undefined,
            session,
          );
        }
        if (watch?.isOpen) await watch.next(EVENT_SAFETY_POLL_MS);
        else await pause(intervalMs, stop.signal);
        if (stop.signal.aborted) giveUp();
      }
    } finally {
      watch?.close();
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
    }
  }
}
