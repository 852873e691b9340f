/**
 * One Server-Sent Events stream: the replay of logged events after the client's Last-Event-ID,
 * then live events from the bus, with no duplicates where the two overlap.
 *
 * Bounded whatever the client does (docs/wire-contract.md, "Event stream"):
 * - the replay reads the log a page at a time and waits for the socket to drain before the next
 *   write, so a stream holds at most about a page, however far behind it starts;
 * - a Last-Event-ID more than `replayMaxEvents` behind, older than the log keeps, or never given
 *   to the organisation gets a `resync` event (reload your state) and the stream continues from
 *   the organisation's latest id;
 * - live events for a client that reads slower than they come wait in a queue of at most
 *   `queueMax`; past it the stream ends with a `resync` event (reconnect with Last-Event-ID).
 */
import type { ServerResponse } from 'node:http';
import type { EventBus, EventFilter } from './event-bus.js';
import type { WireEvent } from './event-log.js';
import { formatEvent, type ReplayPages } from './replay-pages.js';

export { formatEvent } from './replay-pages.js';

export interface EventStreamOptions {
  bus: EventBus;
  pages: ReplayPages;
  filter: EventFilter;
  /** Replay events after this id first; undefined = live events only. */
  lastEventId: number | undefined;
  heartbeatMs: number;
  /** Response headers set before the stream took over (request id...). */
  headers: Record<string, string>;
  /** Most events a Last-Event-ID may be behind and still be replayed. */
  replayMaxEvents: number;
  /** Most live events held for a client that is not reading; past it the stream ends. */
  queueMax: number;
}

/** Why a stream sent `resync`: what the client missed is not coming. */
export type ResyncReason = 'too_far_behind' | 'expired' | 'unknown_id' | 'slow_consumer';

/** Once the stream has ended, a client that still does not read is disconnected after this. */
const END_GRACE_MS = 10_000;

export function formatResync(reason: ResyncReason, time: Date, latestId?: number): string {
  const event = {
    ...(latestId !== undefined ? { id: latestId } : {}),
    type: 'resync',
    time: time.toISOString(),
    data: { reason },
  };
  return `${latestId !== undefined ? `id: ${latestId}\n` : ''}event: resync\ndata: ${JSON.stringify(event)}\n\n`;
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
  // Until the replay has caught up with the log, live events wait here (at most queueMax; past
  // that they are dropped and the replay reads them from the log instead).
  let pending: WireEvent[] | undefined = [];
  let pendingOverflowed = false;
  // Live events while the socket is full.
  const queue: WireEvent[] = [];
  /** The socket's buffer is full: write nothing more until 'drain'. */
  let blocked = false;
  const drainWaiters: Array<() => void> = [];
  // Ids only grow along the stream. The bus announces an event some time after it is committed,
  // so a replay may already have sent one that the bus delivers after the replay ended.
  let lastSentId = 0;

  function onDrain(): void {
    blocked = false;
    for (const wake of drainWaiters.splice(0)) wake();
    while (!blocked && !ended && queue.length > 0) send(queue.shift()!);
  }
  const write = (text: string | Buffer) => {
    if (ended) return;
    if (!raw.write(text) && !blocked) {
      blocked = true;
      raw.once('drain', onDrain);
    }
  };
  const drained = () =>
    blocked && !ended ? new Promise<void>((resolve) => drainWaiters.push(resolve)) : Promise.resolve();
  const send = (event: WireEvent) => {
    if (event.id <= lastSentId) return;
    lastSentId = event.id;
    write(formatEvent(event));
  };
  const unsubscribe = options.bus.subscribe(filter, (event) => {
    if (ended) return;
    if (pending) {
      if (pending.length < options.queueMax) pending.push(event);
      else {
        pending = [];
        pendingOverflowed = true;
      }
    } else if (!blocked && queue.length === 0) send(event);
    else if (event.id <= lastSentId) return;
    else if (queue.length < options.queueMax) queue.push(event);
    else {
      // The client reads slower than its organisation changes: drop it rather than hold more.
      queue.length = 0;
      raw.write(formatResync('slow_consumer', new Date()));
      finish();
    }
  });
  const heartbeat = setInterval(() => {
    if (!blocked) write(': heartbeat\n\n');
  }, options.heartbeatMs);
  heartbeat.unref();

  function finish(): void {
    if (ended) return;
    ended = true;
    clearInterval(heartbeat);
    unsubscribe();
    pending = undefined;
    queue.length = 0;
    for (const wake of drainWaiters.splice(0)) wake();
    if (!raw.writableEnded) raw.end();
    // end() waits for the buffer to be read; a client that never reads is cut off.
    if (!raw.destroyed) setTimeout(() => raw.destroy(), END_GRACE_MS).unref();
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

  /** Where the stream starts: after the client's id, or after a resync to the latest one. */
  async function start(): Promise<void> {
    const given = options.lastEventId;
    const { latest, oldest } = await options.pages.window(filter.orgId);
    if (given === undefined) {
      lastSentId = latest;
      return;
    }
    let reason: ResyncReason | undefined;
    if (given > latest) reason = 'unknown_id';
    else if (latest - given > options.replayMaxEvents) reason = 'too_far_behind';
    else if (given < latest && (oldest === null || oldest > given + 1)) reason = 'expired';
    if (reason === undefined) {
      lastSentId = given;
      return;
    }
    lastSentId = latest;
    write(formatResync(reason, new Date(), latest));
  }

  async function replay(): Promise<void> {
    await start();
    while (!ended) {
      await drained();
      // A fast reader never fills the socket and a cached page is already read, so without this
      // a replay would run to its end in microtasks, holding the event loop from every request.
      await options.pages.turn();
      if (ended) return;
      const page = await options.pages.read({ orgId: filter.orgId, sessionId: filter.sessionId, afterId: lastSentId });
      if (ended) return;
      if (page.lastId !== undefined && page.lastId > lastSentId) {
        lastSentId = page.lastId;
        write(page.bytes);
      }
      if (page.full) continue;
      if (pendingOverflowed) {
        // Live events were dropped while replaying: the log has them.
        pendingOverflowed = false;
        continue;
      }
      const buffered = pending ?? [];
      pending = undefined;
      for (const event of buffered) {
        if (blocked) queue.push(event);
        else send(event);
      }
      return;
    }
  }
  replay().catch(() => finish());

  return { end: finish, closed };
}
