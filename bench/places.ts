/**
 * The create statement against the number of distinct places of a version: N deployments spread
 * over P places (bench/seed.ts's benchPlace, over the globe), players at random positions. Times
 * insertSessionOnBestDeployment alone, each in its own committed transaction (a million seats per
 * deployment, so none fills), reads the database's CPU for it (pg_stat_statements is not needed: the backend's own
 * /proc/<pid>/stat), and prints one EXPLAIN ANALYZE. Figures only.
 *
 *   npx tsc -p . && node dist/bench/places.js [P ...]     # default: 10 300
 *
 * Each create walks the places as the server would (the version's hint, placement.ts), or every
 * time the same way with `BENCH_WALK=all` or `BENCH_WALK=band`. `BENCH_WALK=compare` times the
 * two walks in alternating slices of BENCH_ROUNDS creates (6 each, the order swapped each round)
 * and prints their medians and the median of band/all per round.
 *
 * PostgreSQL: a throwaway cluster (scripts/throwaway-postgres.mjs), removed at the end.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createApp } from '../src/app/apps.js';
import { emptyListeners, noGeo, systemClock, type AppDeps } from '../src/app/deps.js';
import { createOrganisation } from '../src/app/keys.js';
import { createVersion } from '../src/app/versions.js';
import type { Db, Queryable } from '../src/db/db.js';
import { loadMigrations, migrate } from '../src/db/migrate.js';
import { openDb } from '../src/db/open-db.js';
import { insertDeployment } from '../src/db/queries/deployments.js';
import { insertSessionOnBestDeployment, type SessionPlacementRequest, type Walk } from '../src/db/queries/placement.js';
import { DeploymentStatus, SESSION_KINDS } from '../src/domain/session-rules.js';
import { ProviderRegistry } from '../src/providers/provider.js';
import { benchPlace } from './seed.js';

const DEPLOYMENTS = Number(process.env['BENCH_DEPLOYMENTS'] ?? 1000);
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 2000);
const walkAsked = process.env['BENCH_WALK'];
const WALK: Walk | undefined = walkAsked === 'all' || walkAsked === 'band' ? walkAsked : undefined;
const COMPARE_SLICES = 6;

function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

async function seed(db: Db, places: number) {
  const deps: AppDeps = {
    db,
    clock: systemClock,
    geo: noGeo,
    providers: new ProviderRegistry([]),
    listeners: emptyListeners(),
  };
  const { orgId } = await createOrganisation(deps, `places-${places}`);
  const app = await createApp(deps, orgId, { name: 'bench', isActive: true, image: '' });
  if (!app.ok) throw new Error(app.error.message);
  const version = await createVersion(deps, orgId, 'bench', {
    name: 'v1',
    session_config: { kind: 'Seat', sockets: 1_000_000 },
  });
  if (!version.ok) throw new Error(version.error.message);
  for (let i = 0; i < DEPLOYMENTS; i++) {
    const p = benchPlace(i % places, places);
    await insertDeployment(db, {
      requestId: `place${String(i).padStart(7, '0')}`,
      orgId,
      appId: version.value.appId,
      versionId: version.value.id,
      provider: 'registered',
      status: DeploymentStatus.ready,
      publicIp: '198.51.100.1',
      fqdn: '',
      ports: {},
      place: {
        city: p.city,
        country: p.country,
        continent: p.continent,
        administrativeDivision: p.administrative_division,
        region: '',
        timezone: '',
        latitude: p.latitude,
        longitude: p.longitude,
      },
      tags: [],
      sockets: 1_000_000,
      socketsUsage: 0,
      requestUserCount: 0,
      webhookUrl: null,
      command: null,
      arguments: null,
      env: [],
      providerData: {},
      heartbeatTimeoutSeconds: null,
      now: new Date(),
    });
  }
  await db.query('ANALYZE deployments');
  return orgId;
}

let sessions = 0;

function request(orgId: number, random: () => number): SessionPlacementRequest {
  return {
    orgId,
    appName: 'bench',
    versionName: 'v1',
    seatsByKind: Object.fromEntries(SESSION_KINDS.map((kind) => [kind, 1])),
    statusByDeploymentStatus: { [DeploymentStatus.ready]: 'Ready' },
    requiredTags: [],
    constraints: [],
    position: { latitude: random() * 140 - 70, longitude: random() * 360 - 180 },
    skipLocked: true,
    session: {
      sessionId: `bench-${(sessions += 1)}`,
      users: [],
      selectors: [],
      placement: {},
      customId: null,
      webhookUrl: null,
      now: new Date(),
    },
  };
}

/** CPU (ms) a backend process has used: utime + stime from /proc, in clock ticks of 10 ms. */
function backendCpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

class Rollback extends Error {}

async function rolledBack(db: Db, body: (tx: Queryable) => Promise<unknown>): Promise<void> {
  await db
    .transaction(async (tx) => {
      await body(tx);
      throw new Rollback();
    })
    .catch((error: unknown) => {
      if (!(error instanceof Rollback)) throw error;
    });
}

/** Times `rounds` creates, each committed: the median time and the backend's CPU per create. */
async function timeCreates(
  db: Db,
  orgId: number,
  random: () => number,
  walk: Walk | undefined,
  rounds: number,
): Promise<{ medianMs: number; dbCpuMs: number }> {
  const pid = (await db.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
  const times: number[] = [];
  const cpuBefore = backendCpuMs(pid);
  for (let i = 0; i < rounds; i++) {
    const started = performance.now();
    await db.transaction(async (tx) => {
      if (!(await insertSessionOnBestDeployment(tx, request(orgId, random), walk)).session)
        throw new Error('placement found nothing');
    });
    times.push(performance.now() - started);
  }
  return { medianMs: median(times), dbCpuMs: (backendCpuMs(pid) - cpuBefore) / rounds };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/** BENCH_WALK=compare: both walks in alternating slices on the same fleet and connection. */
async function compareWalks(db: Db, orgId: number, places: number): Promise<void> {
  const random = prng(7);
  for (const walk of ['all', 'band'] as const) await timeCreates(db, orgId, random, walk, 50);
  const cpu: Record<Walk, number[]> = { all: [], band: [] };
  for (let slice = 0; slice < COMPARE_SLICES; slice++) {
    const order: Walk[] = slice % 2 ? ['band', 'all'] : ['all', 'band'];
    for (const walk of order) cpu[walk].push((await timeCreates(db, orgId, random, walk, ROUNDS)).dbCpuMs);
  }
  const ratio = median(cpu.band.map((band, i) => band / cpu.all[i]!));
  console.log(
    `${String(places).padStart(4)} places: PostgreSQL CPU per create, all ${median(cpu.all).toFixed(3)} ms, band ${median(cpu.band).toFixed(3)} ms, band/all ×${ratio.toFixed(2)}`,
  );
}

async function measure(db: Db, orgId: number): Promise<{ medianMs: number; dbCpuMs: number; explain: string }> {
  const random = prng(7);
  await timeCreates(db, orgId, random, WALK, 50);
  const { medianMs, dbCpuMs } = await timeCreates(db, orgId, random, WALK, ROUNDS);
  let explain = '';
  await rolledBack(db, async (tx) => {
    const capture: Queryable = {
      query: (async (text: string, params?: unknown[]) => {
        const plan = await tx.query<{ 'QUERY PLAN': string }>(
          `EXPLAIN (ANALYZE, COSTS OFF, TIMING ${process.env['BENCH_EXPLAIN_TIMING'] === 'on' ? 'ON' : 'OFF'}, SUMMARY ON) ${text}`,
          params,
        );
        explain = plan.rows.map((r) => r['QUERY PLAN']).join('\n');
        return { rows: [], rowCount: 0 };
      }) as Queryable['query'],
      exec: (sql) => tx.exec(sql),
    };
    await insertSessionOnBestDeployment(capture, request(orgId, random), WALK);
  });
  return { medianMs, dbCpuMs, explain };
}

async function main() {
  const args = process.argv
    .slice(2)
    .map(Number)
    .filter((n) => n > 0);
  const placeCounts = args.length > 0 ? args : [10, 300];
  const migrations = await loadMigrations(fileURLToPath(new URL('../../src/db/migrations/', import.meta.url)));
  const { startThrowawayPostgres } = (await import(
    new URL('../../scripts/throwaway-postgres.mjs', import.meta.url).href
  )) as {
    startThrowawayPostgres(): Promise<{ url: string; stop(): void }>;
  };
  const cluster = await startThrowawayPostgres();
  process.once('SIGINT', () => {
    cluster.stop();
    process.exit(130);
  });
  try {
    for (const places of placeCounts) {
      const admin = await openDb({ databaseUrl: cluster.url, dataDir: '', poolSize: 1 });
      await admin.query(`CREATE DATABASE places_${places}`);
      await admin.close();
      // One connection, so the backend whose CPU is read is the one that runs every statement.
      const db = await openDb({
        databaseUrl: cluster.url.replace(/\/postgres$/, `/places_${places}`),
        dataDir: '',
        poolSize: 1,
      });
      try {
        await migrate(db, migrations);
        const orgId = await seed(db, places);
        if (walkAsked === 'compare') {
          await compareWalks(db, orgId, places);
          continue;
        }
        const { medianMs, dbCpuMs, explain } = await measure(db, orgId);
        if (process.env['BENCH_EXPLAIN'] !== 'off') console.log(`\n${explain}\n`);
        console.log(
          `${DEPLOYMENTS} deployments over ${String(places).padStart(4)} places: median ${medianMs.toFixed(3)} ms per create, PostgreSQL CPU ${dbCpuMs.toFixed(3)} ms`,
        );
      } finally {
        await db.close();
      }
    }
  } finally {
    cluster.stop();
  }
}

await main();
