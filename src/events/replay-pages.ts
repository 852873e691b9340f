/**
 * Reads the event log for stream replays, a page at a time, on behalf of every stream of a
 * server. A few page reads run at once (`readsAtOnce`), so streams replaying together leave the
 * pool's other connections to requests. A full page never changes once read (positions are
 * final; only pruning removes rows, and a replay of a just-pruned event is harmless), so the
 * last few full pages are kept, already formatted: many clients replaying from the same id
 * (a dashboard fleet reconnecting after a restart) read the log once.
 */
import type { Queryable } from '../db/db.js';
import { selectEventsAfter } from '../db/queries/events.js';
import { wireEvent, type WireEvent } from './event-log.js';

/** Events per page: small enough that a page per stream, hundreds of streams, stays a few MB. */
export const REPLAY_PAGE = 200;
/** Full pages kept. */
const CACHED_PAGES = 64;

export interface ReplayPage {
  /** The page's events formatted as Server-Sent Events, in position order ('' when empty). */
  text: string;
  /** The last event's position, or undefined when the page is empty. */
  lastId: number | undefined;
  /** True when the page is full: more events may follow it. */
  full: boolean;
}

export interface ReplayPages {
  read(query: { orgId: number; sessionId: string | undefined; afterId: number }): Promise<ReplayPage>;
}

export function formatEvent(event: WireEvent): string {
  return `id: ${event.id}\nevent: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`;
}

export function createReplayPages(db: Queryable, readsAtOnce: number): ReplayPages {
  const cache = new Map<string, Promise<ReplayPage>>();
  let reading = 0;
  const waiting: Array<() => void> = [];

  async function gated<T>(work: () => Promise<T>): Promise<T> {
    if (reading >= readsAtOnce) await new Promise<void>((resolve) => waiting.push(resolve));
    else reading += 1;
    try {
      return await work();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else reading -= 1;
    }
  }

  async function load(orgId: number, sessionId: string | undefined, afterId: number): Promise<ReplayPage> {
    const rows = await gated(() => selectEventsAfter(db, { orgId, afterId, sessionId, limit: REPLAY_PAGE }));
    return {
      text: rows.map((row) => formatEvent(wireEvent(row))).join(''),
      lastId: rows.at(-1)?.id,
      full: rows.length === REPLAY_PAGE,
    };
  }

  return {
    read({ orgId, sessionId, afterId }) {
      const key = `${orgId}/${afterId}/${sessionId ?? ''}`;
      const cached = cache.get(key);
      if (cached) return cached;
      const page = load(orgId, sessionId, afterId);
      cache.set(key, page);
      // Only full pages stay: a short one grows as events are numbered.
      const forget = () => {
        if (cache.get(key) === page) cache.delete(key);
      };
      void page.then((p) => {
        if (!p.full) forget();
      }, forget);
      while (cache.size > CACHED_PAGES) cache.delete(cache.keys().next().value!);
      return page;
    },
  };
}
