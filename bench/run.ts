/**
 * `npm run bench`: Rallypoint against the ceilings of this machine, in one run.
 *
 *   npm run bench                      # everything, ~10 s per measurement
 *   BENCH_DURATION_S=3 BENCH_ENGINES=embedded npm run bench
 *   node dist/bench/containers.js       # only the container figures (bench/containers.ts)
 *
 * Servers run in their own processes (node dist/src/main.js, a bare Fastify server, PostgreSQL);
 * autocannon drives them from this one. Prints a table and writes bench/results/latest.json.
 * Figures only: nothing here passes or fails on time.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { measureContainers, renderContainers } from './containers.js';
import { measureSeatTransaction } from './db-ceiling.js';
import { measureScenario, type CpuProbe, type CpuWatch, type LoadPlan, type ScenarioFigures } from './load.js';
import {
  processCpuMs,
  rssMb,
  serverTreeCpuMs,
  serverTreePssMb,
  startBareHttp,
  startPostgres,
  startRallypoint,
  stopEverything,
  stopRallypoint,
  type Postgres,
} from './processes.js';
import { renderMachine, renderTable, writeJson, type BenchResults, type ScenarioResult } from './report.js';
import {
  bareRequests,
  statementFloorRequests,
  createRequests,
  getRequests,
  listRequests,
  mixedRequests,
  usersRequests,
  type Target,
} from './scenarios.js';
import { bulkInsertSessions, createSessions, seedFleet, type Api } from './seed.js';

const DURATION_S = Number(process.env['BENCH_DURATION_S'] ?? 10);
/** Uncounted seconds at saturation before each measured scenario and ceiling (load.ts, LoadPlan). */
const WARM_UP_S = Number(process.env['BENCH_WARMUP_S'] ?? 10);
const ENGINES = (process.env['BENCH_ENGINES'] ?? 'postgres,embedded').split(',');
const SCALE_SESSIONS = Number(process.env['BENCH_SCALE_SESSIONS'] ?? 100_000);
const SCALE = process.env['BENCH_SCALE'] !== 'off';
/** The scale fleets as DEPLOYMENTSxPLACES, e.g. BENCH_SCALE_FLEETS=1000x10,1000x300 to skip the largest. */
const SCALE_FLEETS = (process.env['BENCH_SCALE_FLEETS'] ?? '1000x10,1000x300,10000x300')
  .split(',')
  .map((fleet) => fleet.split('x').map(Number));
/** Only these scenarios (create,get,users,list,mixed,bulk), for profiling one at a time. */
const ONLY = process.env['BENCH_ONLY']?.split(',');
const runs = (scenario: string) => ONLY === undefined || ONLY.includes(scenario);
/** Rallypoint's DATABASE_POOL_SIZE (default 10); the DB ceiling uses as many connections. */
const POOL_SIZE = Number(process.env['BENCH_POOL_SIZE'] ?? 10);
/** The offered rate of the fixed-rate runs (creates/s for the create scenario's p99 goal). */
const FIXED_RATE = Number(process.env['BENCH_FIXED_RATE'] ?? 500);
/** How long the idle server's CPU is watched after start. */
const IDLE_WATCH_S = 10;
const IDLE_SETTLE_S = 5;
const RESULTS = fileURLToPath(new URL('../../bench/results/latest.json', import.meta.url));
/** Extra environment for the Rallypoint servers, e.g. BENCH_SERVER_NODE_OPTIONS=--cpu-prof. */
const SERVER_ENV: Record<string, string> = {
  DATABASE_POOL_SIZE: String(POOL_SIZE),
  ...(process.env['BENCH_SERVER_NODE_OPTIONS']
    ? {
        NODE_OPTIONS: process.env['BENCH_SERVER_NODE_OPTIONS'],
        BENCH_PROFILE_DIR: process.env['BENCH_PROFILE_DIR'] ?? '/tmp',
      }
    : {}),
  // Experiments, e.g. BENCH_SERVER_ENV='{"CREATE_BATCH_MAX":"1"}'.
  ...(JSON.parse(process.env['BENCH_SERVER_ENV'] ?? '{}') as Record<string, string>),
};

const STATEMENT_FLOOR = 'floor: bare Fastify + one statement';
const READ_FLOOR = "floor: bare Fastify + the GET's statement";

const log = (line: string) => process.stderr.write(`bench: ${line}\n`);

function plan(url: string): LoadPlan {
  return {
    url,
    durationS: DURATION_S,
    warmUpS: WARM_UP_S,
    saturationConnections: 64,
    fixedRate: FIXED_RATE,
  };
}

function machine(postgresVersion: string): Record<string, string | number> {
  return {
    nproc: Number(execFileSync('nproc').toString().trim()),
    cpu: cpus()[0]?.model ?? 'unknown',
    memoryGb: Math.round(totalmem() / 1024 ** 3),
    node: process.version,
    postgres: postgresVersion,
    layout: 'load generator, Rallypoint, bare Fastify and PostgreSQL all on this one machine',
  };
}

/** Every scenario against one running server whose fleet is `target`. */
async function runScenarios(
  engine: 'postgres' | 'embedded',
  api: Api,
  target: Target,
  bulkApp: { app: string; requestId: string },
  cpu: CpuWatch,
): Promise<ScenarioResult[]> {
  const p = plan(api.url);
  const results: ScenarioResult[] = [];
  const measure = async (name: string, requests: () => ReturnType<typeof createRequests>, note?: string) => {
    log(`${engine}: ${name}`);
    const figures = await measureScenario(p, requests, cpu);
    results.push({ engine, name, ...figures, ...(note ? { note } : {}) });
    return figures;
  };
  if (runs('create')) await measure('session create', () => createRequests(target), 'Seat, 1-4 players');
  // Without the create scenario, the read and users scenarios still need live sessions.
  if (target.sessionIds.length === 0)
    target.sessionIds.push(...(await createSessions(api, { app: target.app, count: 2000 })));
  if (runs('get')) await measure('get session', () => getRequests(target));
  if (runs('users'))
    await measure('users put + delete', () => usersRequests(target), 'req/s counts PUT and DELETE each');
  if (runs('list')) await measure('list sessions (100)', () => listRequests(target), 'page of 100, newest first');
  if (runs('mixed')) {
    const mixed = await measure('matchmaker mix', () => mixedRequests(target), 'create, poll, add user, delete');
    results.at(-1)!.note += `; ${Math.round(mixed.saturated.rps / 4).toLocaleString('en-US')} flows/s`;
  }
  if (!runs('bulk')) return results;

  log(`${engine}: bulk-stop of 1,000 sessions`);
  const ids = await createSessions(api, { app: bulkApp.app, count: 1000, deploymentRequestId: bulkApp.requestId });
  const started = performance.now();
  const response = await fetch(`${api.url}/v1/sessions/bulk-stop`, {
    method: 'POST',
    headers: { authorization: `token ${api.key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ filters: [{ field: 'request_id', filter_type: 'any', values: [bulkApp.requestId] }] }),
  });
  const body = (await response.json()) as { processable?: unknown[] };
  const elapsedMs = performance.now() - started;
  results.push({
    engine,
    name: 'bulk-stop 1,000 sessions',
    note: `${Math.round(elapsedMs)} ms for ${body.processable?.length ?? 0}/${ids.length} sessions (${Math.round((ids.length / elapsedMs) * 1000)} sessions/s); one request, status ${response.status}`,
  });
  return results;
}

async function seedMain(api: Api): Promise<{ target: Target; bulk: { app: string; requestId: string } }> {
  const main = await seedFleet(api, { app: 'bench-main', deployments: 10, sockets: 1_000_000 });
  const bulk = await seedFleet(api, { app: 'bench-bulk', deployments: 1, sockets: 10_000 });
  return {
    target: { key: api.key, app: main.app, version: main.version, sessionIds: [] },
    bulk: { app: bulk.app, requestId: bulk.requestIds[0]! },
  };
}

/**
 * The server's CPU while nothing asks it anything (background loops only), in % of one core,
 * after IDLE_SETTLE_S of quiet: what a start or the last load left behind (JIT, garbage, a
 * due job) is not idle.
 */
async function idleCpu(probe: CpuProbe): Promise<Record<string, number>> {
  await new Promise((resolve) => setTimeout(resolve, IDLE_SETTLE_S * 1000));
  const before = probe();
  await new Promise((resolve) => setTimeout(resolve, IDLE_WATCH_S * 1000));
  const after = probe();
  const idle: Record<string, number> = {};
  for (const [name, ms] of Object.entries(after)) {
    const was = before[name];
    if (ms !== null && was !== null && was !== undefined)
      idle[name] = Number(((ms - was) / (IDLE_WATCH_S * 10)).toFixed(2));
  }
  return idle;
}

/**
 * The floor under every request that reads the database: the bare Fastify server answering each
 * request with one named statement through node-postgres (pool as Rallypoint's), no key, no log.
 * What a GET or a create costs beyond it is Rallypoint's own work.
 */
async function measureStatementFloor(results: BenchResults, postgres: Postgres, rallypoint: CpuWatch): Promise<void> {
  log('postgres: bare Fastify + one statement (floor)');
  const bare = await startBareHttp({ url: postgres.url, poolSize: POOL_SIZE });
  const cpu: CpuWatch = {
    probe: () => ({ server: processCpuMs(bare.pid), postgres: postgres.cpuMs() }),
    // The idle Rallypoint server's own statements still reach PostgreSQL meanwhile.
    idlePercent: { postgres: rallypoint.idlePercent['postgres'] ?? 0 },
  };
  const figures = await measureScenario(plan(bare.url), statementFloorRequests, cpu);
  results.scenarios.push({
    engine: 'postgres',
    name: STATEMENT_FLOOR,
    ...figures,
    note: 'bare Fastify, one named statement per request through pg; no key, no log',
  });
  await bare.stop();
}

/**
 * The floor under Rallypoint's GET: the bare Fastify server answering the get scenario's requests
 * with the GET's own statement, driver adapter, view and response schema (bare-http.ts), so what
 * the GET costs beyond it is Rallypoint's HTTP path (key, request id, log, metrics, load shedding).
 */
async function measureReadFloor(
  results: BenchResults,
  postgres: Postgres,
  rallypoint: CpuWatch,
  target: Target,
): Promise<void> {
  log("postgres: bare Fastify + the GET's statement (floor)");
  const bare = await startBareHttp({ url: postgres.url, poolSize: POOL_SIZE });
  const cpu: CpuWatch = {
    probe: () => ({ server: processCpuMs(bare.pid), postgres: postgres.cpuMs() }),
    idlePercent: { postgres: rallypoint.idlePercent['postgres'] ?? 0 },
  };
  const figures = await measureScenario(plan(bare.url), () => getRequests(target), cpu);
  results.scenarios.push({
    engine: 'postgres',
    name: READ_FLOOR,
    ...figures,
    note: "bare Fastify, the GET's statement, view and schema; no key, request id, log, metrics",
  });
  await bare.stop();
}

/** The fair ceiling (1,000 rows, as Rallypoint's statements run) and the older contended one (10 rows). */
async function measureCeilings(results: BenchResults, api: Api, postgres: Postgres): Promise<void> {
  await seedFleet(api, { app: 'bench-ceiling', deployments: 1000, sockets: 1_000_000 });
  await seedFleet(api, { app: 'bench-ceiling-10', deployments: 10, sockets: 1_000_000 });
  const common = { databaseUrl: postgres.url, poolSize: POOL_SIZE, durationS: DURATION_S, warmUpS: WARM_UP_S };
  log('postgres: bare seat-reservation transaction, 1,000 rows (fair)');
  results.ceilings.db = await measureSeatTransaction({ ...common, appName: 'bench-ceiling', shape: 'fair' });
  log('postgres: bare seat-reservation transaction, 10 rows (contended)');
  results.ceilings.dbContended = await measureSeatTransaction({
    ...common,
    appName: 'bench-ceiling-10',
    shape: 'contended',
  });
  log('postgres: the fair transaction writing 4 event rows');
  results.ceilings.dbWithEvents = await measureSeatTransaction({
    ...common,
    appName: 'bench-ceiling',
    shape: 'fair',
    eventRows: 4,
  });
  await settleDatabase(postgres.url);
}

/**
 * The ceilings write tens of thousands of rows in seconds; left alone, PostgreSQL vacuums them and
 * checkpoints them while the next scenario runs, and that scenario pays for the ceilings' writes
 * (the seeded server's PostgreSQL used 5.5% of a core in the background). A vacuum and a
 * checkpoint now, so each scenario starts on a settled database.
 */
async function settleDatabase(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('VACUUM (ANALYZE)');
    await client.query('CHECKPOINT');
  } finally {
    await client.end();
  }
}

/** Create rates on fleets of N deployments over P places; the largest also holds SCALE_SESSIONS live sessions. */
async function runScale(
  results: BenchResults,
  api: Api,
  postgres: Postgres,
  server: { pid: number; cpu: CpuWatch },
): Promise<void> {
  // The largest fleet has 64 sockets per deployment, so it holds the bulk-inserted sessions.
  const fleets = SCALE_FLEETS.map(
    ([deployments = 0, places = 0]) => [deployments, places, deployments >= 10_000 ? 64 : 10_000] as const,
  );
  const largest = fleets.reduce((a, b) => (b[0] > a[0] ? b : a));
  const appOf = (deployments: number, places: number) => `bench-scale-${deployments}-${places}`;
  for (const [deployments, places, sockets] of fleets) {
    log(`postgres: seeding ${deployments} deployments over ${places} places`);
    await seedFleet(api, { app: appOf(deployments, places), deployments, sockets, places });
  }
  log(`postgres: bulk insert of ${SCALE_SESSIONS} live sessions on the ${largest[0]}-deployment fleet`);
  await bulkInsertSessions(postgres.url, appOf(largest[0], largest[1]), SCALE_SESSIONS);
  const counter = new pg.Client({ connectionString: postgres.url });
  await counter.connect();
  for (const [deployments, places] of fleets) {
    const live = Number(
      (await counter.query<{ n: string }>('SELECT count(*) AS n FROM sessions WHERE deleted_at IS NULL')).rows[0]?.n ??
        0,
    );
    log(`postgres: scale, create with ${deployments} deployments over ${places} places (${live} live sessions)`);
    await settleDatabase(postgres.url);
    const scaleTarget: Target = { key: api.key, app: appOf(deployments, places), version: 'v1', sessionIds: [] };
    const create: ScenarioFigures = await measureScenario(
      plan(api.url),
      () => createRequests(scaleTarget, false),
      server.cpu,
    );
    results.scale.push({ deployments, places, liveSessions: live, create, rssMb: rssMb(server.pid) });
  }
  await counter.end();
}

async function runPostgres(results: BenchResults): Promise<void> {
  const postgres = await startPostgres();
  const client = new pg.Client({ connectionString: postgres.url });
  await client.connect();
  results.machine = machine(
    (await client.query<{ server_version: string }>('SHOW server_version')).rows[0]?.server_version ?? '?',
  );
  await client.end();
  const key = `rp_bench_${randomBytes(16).toString('hex')}`;
  const server = await startRallypoint({ databaseUrl: postgres.url, key, env: SERVER_ENV });
  const api: Api = { url: server.url, key };
  const probe: CpuProbe = () => ({ server: processCpuMs(server.pid), postgres: postgres.cpuMs() });
  results.rss['postgres: after start'] = rssMb(server.pid);
  log('postgres: idle server');
  results.idleCpuPercent['postgres'] = await idleCpu(probe);
  const { target, bulk } = await seedMain(api);
  await measureCeilings(results, api, postgres);
  // What is taken off each scenario's CPU is the background of this server as it now is, with
  // the ceilings' 1,010 deployments and their sessions, not as it was empty after start.
  log('postgres: idle server with the seeded fleets');
  const cpu: CpuWatch = { probe, idlePercent: await idleCpu(probe) };
  results.idleCpuPercent['postgres: seeded'] = cpu.idlePercent;
  await measureStatementFloor(results, postgres, cpu);
  results.scenarios.push(...(await runScenarios('postgres', api, target, bulk, cpu)));
  if (runs('get')) await measureReadFloor(results, postgres, cpu, target);
  results.rss['postgres: after scenarios'] = rssMb(server.pid);
  if (SCALE) {
    await runScale(results, api, postgres, { pid: server.pid, cpu });
    results.rss['postgres: at 100,000+ live sessions'] = rssMb(server.pid);
  }
  await stopRallypoint(server);
}

/** The default start: no DATABASE_URL, so the server runs its embedded PostgreSQL (durable settings). */
async function runEmbedded(results: BenchResults): Promise<void> {
  const key = `rp_bench_${randomBytes(16).toString('hex')}`;
  const server = await startRallypoint({ key, env: SERVER_ENV });
  const api: Api = { url: server.url, key };
  const probe: CpuProbe = () => ({ server: processCpuMs(server.pid), postgres: serverTreeCpuMs(server.embeddedPid()) });
  results.rss['embedded: after start'] = rssMb(server.pid);
  results.rss['embedded: its PostgreSQL after start (Pss)'] = serverTreePssMb(server.embeddedPid());
  log('embedded: idle server');
  const cpu: CpuWatch = { probe, idlePercent: await idleCpu(probe) };
  results.idleCpuPercent['embedded'] = cpu.idlePercent;
  const { target, bulk } = await seedMain(api);
  results.scenarios.push(...(await runScenarios('embedded', api, target, bulk, cpu)));
  results.rss['embedded: after scenarios'] = rssMb(server.pid);
  await stopRallypoint(server);
}

function addRatios(results: BenchResults): void {
  const http = results.ceilings.http?.saturated.rps;
  const db = results.ceilings.db?.txPerSecond;
  for (const s of results.scenarios) {
    if (!s.saturated) continue;
    // Writes are bound by the seat transaction's commit rate on PostgreSQL; reads (and the embedded run,
    // whose database runs inside the server process) by the HTTP ceiling.
    const isWrite = !/^(get|list)/.test(s.name) && s.name !== STATEMENT_FLOOR && s.name !== READ_FLOOR;
    if (s.engine === 'postgres' && isWrite && db) Object.assign(s, { boundBy: 'db', ratio: s.saturated.rps / db });
    else if (http) Object.assign(s, { boundBy: 'http', ratio: s.saturated.rps / http });
  }
}

/** The goals of the lean-create work (README, Benchmarks), each from this run's own figures. */
function addGoals(results: BenchResults): void {
  const http = results.ceilings.http?.saturated.rps;
  const db = results.ceilings.db?.txPerSecond;
  const find = (engine: string, name: string) => results.scenarios.find((s) => s.engine === engine && s.name === name);
  const create = find('postgres', 'session create');
  const get = find('postgres', 'get session');
  const goals: BenchResults['goals'] = [];
  const add = (goal: string, figure: string, met: boolean) => goals.push({ goal, figure, met });
  if (create?.saturated && db)
    add(
      'create >= 40% of the fair bare seat tx',
      `${Math.round((create.saturated.rps / db) * 100)}% (${create.saturated.rps}/s of ${db} tx/s)`,
      create.saturated.rps >= 0.4 * db,
    );
  const floor = find('postgres', STATEMENT_FLOOR);
  const readFloor = find('postgres', READ_FLOOR);
  if (get?.saturated && http)
    add(
      'get >= 25% of bare Fastify',
      `${Math.round((get.saturated.rps / http) * 100)}% (${get.saturated.rps} of ${http} req/s)` +
        (floor?.saturated
          ? `; bare Fastify with one statement: ${Math.round((floor.saturated.rps / http) * 100)}% (${floor.saturated.rps} req/s)`
          : '') +
        (readFloor?.saturated
          ? `; with the GET's statement: ${Math.round((readFloor.saturated.rps / http) * 100)}% (${readFloor.saturated.rps} req/s)`
          : ''),
      get.saturated.rps >= 0.25 * http,
    );
  if (create?.atFixedRate)
    add(
      `create p99 <= 50 ms at ${FIXED_RATE}/s offered`,
      `${create.atFixedRate.p99Ms} ms (${create.atFixedRate.rps}/s achieved)`,
      create.atFixedRate.p99Ms <= 50 && FIXED_RATE >= 500,
    );
  const server = create?.cpuPerRequestMs?.['server'];
  if (server !== undefined)
    add(
      'server CPU per create <= 0.5 ms',
      `${server} ms (PostgreSQL ${create?.cpuPerRequestMs?.['postgres'] ?? '?'} ms)`,
      server <= 0.5,
    );
  const embeddedCreate = find('embedded', 'session create');
  if (embeddedCreate?.saturated && create?.saturated) {
    const ratio = embeddedCreate.saturated.rps / create.saturated.rps;
    add(
      'embedded create >= 70% of external PostgreSQL',
      `${Math.round(ratio * 100)}% (${embeddedCreate.saturated.rps} vs ${create.saturated.rps}/s)`,
      ratio >= 0.7,
    );
  }
  const tenPlaces = results.scale.find((s) => s.deployments === 1000 && s.places === 10);
  const manyPlaces = results.scale.find((s) => s.deployments === 1000 && s.places === 300);
  if (tenPlaces && manyPlaces) {
    const ratio = manyPlaces.create.saturated.rps / tenPlaces.create.saturated.rps;
    add(
      '300 places: create >= 80% of 10 places',
      `${Math.round(ratio * 100)}% (${manyPlaces.create.saturated.rps} vs ${tenPlaces.create.saturated.rps}/s)`,
      ratio >= 0.8,
    );
  }
  const rss = results.rss['embedded: after start'] ?? results.rss['postgres: after start'];
  const embeddedPss = results.rss['embedded: its PostgreSQL after start (Pss)'];
  if (rss !== undefined && rss !== null)
    add(
      'server RSS after start <= 150 MB',
      `${rss} MB${embeddedPss ? ` (its embedded PostgreSQL beside it: ${embeddedPss} MB Pss)` : ''}`,
      rss <= 150,
    );
  const idleOf = results.idleCpuPercent['embedded'] ?? results.idleCpuPercent['postgres'];
  if (idleOf?.['server'] !== undefined)
    add(
      'idle server < 1% of a core',
      `${idleOf['server']}% (PostgreSQL ${idleOf['postgres'] ?? '?'}%)`,
      idleOf['server'] < 1,
    );
  results.goals = goals;
}

async function main(): Promise<void> {
  const results: BenchResults = {
    machine: {},
    settings: {
      durationS: DURATION_S,
      warmUpS: WARM_UP_S,
      fixedRate: FIXED_RATE,
      poolSize: POOL_SIZE,
      saturationConnections: 64,
      fixedRateArrivals: 'evenly spaced',
    },
    ceilings: {},
    scenarios: [],
    scale: [],
    rss: {},
    idleCpuPercent: {},
    goals: [],
  };
  log('bare Fastify (HTTP ceiling)');
  const bare = await startBareHttp();
  results.ceilings.http = await measureScenario(plan(bare.url), bareRequests);
  await bare.stop();
  if (ENGINES.includes('postgres')) await runPostgres(results);
  else results.machine = machine('not used');
  if (ENGINES.includes('embedded')) await runEmbedded(results);
  addRatios(results);
  addGoals(results);
  // Containers on one host (docker provider against a Podman service); BENCH_CONTAINERS=off skips them.
  const containers = process.env['BENCH_CONTAINERS'] === 'off' ? undefined : await measureContainers();
  process.stdout.write(
    `\n${renderMachine(results)}\n\n${renderTable(results)}\n\nRSS (MB): ${JSON.stringify(results.rss)}\n`,
  );
  if (containers) process.stdout.write(`\n${renderContainers(containers)}\n`);
  writeJson(RESULTS, results);
  process.stdout.write(`\nwritten: ${RESULTS}\n`);
}

process.on('SIGINT', () => void stopEverything().then(() => process.exit(130)));
main().then(stopEverything, async (error) => {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
  await stopEverything();
  process.exitCode = 1;
});
