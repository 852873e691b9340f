/**
 * One Server-Sent Events stream: the replay of logged events after the client's Last-Event-ID,
 * then live events from the bus, with no duplicates where the two overlap.
 */
import type { ServerResponse } from 'node:http';
import type { Queryable } from '../db/db.js';
import { selectEventsAfter } from '../db/queries/events.js';
import type { EventBus, EventFilter } from './event-bus.js';
import { wireEvent, type WireEvent } from './event-log.js';

export interface EventStreamOptions {
  db: Queryable;
  bus: EventBus;
  filter: EventFilter;
  /** Replay events after this id first; undefined = live events only. */
  lastEventId: number | undefined;
  heartbeatMs: number;
  /** Response headers set before the stream took over (request id...). */
  headers: Record<string, string>;
}

const REPLAY_PAGE = 500;

export function formatEvent(event: WireEvent): string {
  return `id: ${event.id}\nevent: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`;
}

export interface OpenStream {
  /** Ends the response (server shutdown); the client reconnects elsewhere with Last-Event-ID. */
  end(): void;
  /** Resolves when the stream is over, whoever ended it. */
  closed: Promise<void>;
}

export function openEventStream(raw: ServerResponse, options: EventStreamOptions): OpenStream {
  const { filter } = options;
  let ended = false;
  let resolveClosed!: () => void;
  const closed = new Promise<void>((resolve) => (resolveClosed = resolve));
  // Live events arriving while the replay runs wait here, then are sent unless replayed.
  let pending: WireEvent[] | undefined = [];
  // Ids only grow along the stream. The bus announces an event some time after it is committed,
  // so a replay may already have sent one that the bus delivers after the replay ended.
  let lastSentId = options.lastEventId ?? 0;

  const write = (text: string) => {
    if (!ended) raw.write(text);
  };
  const send = (event: WireEvent) => {
    if (event.id <= lastSentId) return;
    lastSentId = event.id;
    write(formatEvent(event));
  };
  const unsubscribe = options.bus.subscribe(filter, (event) => {
    if (pending) pending.push(event);
    else send(event);
  });
  const heartbeat = setInterval(() => write(': heartbeat\n\n'), options.heartbeatMs);
  heartbeat.unref();

  function finish(): void {
    if (ended) return;
    ended = true;
    clearInterval(heartbeat);
    unsubscribe();
    if (!raw.writableEnded) raw.end();
    resolveClosed();
  }
  raw.on('close', finish);
  raw.on('error', finish);

  raw.writeHead(200, {
    ...options.headers,
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    // Proxies such as nginx would otherwise buffer the stream.
    'x-accel-buffering': 'no',
  });
  // Advises EventSource-style clients how soon to reconnect; also flushes the headers at once.
  write('retry: 2000\n\n');

  async function replay(): Promise<void> {
    let afterId = options.lastEventId;
    while (afterId !== undefined && !ended) {
      const page = await selectEventsAfter(options.db, { orgId: filter.orgId, afterId, sessionId: filter.sessionId, limit: REPLAY_PAGE });
      for (const event of page) send(wireEvent(event));
      afterId = page.length === REPLAY_PAGE ? page[page.length - 1]!.id : undefined;
    }
    const buffered = pending ?? [];
    pending = undefined;
    for (const event of buffered) send(event);
  }
  replay().catch(() => finish());

  return { end: finish, closed };
}
