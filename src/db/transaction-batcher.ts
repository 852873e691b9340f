/**
 * Group commit for a hot write path: transaction bodies that arrive while earlier ones run are
 * queued, and each free runner takes up to `maxBatch` of them and runs them one after another in
 * ONE transaction. Their before-commit writes (the event log's rows) become one statement, and
 * BEGIN, COMMIT and the commit's WAL flush are paid once per batch instead of once per body.
 * Under no load a body runs alone, exactly as `db.transaction` would run it.
 *
 * What a body must allow, which `db.transaction` already asks (the pg adapter reruns a whole
 * transaction after a deadlock):
 * - it can be run again from the start: when any body of a batch throws, the batch rolls back
 *   and every body in it runs again alone, in its own transaction, so one bad body fails only
 *   its own caller;
 * - it sees the writes of the bodies before it in its batch, as it would had they committed
 *   just before it started. Row locks taken by a batch are held until the batch commits.
 */
import type { Db, Tx } from './db.js';

export interface TransactionBatcherOptions {
  /** Most bodies in one transaction. 1 turns batching off. */
  maxBatch: number;
  /** Transactions running at once; keep it under the pool size so other work gets connections. */
  maxConcurrent: number;
}

interface Job {
  body: (tx: Tx) => Promise<unknown>;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

export interface TransactionBatcher {
  run<T>(body: (tx: Tx) => Promise<T>): Promise<T>;
  /** Batches run, the bodies they held, and bodies run again alone after a failed batch (tests read these). */
  stats(): { batches: number; bodies: number; rerunAlone: number };
}

export function createTransactionBatcher(db: Db, options: TransactionBatcherOptions): TransactionBatcher {
  const queue: Job[] = [];
  let running = 0;
  const counts = { batches: 0, bodies: 0, rerunAlone: 0 };

  const runAlone = (job: Job) => db.transaction(job.body).then(job.resolve, job.reject);

  async function runBatch(batch: Job[]): Promise<void> {
    counts.batches += 1;
    counts.bodies += batch.length;
    if (batch.length === 1) return runAlone(batch[0]!);
    let results: unknown[];
    try {
      results = await db.transaction(async (tx) => {
        const out: unknown[] = [];
        for (const job of batch) out.push(await job.body(tx));
        return out;
      });
    } catch {
      // Everything the batch wrote is rolled back; each body gets its own answer.
      counts.rerunAlone += batch.length;
      await Promise.all(batch.map(runAlone));
      return;
    }
    batch.forEach((job, i) => job.resolve(results[i]));
  }

  function pump(): void {
    while (running < options.maxConcurrent && queue.length > 0) {
      const batch = queue.splice(0, options.maxBatch);
      running += 1;
      void runBatch(batch).finally(() => {
        running -= 1;
        pump();
      });
    }
  }

  return {
    run<T>(body: (tx: Tx) => Promise<T>): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        queue.push({ body, resolve: resolve as (value: unknown) => void, reject });
        pump();
      });
    },
    stats: () => ({ ...counts }),
  };
}
