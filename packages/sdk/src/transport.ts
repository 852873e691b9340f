import { backoffDelayMs } from './backoff.js';

/**
 * One HTTP exchange with retries: JSON in and out, `Authorization: token <key>`, a timeout per
 * attempt, and retries only where repeating the call cannot do a change twice. Uses the global
 * `fetch` (or the one given) and nothing from Node, so it runs in browsers too.
 */
import { RallypointError, RallypointNetworkError, RallypointTimeoutError } from './errors.js';

export interface RallypointConfig {
  /** Where the service listens, e.g. `http://localhost:8080`. */
  baseUrl: string;
  /** An API key of your organisation; sent as `Authorization: token <key>`. */
  apiKey?: string;
  /** Time allowed for each attempt of a request, in milliseconds. Default 30 000. */
  timeoutMs?: number;
  /** Extra attempts after a retryable failure (network, timeout, 5xx, 429). Default 2; 0 disables. */
  retries?: number;
  /** First backoff delay; doubles on each retry, with jitter. Default 250 ms. */
  retryDelayMs?: number;
  /** Longest wait between attempts, also caps `Retry-After`. Default 30 000 ms. */
  maxRetryDelayMs?: number;
  /** A `fetch` to use instead of the global one (tests, proxies, instrumentation). */
  fetch?: typeof fetch;
  /** Headers added to every request. */
  headers?: Record<string, string>;
}

/** Per-call options, accepted as the last argument of every API method. */
export interface RequestOptions {
  /** Aborts the call (and its retries); the promise rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Overrides the client's `timeoutMs` for this call. */
  timeoutMs?: number;
  /**
   * Key that makes a create or change safe to repeat. Sent as `Idempotency-Key`; generated at
   * random when retries are enabled and none is given.
   */
  idempotencyKey?: string;
}

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface HttpRequest {
  method: HttpMethod;
  path: string;
  query?: Record<string, string | number | undefined>;
  body?: unknown;
  options?: RequestOptions | undefined;
}

const IDEMPOTENT: ReadonlySet<HttpMethod> = new Set(['GET', 'DELETE']);

function randomKey(): string {
  const cryptoApi = (globalThis as { crypto?: { randomUUID?: () => string } }).crypto;
  if (cryptoApi?.randomUUID) return cryptoApi.randomUUID();
  return Array.from({ length: 32 }, () => Math.floor(Math.random() * 16).toString(16)).join('');
}

/** Seconds or an HTTP date, as RFC 9110 allows; undefined when absent or unreadable. */
export function retryAfterMs(header: string | null, now = Date.now()): number | undefined {
  if (header === null || header.trim() === '') return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

function abortableSleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

type Attempt = { kind: 'answer'; response: Response; text: string } | { kind: 'failure'; error: Error };

function isRetryableStatus(status: number, code: string | undefined): boolean {
  return status === 429 || (status >= 500 && status !== 501) || code === 'IDEMPOTENCY_IN_PROGRESS';
}

function parseJson(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export class Transport {
  private readonly baseUrl: string;
  private readonly fetchFn: typeof fetch;

  constructor(readonly config: RallypointConfig) {
    if (!config.baseUrl) throw new TypeError('Rallypoint: baseUrl is required');
    this.baseUrl = config.baseUrl.replace(/\/+$/, '');
    const given = config.fetch ?? (globalThis as { fetch?: typeof fetch }).fetch;
    if (!given) throw new TypeError('Rallypoint: no global fetch; pass config.fetch');
    // Bound so a browser's window.fetch is not called with the wrong `this`.
    this.fetchFn = config.fetch ?? given.bind(globalThis);
  }

  /** Sends the request, retrying what is safe to retry; resolves with the parsed JSON body. */
  async request<T>(request: HttpRequest): Promise<T> {
    const options = request.options ?? {};
    const retries = Math.max(0, this.config.retries ?? 2);
    const isChange = !IDEMPOTENT.has(request.method);
    const idempotencyKey = options.idempotencyKey ?? (isChange && retries > 0 ? randomKey() : undefined);
    const mayRetry = !isChange || idempotencyKey !== undefined;
    const headers: Record<string, string> = { accept: 'application/json', ...this.config.headers };
    if (this.config.apiKey) headers['authorization'] = `token ${this.config.apiKey}`;
    if (request.body !== undefined) headers['content-type'] = 'application/json';
    if (idempotencyKey !== undefined && isChange) headers['idempotency-key'] = idempotencyKey;
    const init: RequestInit = {
      method: request.method,
      headers,
      ...(request.body !== undefined ? { body: JSON.stringify(request.body) } : {}),
    };
    const url = this.urlOf(request);

    for (let attempt = 0; ; attempt++) {
      const outcome = await this.attempt(url, init, options);
      const isLast = !mayRetry || attempt >= retries;
      if (outcome.kind === 'failure') {
        if (isLast) throw outcome.error;
        await abortableSleep(this.backoffMs(attempt, undefined), options.signal);
        continue;
      }
      const { response, text } = outcome;
      const body = parseJson(text);
      if (response.ok) return body as T;
      const error = this.apiError(response, body);
      if (isLast || !isRetryableStatus(response.status, error.code)) throw error;
      await abortableSleep(this.backoffMs(attempt, retryAfterMs(response.headers.get('retry-after'))), options.signal);
    }
  }

  private urlOf(request: HttpRequest): string {
    const params = Object.entries(request.query ?? {}).filter(
      (entry): entry is [string, string | number] => entry[1] !== undefined,
    );
    const search =
      params.length > 0
        ? `?${params.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`).join('&')}`
        : '';
    return `${this.baseUrl}${request.path}${search}`;
  }

  private backoffMs(attempt: number, retryAfter: number | undefined): number {
    const cap = this.config.maxRetryDelayMs ?? 30_000;
    if (retryAfter !== undefined) return Math.min(retryAfter, cap);
    return backoffDelayMs(attempt + 1, { firstMs: this.config.retryDelayMs ?? 250, maxMs: cap });
  }

  private apiError(response: Response, body: unknown): RallypointError {
    const fields = (typeof body === 'object' && body !== null ? body : {}) as { message?: unknown; code?: unknown };
    const message =
      typeof fields.message === 'string' ? fields.message : `HTTP ${response.status} ${response.statusText}`.trim();
    const code = typeof fields.code === 'string' ? fields.code : `HTTP_${response.status}`;
    return new RallypointError(response.status, code, message, response.headers.get('x-request-id') ?? undefined, body);
  }

  /** One try: an HTTP answer (any status) with its body read, or a network/timeout failure. */
  private async attempt(url: string, init: RequestInit, options: RequestOptions): Promise<Attempt> {
    const { signal } = options;
    if (signal?.aborted) throw signal.reason;
    const timeoutMs = options.timeoutMs ?? this.config.timeoutMs ?? 30_000;
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, timeoutMs);
    const onAbort = () => controller.abort(signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const response = await this.fetchFn(url, { ...init, signal: controller.signal });
      const text = await response.text();
      return { kind: 'answer', response, text };
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      if (timedOut)
        return {
          kind: 'failure',
          error: new RallypointTimeoutError(`${init.method} ${url} got no answer within ${timeoutMs} ms`, timeoutMs),
        };
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      const reason = cause?.code ?? cause?.message;
      const detail = reason ? ` (${reason})` : '';
      return {
        kind: 'failure',
        error: new RallypointNetworkError(`${init.method} ${url} failed: ${(error as Error).message}${detail}`, {
          cause: error,
        }),
      };
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    }
  }
}
