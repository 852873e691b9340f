/**
 * Two builds' session creates, compared in alternating slices on one PostgreSQL cluster:
 *
 *   node dist/bench/ab.js <tree A> <tree B> [rounds] [slice seconds]
 *
 * Each tree is a checkout with its `dist/` built (`npm run build`); both may be the same tree, to
 * compare settings: `BENCH_A_ENV` and `BENCH_B_ENV` (JSON) add to each server's environment, and
 * `BENCH_A_VIA=socket` (or B) connects that server through the cluster's unix socket, as the
 * embedded default does, instead of TCP on 127.0.0.1. Both servers run at once, each
 * on its own database of one throwaway cluster (durable settings), and are loaded in turn for one
 * slice each round (A then B, B then A the next round), so both see the same machine: on a shared
 * virtual machine the speed of a whole `npm run bench` run moves by more than the changes we
 * measure. A warm-up slice each comes first, uncounted. Per slice it prints creates/s at saturation and CPU per create, net of idle, of the
 * loaded server and of PostgreSQL; then the medians and the median of B/A per round.
 *
 * `BENCH_AB_SCENARIO=get` compares `GET /v1/session/{id}` instead: the warm-up slice's creates
 * fill each side's pool of session ids, and the counted slices read them at random.
 *
 * Each side's fleet is 10 deployments at one place; `BENCH_A_FLEET=1000x300` (or B) seeds 1,000
 * deployments over 300 places instead (bench/seed.ts's benchPlace, over the globe). The same
 * tree on both sides with `BENCH_A_FLEET=1000x10 BENCH_B_FLEET=1000x300` measures what many
 * places cost a create.
 */
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import pg from 'pg';
import { runLoad } from './load.js';
import { processCpuMs, startPostgres, startRallypoint, stopEverything } from './processes.js';
import { createRequests, getRequests, type Target } from './scenarios.js';
import { seedFleet } from './seed.js';

const [treeA, treeB, roundsArg = '6', sliceArg = '5'] = process.argv.slice(2);
if (!treeA || !treeB) throw new Error('usage: node dist/bench/ab.js <tree A> <tree B> [rounds] [slice seconds]');
const ROUNDS = Number(roundsArg);
const SLICE_S = Number(sliceArg);
const IDLE_S = 10;
const SCENARIO = process.env['BENCH_AB_SCENARIO'] === 'get' ? 'get' : 'create';
const UNIT = SCENARIO === 'get' ? 'GET' : 'create';
const measured = (target: Target) => (SCENARIO === 'get' ? getRequests(target) : createRequests(target, false));
/** A side's fleet from `BENCH_A_FLEET` or `BENCH_B_FLEET`: deployments x places. */
function fleetOf(name: 'A' | 'B'): { deployments: number; places: number } {
  const [deployments = 10, places = 1] = (process.env[`BENCH_${name}_FLEET`] ?? '10x1').split('x').map(Number);
  return { deployments, places };
}

interface Side {
  name: 'A' | 'B';
  pid: number;
  url: string;
  target: Target;
  idleServerMsPerS: number;
  slices: Array<{ rps: number; serverMs: number; postgresMs: number }>;
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

async function main(treeA: string, treeB: string): Promise<void> {
  const postgres = await startPostgres();
  const admin = new pg.Client({ connectionString: postgres.url });
  await admin.connect();
  const sides: Side[] = [];
  for (const [name, tree] of [
    ['A', treeA],
    ['B', treeB],
  ] as const) {
    const database = `ab_${name.toLowerCase()}`;
    await admin.query(`CREATE DATABASE ${database}`);
    const url = new URL(process.env[`BENCH_${name}_VIA`] === 'socket' ? postgres.socketUrl : postgres.url);
    url.pathname = `/${database}`;
    const key = `rp_bench_${randomBytes(16).toString('hex')}`;
    const server = await startRallypoint({
      databaseUrl: url.href,
      key,
      mainScript: resolve(tree, 'dist/src/main.js'),
      env: {
        DATABASE_POOL_SIZE: '10',
        ...(JSON.parse(process.env[`BENCH_${name}_ENV`] ?? '{}') as Record<string, string>),
      },
    });
    const fleet = await seedFleet(
      { url: server.url, key },
      { app: 'bench-main', ...fleetOf(name), sockets: 1_000_000 },
    );
    sides.push({
      name,
      pid: server.pid,
      url: server.url,
      target: { key, app: fleet.app, version: fleet.version, sessionIds: [] },
      idleServerMsPerS: 0,
      slices: [],
    });
  }
  await admin.end();

  // A first slice each, not counted: the JIT compiles the create path while it runs (and, for
  // the GET comparison, the sessions it creates are the ones read).
  for (const side of sides) {
    const requests = createRequests(side.target, SCENARIO === 'get');
    await runLoad({ url: side.url, requests, durationS: SLICE_S, connections: 64 });
    if (SCENARIO === 'get')
      await runLoad({ url: side.url, requests: measured(side.target), durationS: SLICE_S, connections: 64 });
  }

  // Both idle together: each server's background work, and PostgreSQL's, to take off each slice.
  const before = { postgres: postgres.cpuMs() ?? 0, servers: sides.map((s) => processCpuMs(s.pid) ?? 0) };
  await new Promise((r) => setTimeout(r, IDLE_S * 1000));
  const idlePostgresMsPerS = ((postgres.cpuMs() ?? 0) - before.postgres) / IDLE_S;
  sides.forEach((s, i) => (s.idleServerMsPerS = ((processCpuMs(s.pid) ?? 0) - before.servers[i]!) / IDLE_S));

  const line = (cells: Array<string | number>) => process.stdout.write(`| ${cells.join(' | ')} |\n`);
  line(['round', 'build', `${UNIT}s/s`, `server ms/${UNIT}`, `postgres ms/${UNIT}`]);
  line(['---', '---', '---', '---', '---']);
  for (let round = 1; round <= ROUNDS; round++) {
    for (const side of round % 2 ? sides : [...sides].reverse()) {
      const serverBefore = processCpuMs(side.pid) ?? 0;
      const postgresBefore = postgres.cpuMs() ?? 0;
      const started = performance.now();
      const load = await runLoad({
        url: side.url,
        requests: measured(side.target),
        durationS: SLICE_S,
        connections: 64,
      });
      const elapsedS = (performance.now() - started) / 1000;
      const serverMs = ((processCpuMs(side.pid) ?? 0) - serverBefore - side.idleServerMsPerS * elapsedS) / load.total;
      const postgresMs = ((postgres.cpuMs() ?? 0) - postgresBefore - idlePostgresMsPerS * elapsedS) / load.total;
      side.slices.push({ rps: load.rps, serverMs, postgresMs });
      line([round, side.name, load.rps, serverMs.toFixed(3), postgresMs.toFixed(3)]);
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  const [a, b] = sides as [Side, Side];
  const ratio = (pick: (s: Side['slices'][number]) => number) =>
    median(a.slices.map((slice, i) => pick(b.slices[i]!) / pick(slice))).toFixed(2);
  process.stdout.write('\n');
  line(['', `${UNIT}s/s`, `server ms/${UNIT}`, `postgres ms/${UNIT}`]);
  line(['---', '---', '---', '---']);
  for (const side of sides)
    line([
      `median ${side.name}`,
      median(side.slices.map((s) => s.rps)),
      median(side.slices.map((s) => s.serverMs)).toFixed(3),
      median(side.slices.map((s) => s.postgresMs)).toFixed(3),
    ]);
  line(['median of B/A per round', ratio((s) => s.rps), ratio((s) => s.serverMs), ratio((s) => s.postgresMs)]);
}

process.on('SIGINT', () => void stopEverything().then(() => process.exit(130)));
main(treeA, treeB)
  .catch((error: unknown) => {
    process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
    process.exitCode = 1;
  })
  .finally(() => stopEverything());
