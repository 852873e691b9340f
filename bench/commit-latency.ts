/**
 * What one durable commit takes on this machine, alone: one connection to a throwaway cluster with
 * durable settings (as `npm run bench` uses) commits a one-row INSERT, one after another, and
 * prints the commit time's percentiles; then again with `synchronous_commit = off` for that
 * session, so the difference is the wait for the WAL to reach the disk. No create can answer
 * sooner than its batch's commit, so these are the floor under a create's latency at any rate.
 *
 *   node dist/bench/commit-latency.js [commits]     # default 2000 each way
 */
import pg from 'pg';
import { startPostgres, stopEverything } from './processes.js';

const COMMITS = Number(process.argv[2] ?? 2000);

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function timeCommits(client: pg.Client, synchronous: boolean): Promise<number[]> {
  await client.query(`SET synchronous_commit = ${synchronous ? 'on' : 'off'}`);
  const times: number[] = [];
  for (let i = 0; i < COMMITS; i++) {
    const started = performance.now();
    await client.query({ name: 'insert', text: 'INSERT INTO commits (at) VALUES (now())' });
    times.push(performance.now() - started);
  }
  return times.sort((a, b) => a - b);
}

async function main(): Promise<void> {
  const postgres = await startPostgres();
  const client = new pg.Client({ connectionString: postgres.url });
  await client.connect();
  try {
    await client.query('CREATE TABLE commits (id bigserial PRIMARY KEY, at timestamptz NOT NULL)');
    await timeCommits(client, true); // warm-up
    console.log(`${COMMITS} one-row INSERTs, each its own transaction, one connection (ms):`);
    console.log('| synchronous_commit | p50 | p90 | p99 | max |');
    console.log('| --- | --- | --- | --- | --- |');
    for (const synchronous of [true, false]) {
      const times = await timeCommits(client, synchronous);
      const cells = [50, 90, 99].map((p) => percentile(times, p).toFixed(2));
      console.log(`| ${synchronous ? 'on' : 'off'} | ${cells.join(' | ')} | ${times.at(-1)!.toFixed(2)} |`);
    }
  } finally {
    await client.end();
    await stopEverything();
  }
}

await main();
