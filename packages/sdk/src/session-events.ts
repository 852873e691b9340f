/**
 * Follows one session's events on the (ext) `GET /v1/events` stream, so `waitForReady` learns
 * of a change at once instead of polling. Uses fetch streaming only (no EventSource: it cannot
 * send the Authorization header), so it runs in Node 18+ and browsers alike.
 */
import type { RallypointConfig } from './transport.js';

export interface SessionEventWatch {
  /** Resolves true when an event of the session arrives, false after `waitMs` or once the stream ended. */
  next(waitMs: number): Promise<boolean>;
  /** False once the server closed the stream; the caller falls back to polling. */
  readonly isOpen: boolean;
  close(): void;
}

/**
 * Opens the stream; undefined when the server has none (older server, proxy) or it failed.
 * @example const watch = await watchSessionEvents(config, '950dd2eaff09-S', signal);
 */
/**
 * Reads a server-sent event stream and calls `onBlock` with each block (the text between blank
 * lines), until the stream ends. Rejects when the stream is aborted or drops.
 * @example await readSseBlocks(response.body, (block) => console.log(block));
 */
export async function readSseBlocks(body: ReadableStream<Uint8Array>, onBlock: (block: string) => void): Promise<void> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true });
    let cut: number;
    while ((cut = buffer.indexOf('\n\n')) >= 0) {
      onBlock(buffer.slice(0, cut));
      buffer = buffer.slice(cut + 2);
    }
  }
}

export async function watchSessionEvents(
  config: RallypointConfig,
  sessionId: string,
  signal: AbortSignal,
): Promise<SessionEventWatch | undefined> {
  const fetchFn = config.fetch ?? (globalThis as { fetch?: typeof fetch }).fetch?.bind(globalThis);
  if (!fetchFn) return undefined;
  const controller = new AbortController();
  const onAbort = () => controller.abort();
  signal.addEventListener('abort', onAbort, { once: true });
  let response: Response;
  try {
    const headers: Record<string, string> = { ...config.headers, accept: 'text/event-stream' };
    if (config.apiKey) headers['authorization'] = `token ${config.apiKey}`;
    const url = `${config.baseUrl.replace(/\/+$/, '')}/v1/events?session_id=${encodeURIComponent(sessionId)}`;
    response = await fetchFn(url, { headers, signal: controller.signal });
  } catch {
    signal.removeEventListener('abort', onAbort);
    return undefined;
  }
  if (
    response.status !== 200 ||
    !response.body ||
    !(response.headers.get('content-type') ?? '').startsWith('text/event-stream')
  ) {
    signal.removeEventListener('abort', onAbort);
    controller.abort();
    return undefined;
  }

  let pending = 0;
  let open = true;
  let wake: (() => void) | undefined;
  const body = response.body;
  void (async () => {
    try {
      await readSseBlocks(body, (block) => {
        // Only blocks with data are events; comment lines are heartbeats.
        if (/^data: /m.test(block)) {
          pending += 1;
          wake?.();
        }
      });
    } catch {
      /* aborted or dropped: same as ended */
    } finally {
      open = false;
      signal.removeEventListener('abort', onAbort);
      wake?.();
    }
  })();

  return {
    get isOpen() {
      return open;
    },
    next(waitMs) {
      return new Promise<boolean>((resolve) => {
        const settle = () => {
          clearTimeout(timer);
          wake = undefined;
          const had = pending > 0;
          pending = 0;
          resolve(had);
        };
        const timer = setTimeout(settle, waitMs);
        if (pending > 0 || !open || signal.aborted) return settle();
        wake = settle;
      });
    },
    close() {
      controller.abort();
    },
  };
}
