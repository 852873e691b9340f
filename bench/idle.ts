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

/** Seconds per line of the timeline printed before the total (`IDLE_STEP_S`, default 10). */
const STEP_S = Number(process.env['IDLE_STEP_S'] ?? 10);

async function main(): Promise<void> {
  const server = await startRallypoint({ key: `rp_bench_${randomBytes(16).toString('hex')}`, env: ENV });
  await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
  const pgPid = server.embeddedPid();
  const nodeBefore = processCpuMs(server.pid);
  const pgBefore = serverTreeCpuMs(pgPid);
  const percent = (before: number | null, after: number | null, seconds: number) =>
    before === null || after === null ? 'n/a' : `${((after - before) / (seconds * 10)).toFixed(2)}%`;
  // A timeline, so a cost that fades after start (the collector tidying start-up's garbage) shows
  // apart from one that stays.
  let [nodeStep, pgStep] = [nodeBefore, pgBefore];
  for (let at = STEP_S; at <= IDLE_S; at += STEP_S) {
    await new Promise((resolve) => setTimeout(resolve, STEP_S * 1000));
    const [nodeNow, pgNow] = [processCpuMs(server.pid), serverTreeCpuMs(pgPid)];
    process.stdout.write(
      `  ${at - STEP_S}-${at} s after settling: node ${percent(nodeStep, nodeNow, STEP_S)}, postgres ${percent(pgStep, pgNow, STEP_S)}\n`,
    );
    [nodeStep, pgStep] = [nodeNow, pgNow];
  }
  // The total covers IDLE_S whole, when it is not a multiple of the step.
  await new Promise((resolve) => setTimeout(resolve, (IDLE_S % STEP_S) * 1000));
  const nodeAfter = processCpuMs(server.pid);
  const pgAfter = serverTreeCpuMs(pgPid);
  process.stdout.write(
    `idle ${IDLE_S} s${process.argv.length > 3 ? ` (${process.argv.slice(3).join(' ')})` : ''}: node ${percent(nodeBefore, nodeAfter, IDLE_S)} of a core (${nodeBefore === null ? '?' : (nodeAfter ?? 0) - nodeBefore} ms CPU), ` +
      `postgres ${percent(pgBefore, pgAfter, IDLE_S)} (${pgBefore === null ? '?' : (pgAfter ?? 0) - pgBefore} ms CPU)\n`,
  );
}

main()
  .catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  })
  .finally(() => stopEverything());
