/** A minimal Server-Sent Events reader over fetch, for tests: events queue up until taken. */
import { readSseBlocks } from '@rallypoint/sdk';
export interface SseEvent {
  id: string | undefined;
  event: string | undefined;
  data: any;
}

export interface SseStream {
  status: number;
  headers: Headers;
  /** The next event; rejects if none arrives within `waitMs` (a hang guard, not a timing assertion). */
  next(waitMs?: number): Promise<SseEvent>;
  /** Takes `count` events in arrival order. */
  take(count: number, waitMs?: number): Promise<SseEvent[]>;
  /** Comment lines seen so far (heartbeats). */
  comments: string[];
  /** Resolves when the server ended the stream. */
  ended: Promise<void>;
  close(): void;
}

export async function openSse(url: string, headers: Record<string, string> = {}): Promise<SseStream> {
  const abort = new AbortController();
  const response = await fetch(url, { headers: { accept: 'text/event-stream', ...headers }, signal: abort.signal });
  const queue: SseEvent[] = [];
  const waiters: Array<() => void> = [];
  const comments: string[] = [];
  let finished = false;
  const wake = () => {
    for (const waiter of waiters.splice(0)) waiter();
  };

  function parseBlock(block: string): void {
    const event: SseEvent = { id: undefined, event: undefined, data: undefined };
    const data: string[] = [];
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) comments.push(line.slice(1).trim());
      else if (line.startsWith('id: ')) event.id = line.slice(4);
      else if (line.startsWith('event: ')) event.event = line.slice(7);
      else if (line.startsWith('data: ')) data.push(line.slice(6));
    }
    if (data.length === 0) return;
    event.data = JSON.parse(data.join('\n'));
    queue.push(event);
    wake();
  }

  const ended = (async () => {
    if (!response.body || response.status !== 200) return;
    try {
      await readSseBlocks(response.body, parseBlock);
    } catch {
      /* aborted by close() */
    } finally {
      finished = true;
      wake();
    }
  })();

  async function next(waitMs = 30_000): Promise<SseEvent> {
    const deadline = Date.now() + waitMs;
    for (;;) {
      const event = queue.shift();
      if (event) return event;
      if (finished) throw new Error('stream ended');
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no event within ${waitMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  return {
    status: response.status,
    headers: response.headers,
    comments,
    ended,
    next,
    async take(count, waitMs) {
      const out: SseEvent[] = [];
      for (let i = 0; i < count; i++) out.push(await next(waitMs));
      return out;
    },
    close: () => abort.abort(),
  };
}
