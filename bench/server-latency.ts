/**
 * Where a create's tail is spent at a steady rate: creates with evenly spaced arrivals
 * (open-loop.ts) against a server on a throwaway durable cluster, 10 s uncounted then
 * `BENCH_DURATION_S` (20) counted; prints the load generator's latencies beside the server's own,
 * read from its request log (`durationMs`, from the request's arrival to its answer), and the
 * slow creates by time, so a stall shows as a run of creates that finish together.
 *
 *   node dist/bench/server-latency.js [creates/s]     # default 100
 */
import { randomBytes } from 'node:crypto';
import { runOpenLoop } from './open-loop.js';
import { startPostgres, startRallypoint, stopEverything } from './processes.js';
import { createRequests, type Target } from './scenarios.js';
import { seedFleet } from './seed.js';
import { percentile } from './stats.js';

const RATE = Number(process.argv[2] ?? 100);
const DURATION_S = Number(process.env['BENCH_DURATION_S'] ?? 20);
const SLOW_MS = 20;

interface LogLine {
  time: number;
  route?: string;
  method?: string;
  durationMs?: number;
}

async function main(): Promise<void> {
  const postgres = await startPostgres();
  const key = `rp_bench_${randomBytes(16).toString('hex')}`;
  const server = await startRallypoint({ databaseUrl: postgres.url, key });
  const fleet = await seedFleet(
    { url: server.url, key },
    { app: 'bench-latency', deployments: 10, sockets: 1_000_000 },
  );
  const target: Target = { key, app: fleet.app, version: fleet.version, sessionIds: [] };
  const load = (durationS: number) =>
    runOpenLoop({ url: server.url, requests: createRequests(target, false), rate: RATE, durationS });
  await load(10);
  const logFrom = server.stdout().length;
  const client = await load(DURATION_S);
  const creates = server
    .stdout()
    .slice(logFrom)
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as LogLine)
    .filter((line) => line.method === 'POST' && line.route === '/v1/session' && line.durationMs !== undefined);
  const durations = creates.map((line) => line.durationMs!).sort((a, b) => a - b);
  const at = (p: number) => percentile(durations, p / 100).toFixed(1);
  console.log(`${RATE} creates/s offered for ${DURATION_S} s, ${client.rps}/s achieved`);
  console.log(`load generator: p50 ${client.p50Ms} ms, p99 ${client.p99Ms} ms, max ${client.maxMs} ms`);
  console.log(
    `server's log:   p50 ${at(50)} ms, p90 ${at(90)} ms, p99 ${at(99)} ms, max ${durations.at(-1)?.toFixed(1)} ms (${durations.length} creates)`,
  );
  const first = creates[0]?.time ?? 0;
  const slow = creates.filter((line) => line.durationMs! > SLOW_MS);
  console.log(`over ${SLOW_MS} ms: ${slow.length} creates (answered at s since the first: duration ms)`);
  console.log(slow.map((line) => `${((line.time - first) / 1000).toFixed(3)}: ${line.durationMs}`).join(', '));
}

try {
  await main();
} finally {
  await stopEverything();
}
