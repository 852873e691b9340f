import { after, before, describe, it } from '../support/node-test.js';
import assert from 'node:assert/strict';
import type { Db } from '../../src/db/db.js';
import { openDb } from '../../src/db/open-db.js';
import { createTransactionBatcher } from '../../src/db/transaction-batcher.js';
import { createTestDatabase } from '../support/harness.js';

describe('transaction batcher', () => {
  let db: Db;

  before(async () => {
    db = await openDb({ databaseUrl: await createTestDatabase(), dataDir: '', poolSize: 4 });
    await db.exec('CREATE TABLE probe (n int PRIMARY KEY, tx bigint NOT NULL)');
  });
  after(() => db.close());

  const insert = (n: number) => async (tx: Parameters<Parameters<Db['transaction']>[0]>[0]) => {
    const { rows } = await tx.query<{ tx: number }>(
      'INSERT INTO probe (n, tx) VALUES ($1, txid_current()) RETURNING tx',
      [n],
    );
    return { n, tx: rows[0]!.tx };
  };

  it('runs bodies that arrive together in shared transactions, each answered with its own result', async () => {
    const batcher = createTransactionBatcher(db, { maxBatch: 8, maxConcurrent: 2 });
    const results = await Promise.all(Array.from({ length: 40 }, (_, i) => batcher.run(insert(i))));
    assert.deepEqual(
      results.map((r) => r.n),
      Array.from({ length: 40 }, (_, i) => i),
    );
    const { rows } = await db.query<{ rows: number; txs: number }>(
      'SELECT count(*) AS rows, count(DISTINCT tx) AS txs FROM probe WHERE n < 40',
    );
    assert.equal(rows[0]!.rows, 40);
    const stats = batcher.stats();
    assert.equal(stats.bodies, 40);
    assert.equal(rows[0]!.txs, stats.batches, 'one transaction per batch');
    assert.ok(stats.batches < 40, `40 bodies ran in ${stats.batches} transactions`);
    const stored = await db.query<{ n: number; tx: number }>('SELECT n, tx FROM probe WHERE n < 40 ORDER BY n');
    assert.deepEqual(
      stored.rows.map((r) => ({ n: r.n, tx: r.tx })),
      results,
      'each caller got its own body’s answer',
    );
  });

  it('a body that throws fails only its own caller: its batch rolls back and the others run again alone, once', async () => {
    const batcher = createTransactionBatcher(db, { maxBatch: 16, maxConcurrent: 1 });
    // The first body holds the runner, so the next 20 queue up and run as one batch.
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const first = batcher.run(async (tx) => {
      await gate;
      return insert(100)(tx);
    });
    const rest = Array.from({ length: 15 }, (_, i) =>
      i === 7
        ? batcher.run(async (tx) => {
            await insert(101 + i)(tx);
            throw new Error('bad body');
          })
        : batcher.run(insert(101 + i)),
    );
    release();
    const settled = await Promise.allSettled([first, ...rest]);
    const rejected = settled.filter((s) => s.status === 'rejected');
    assert.equal(rejected.length, 1);
    assert.equal((rejected[0] as PromiseRejectedResult).reason.message, 'bad body');
    const { rows } = await db.query<{ n: number }>('SELECT n FROM probe WHERE n >= 100 ORDER BY n');
    assert.deepEqual(
      rows.map((r) => r.n),
      [100, ...Array.from({ length: 15 }, (_, i) => 101 + i).filter((n) => n !== 108)],
    );
    assert.equal(batcher.stats().rerunAlone, 15, 'the failed batch of 15 ran again body by body');
  });

  it('runs every body’s before-commit steps once, before the batch commits', async () => {
    const batcher = createTransactionBatcher(db, { maxBatch: 8, maxConcurrent: 1 });
    const steps: number[] = [];
    await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        batcher.run(async (tx) => {
          tx.beforeCommit(async () => {
            steps.push(i);
            await tx.query('INSERT INTO probe (n, tx) VALUES ($1, txid_current())', [200 + i]);
          });
        }),
      ),
    );
    assert.deepEqual(
      [...steps].sort((a, b) => a - b),
      Array.from({ length: 12 }, (_, i) => i),
    );
    const { rows } = await db.query<{ rows: number }>('SELECT count(*) AS rows FROM probe WHERE n >= 200');
    assert.equal(rows[0]!.rows, 12);
  });
});
