/**
 * Gives committed events their stream positions and announces them. Every server process runs
 * one; an advisory lock lets one at a time do the work, so writers never wait for each other's
 * commit to publish (see migration 007).
 *
 * It runs when woken, not on a fast timer: the event log wakes it once a transaction that wrote
 * events has committed (`wake`), and commits arriving together share one run (runs are at least
 * `minGapMs` apart). A slow fallback poll (`fallbackMs`) numbers what no wake announced: events
 * a tool wrote without a sequencer in its process, or whose process died before numbering them.
 * An idle server therefore runs it once per `fallbackMs` only, and such a run first asks whether
 * anything waits at all (one statement instead of a locking transaction).
 */
import type { Db } from '../db/db.js';
import { hasUnsequencedEvents, lockEventSequencer, sequencePendingEvents } from '../db/queries/events.js';
import { EVENTS_CHANNEL } from './event-log.js';

const BATCH = 1_000;

export interface EventSequencer {
  /**
   * Numbers every event committed before the call, waiting for another process's sequencer if
   * it holds the lock (tests call it instead of waiting for a wake).
   */
  runDue(): Promise<number>;
  /** Events were committed: number them soon (within `minGapMs`). */
  wake(): void;
  stop(): Promise<void>;
}

export interface EventSequencerOptions {
  db: Db;
  /** Least time between two runs, so the commits of a busy moment are numbered together. */
  minGapMs: number;
  /** How often it runs with no wake (0: never; tests call runDue). */
  fallbackMs: number;
  onError: (error: unknown) => void;
}

/** What a run without waiting found: how many it numbered, or that another sequencer held the lock. */
type RunOutcome = number | 'busy';

export function startEventSequencer(options: EventSequencerOptions): EventSequencer {
  const { db, minGapMs, fallbackMs } = options;
  async function sequence(wait: boolean): Promise<RunOutcome> {
    let total = 0;
    for (;;) {
      const numbered = await db.transaction(async (tx) =>
        (await lockEventSequencer(tx, wait)) ? sequencePendingEvents(tx, EVENTS_CHANNEL, BATCH) : ('busy' as const),
      );
      if (numbered === 'busy') return total > 0 ? total : 'busy';
      total += numbered;
      if (numbered < BATCH) return total;
    }
  }

  let stopped = false;
  let running: Promise<void> | undefined;
  /** Woken since the current run started: run again once it ends. */
  let again = false;
  /** Woken since the last run began: something committed, so skip the is-anything-waiting probe. */
  let woken = false;
  let lastEndMs = Number.NEGATIVE_INFINITY;
  let timer: NodeJS.Timeout | undefined;
  let timerAtMs = Number.POSITIVE_INFINITY;

  function runAt(atMs: number): void {
    if (stopped || atMs >= timerAtMs) return;
    clearTimeout(timer);
    timerAtMs = atMs;
    timer = setTimeout(tick, Math.max(0, atMs - performance.now()));
  }

  function tick(): void {
    timer = undefined;
    timerAtMs = Number.POSITIVE_INFINITY;
    if (stopped) return;
    if (running) {
      again = true;
      return;
    }
    again = false;
    const probeFirst = !woken;
    woken = false;
    running = (probeFirst ? hasUnsequencedEvents(db) : Promise.resolve(true))
      .then((waiting) => (waiting ? sequence(false) : 0))
      .then((outcome) => {
        // The lock holder numbers only what had committed when its statement began: look again
        // soon rather than waiting for the fallback.
        if (outcome === 'busy') again = true;
      })
      .catch((error: unknown) => options.onError(error))
      .finally(() => {
        running = undefined;
        lastEndMs = performance.now();
        if (again) runAt(lastEndMs + minGapMs);
        else if (fallbackMs > 0) runAt(lastEndMs + fallbackMs);
      });
  }

  if (fallbackMs > 0) runAt(performance.now() + fallbackMs);
  return {
    runDue: async () => {
      const outcome = await sequence(true);
      return outcome === 'busy' ? 0 : outcome;
    },
    wake() {
      if (stopped) return;
      woken = true;
      if (running) again = true;
      else runAt(Math.max(performance.now(), lastEndMs + minGapMs));
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
