/**
 * 300 clients replaying the event log from 0 at once (the profile that found unbounded replays:
 * 8,802 events), against a Rallypoint process on a throwaway PostgreSQL. Prints the p99 of other
 * requests meanwhile and the server's peak RSS.
 * `npm run build && node dist/bench/streams.js [events per organisation]`.
 */
import { randomBytes } from 'node:crypto';
import { openDb } from '../src/db/open-db.js';
import { runReplayLoad, seedReplayOrgs, waitNumbered } from '../test/support/replay-load.js';
import { startPostgres, startRallypoint, stopEverything } from './processes.js';

const EVENTS = Number(process.argv[2] ?? 8_802);

async function main(): Promise<void> {
  const postgres = await startPostgres();
  const server = await startRallypoint({
    databaseUrl: postgres.url,
    key: `rp_bench_${randomBytes(16).toString('hex')}`,
  });
  const db = await openDb({ databaseUrl: postgres.url, dataDir: '', poolSize: 2 });
  try {
    // Default limits: 50 streams per key, 200 per organisation: 4 + 2 keys x 50 = 300 streams.
    const orgs = await waitNumbered(db, await seedReplayOrgs(db, [4, 2], EVENTS), EVENTS, 300_000);
    const r = await runReplayLoad({
      url: server.url,
      pid: server.pid,
      orgs,
      perKey: 50,
      probePath: '/v1/sessions',
      probeKey: orgs[0]!.keys[0]!,
      timeoutMs: 600_000,
    });
    process.stdout.write(
      `300 streams replaying ${EVENTS} events each: ${r.completed}/${r.streams} complete (refused: ${JSON.stringify(r.refused)}), ` +
        `${Math.round(r.bytes / 1e6)} MB in ${r.seconds} s; other requests (${r.requests}): p50 ${r.p50Ms} ms, p99 ${r.p99Ms} ms, ` +
        `max ${r.maxMs} ms; server peak RSS ${r.peakRssMb} MB\n`,
    );
  } finally {
    await db.close();
  }
}

main()
  .catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  })
  .finally(() => stopEverything());
