/**
 * Gives committed events their stream positions and announces them. Every server process runs
 * one; an advisory lock lets one at a time do the work, so writers never wait for each other's
 * commit to publish (see migration 007). Positions lag commits by at most one interval.
 */
import type { Db } from '../db/db.js';
import { sequencePendingEvents } from '../db/queries/events.js';
import { startPollLoop } from '../jobs/poll-loop.js';
import { EVENTS_CHANNEL } from './event-log.js';

const BATCH = 1_000;

export interface EventSequencer {
  /** Numbers everything committed so far (tests call it instead of waiting for the interval). */
  runDue(): Promise<number>;
  stop(): Promise<void>;
}

export function startEventSequencer(options: { db: Db; intervalMs: number; onError: (error: unknown) => void }): EventSequencer {
  async function runDue(): Promise<number> {
    let total = 0;
    for (;;) {
      const numbered = await options.db.transaction((tx) => sequencePendingEvents(tx, EVENTS_CHANNEL, BATCH));
      total += numbered;
      if (numbered < BATCH) return total;
    }
  }
  const loop = startPollLoop(runDue, options.intervalMs, options.onError);
  return { runDue, stop: () => loop.stop() };
}
