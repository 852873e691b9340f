/**
 * Reads the event log for stream replays, a page at a time, on behalf of every stream of a
 * server. A few reads run at once (`readsAtOnce`), so streams opening and replaying together
 * (hundreds of clients reconnecting after a restart) leave the pool's other connections to
 * requests. A full page never changes once read (positions are
 * final; only pruning removes rows, and a replay of a just-pruned event is harmless), so the
 * last few full pages are kept, already formatted: many clients replaying from the same id
 * (a dashboard fleet reconnecting after a restart) read the log once.
 */
import type { Queryable } from '../db/db.js';
import { selectEventsAfter, selectReplayWindow } from '../db/queries/events.js';
import { wireEvent, type WireEvent } from './event-log.js';

/** Events per page: small enough that a page per stream, hundreds of streams, stays a few MB. */
export const REPLAY_PAGE = 200;
/** Full pages kept. */
const CACHED_PAGES = 64;
/**
 * Page writes per turn of the event loop, across all streams: hundreds of streams writing a
 * page each in one turn would hold requests back for tens of milliseconds.
 */
const WRITES_PER_TURN = 16;

export interface ReplayPage {
  /**
   * The page's events formatted as Server-Sent Events, in position order, encoded once: every
   * stream writes the same bytes.
   */
  bytes: Buffer;
  /** The last event's position, or undefined when the page is empty. */
  lastId: number | undefined;
  /** True when the page is full: more events may follow it. */
  full: boolean;
}

export interface ReplayPages {
  read(query: { orgId: number; sessionId: string | undefined; afterId: number }): Promise<ReplayPage>;
  /** Where a stream of the organisation may start (selectReplayWindow), through the same few connections. */
  window(orgId: number): Promise<{ latest: number; oldest: number | null }>;
  /**
   * Resolves in a later turn of the event loop, after requests waiting for I/O had theirs;
   * a stream awaits it before each page write (at most WRITES_PER_TURN streams go per turn).
   */
  turn(): Promise<void>;
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

  const turns: Array<() => void> = [];
  let turnScheduled = false;
  function releaseTurn(): void {
    turnScheduled = false;
    for (const go of turns.splice(0, WRITES_PER_TURN)) go();
    // Scheduled from here, the next release runs in the next turn, after its I/O.
    if (turns.length > 0) scheduleTurn();
  }
  function scheduleTurn(): void {
    if (turnScheduled) return;
    turnScheduled = true;
    setImmediate(releaseTurn);
  }

  async function load(orgId: number, sessionId: string | undefined, afterId: number): Promise<ReplayPage> {
    const rows = await gated(() => selectEventsAfter(db, { orgId, afterId, sessionId, limit: REPLAY_PAGE }));
    return {
      bytes: Buffer.from(rows.map((row) => formatEvent(wireEvent(row))).join(''), 'utf8'),
      lastId: rows.at(-1)?.id,
      full: rows.length === REPLAY_PAGE,
    };
  }

  return {
    window: (orgId) => gated(() => selectReplayWindow(db, orgId)),
    turn: () =>
      new Promise<void>((resolve) => {
        turns.push(resolve);
        scheduleTurn();
      }),
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
