/**
 * Fans committed events out to this process's stream subscribers. One LISTEN per process (not
 * per subscriber): PostgreSQL delivers each NOTIFY to every listening process, so a change made
 * by any server process reaches the subscribers of all of them.
 */
import type { Db } from '../db/db.js';
import { selectEventByPosition, selectEventsAfterPositions, selectLatestEventIds } from '../db/queries/events.js';
import { EVENTS_CHANNEL, wireEvent, type NotifyPayload, type WireEvent } from './event-log.js';

export interface EventFilter {
  orgId: number;
  /** Only this session's events. */
  sessionId?: string | undefined;
}

export type EventHandler = (event: WireEvent) => void;

export interface EventBus {
  /** Starts listening; events committed before this are only available through replay. */
  start(): Promise<void>;
  /** Calls `handler` with every committed event matching the filter; returns the unsubscribe. */
  subscribe(filter: EventFilter, handler: EventHandler): () => void;
  subscriberCount(): number;
  stop(): Promise<void>;
}

export interface EventBusOptions {
  db: Db;
  onError?: (error: Error) => void;
}

/** Events a reconnecting LISTEN connection re-reads at most, per catch-up page. */
const CATCH_UP_PAGE = 500;

/** Created before the server (routes need it), started once the server exists (errors are logged). */
export function createEventBus(options: EventBusOptions): EventBus {
  const { db } = options;
  const subscribers = new Set<{ filter: EventFilter; handler: EventHandler }>();
  // The highest position announced, per organisation (positions are numbered per organisation).
  const highest = new Map<number, number>();
  const onError = (error: unknown) => options.onError?.(error instanceof Error ? error : new Error(String(error)));

  function dispatch(orgId: number, event: WireEvent): void {
    // Positions are announced in order, so an id at or below the highest seen is one a catch-up
    // after a reconnect already read from the log before its NOTIFY came in.
    if (event.id <= (highest.get(orgId) ?? 0)) return;
    highest.set(orgId, event.id);
    for (const subscriber of subscribers) {
      const { filter } = subscriber;
      if (filter.orgId !== orgId) continue;
      if (filter.sessionId !== undefined && event.session_id !== filter.sessionId) continue;
      try {
        subscriber.handler(event);
      } catch (error) {
        onError(error);
      }
    }
  }

  async function receive(payload: string): Promise<void> {
    const parsed = JSON.parse(payload) as NotifyPayload;
    if ('event' in parsed) return dispatch(parsed.org_id, parsed.event);
    const stored = await selectEventByPosition(db, parsed.org_id, parsed.id);
    if (stored) dispatch(stored.orgId, wireEvent(stored));
  }

  // Notifications sent while the LISTEN connection was down are gone; the log still has them.
  // Only organisations with subscribers need them: the others' streams open later, and each
  // stream starts from a position it read itself (event-stream.ts).
  async function catchUp(): Promise<void> {
    for (;;) {
      const after = new Map<number, number>();
      for (const { filter } of subscribers) after.set(filter.orgId, highest.get(filter.orgId) ?? 0);
      const missed = await selectEventsAfterPositions(db, after, CATCH_UP_PAGE);
      for (const event of missed) dispatch(event.orgId, wireEvent(event));
      if (missed.length === 0) return;
    }
  }

  // Serialised so events reach subscribers in the order PostgreSQL delivered them, even when
  // one of them needs a lookup.
  let queue: Promise<void> = Promise.resolve();
  const enqueue = (work: () => Promise<void>) => {
    queue = queue.then(work).catch(onError);
  };

  let unlisten: (() => Promise<void>) | undefined;
  return {
    async start() {
      // Catch-up after a reconnect starts here, not at the log's beginning.
      for (const [orgId, position] of await selectLatestEventIds(db)) highest.set(orgId, position);
      if (!db.listen) return onError(new Error('this database adapter cannot LISTEN; live events are disabled'));
      unlisten = await db.listen(EVENTS_CHANNEL, (payload) => enqueue(() => receive(payload)), {
        onReconnect: () => enqueue(catchUp),
        onError,
      });
    },
    subscribe(filter, handler) {
      const subscriber = { filter, handler };
      subscribers.add(subscriber);
      return () => void subscribers.delete(subscriber);
    },
    subscriberCount: () => subscribers.size,
    async stop() {
      subscribers.clear();
      await unlisten?.();
      await queue;
    },
  };
}
