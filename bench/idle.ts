/**
 * Idle CPU of a default server (embedded PostgreSQL, default settings): starts
 * `node dist/src/main.js` in a temp data directory, lets it settle, then prints the CPU the
 * Node process and the PostgreSQL server (with its backends) used over IDLE_S seconds, in % of
 * one core. `npm run build && node dist/bench/idle.js [seconds] [NAME=value ...]` (settings for
 * the server, e.g. JOB_POLL_MS=60000 to see a loop's share).
 */
import { randomBytes } from 'node:crypto';
import { processCpuMs, serverTreeCpuMs, startRallypoint, stopEverything } from './processes.js';

const IDLE_S = Number(process.argv[2] ?? 60);
const ENV = Object.fromEntries(
  process.argv.slice(3).map((arg) => [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)]),
);
const SETTLE_MS = 5_000;

async function main(): Promise<void> {
  const server = await startRallypoint({ key: `rp_bench_${randomBytes(16).toString('hex')}`, env: ENV });
  await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
  const pgPid = server.embeddedPid();
  const nodeBefore = processCpuMs(server.pid);
  const pgBefore = serverTreeCpuMs(pgPid);
  await new Promise((resolve) => setTimeout(resolve, IDLE_S * 1000));
  const nodeAfter = processCpuMs(server.pid);
  const pgAfter = serverTreeCpuMs(pgPid);
  const percent = (before: number | null, after: number | null) =>
    before === null || after === null ? 'n/a' : `${((after - before) / (IDLE_S * 10)).toFixed(2)}%`;
  process.stdout.write(
    `idle ${IDLE_S} s${process.argv.length > 3 ? ` (${process.argv.slice(3).join(' ')})` : ''}: node ${percent(nodeBefore, nodeAfter)} of a core (${nodeBefore === null ? '?' : (nodeAfter ?? 0) - nodeBefore} ms CPU), ` +
      `postgres ${percent(pgBefore, pgAfter)} (${pgBefore === null ? '?' : (pgAfter ?? 0) - pgBefore} ms CPU)\n`,
  );
}

main()
  .catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  })
  .finally(() => stopEverything());
