/**
 * Gives committed events their stream positions and announces them. Every server process runs
 * one; an advisory lock lets one at a time do the work, so writers never wait for each other's
 * commit to publish (see migration 007). Positions lag commits by at most one interval.
 */
import type { Db } from '../db/db.js';
import { lockEventSequencer, sequencePendingEvents } from '../db/queries/events.js';
import { startPollLoop } from '../jobs/poll-loop.js';
import { EVENTS_CHANNEL } from './event-log.js';

const BATCH = 1_000;

export interface EventSequencer {
  /**
   * Numbers every event committed before the call, waiting for another process's sequencer if
   * it holds the lock (tests call it instead of waiting for the interval).
   */
  runDue(): Promise<number>;
  stop(): Promise<void>;
}

export function startEventSequencer(options: { db: Db; intervalMs: number; onError: (error: unknown) => void }): EventSequencer {
  async function sequence(wait: boolean): Promise<number> {
    let total = 0;
    for (;;) {
      const numbered = await options.db.transaction(async (tx) =>
        (await lockEventSequencer(tx, wait)) ? sequencePendingEvents(tx, EVENTS_CHANNEL, BATCH) : 0);
      total += numbered;
      if (numbered < BATCH) return total;
    }
  }
  // The loop skips a turn while another process sequences: that one numbers the same rows.
  const loop = startPollLoop(() => sequence(false), options.intervalMs, options.onError);
  const runDue = () => sequence(true);
  return { runDue, stop: () => loop.stop() };
}
