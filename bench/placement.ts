/**
 * Placement time against the number of live deployments of a version (the goal: 10,000 must
 * cost at most twice 10). Seeds N deployments over twelve cities directly through the query
 * layer, then times the real use case (createSession, then deleteSession so fullness stays put)
 * for players with a position, with none, and with a country filter. Prints figures; never
 * passes or fails on time.
 *
 *   npx tsc -p . && node dist/bench/placement.js [N ...]
 *
 * PostgreSQL: a throwaway cluster started here (scripts/throwaway-postgres.mjs) and removed at the
 * end.
 */
import { fileURLToPath } from 'node:url';
import { emptyListeners, noGeo, systemClock, type AppDeps } from '../src/app/deps.js';
import { createApp } from '../src/app/apps.js';
import { createOrganisation } from '../src/app/keys.js';
import { createSession, deleteSession } from '../src/app/sessions.js';
import { createVersion } from '../src/app/versions.js';
import type { Db } from '../src/db/db.js';
import { loadMigrations, migrate } from '../src/db/migrate.js';
import { openDb } from '../src/db/open-db.js';
import { insertDeployment } from '../src/db/queries/deployments.js';
import { insertSessionOnBestDeployment } from '../src/db/queries/placement.js';
import { locationConstraintsOf, type PlacementRequest, type Position } from '../src/domain/placement.js';
import { DeploymentStatus, SESSION_KINDS } from '../src/domain/session-rules.js';
import { ProviderRegistry } from '../src/providers/provider.js';

const CITIES = [
  ['Montreal', 'Canada', 'North America', 45.5017, -73.5673],
  ['Frankfurt', 'Germany', 'Europe', 50.1109, 8.6821],
  ['Tokyo', 'Japan', 'Asia', 35.6762, 139.6503],
  ['Sydney', 'Australia', 'Oceania', -33.8688, 151.2093],
  ['Sao Paulo', 'Brazil', 'South America', -23.5505, -46.6333],
  ['Los Angeles', 'United States', 'North America', 34.0522, -118.2437],
  ['London', 'United Kingdom', 'Europe', 51.5072, -0.1276],
  ['Singapore', 'Singapore', 'Asia', 1.3521, 103.8198],
  ['Johannesburg', 'South Africa', 'Africa', -26.2041, 28.0473],
  ['Mumbai', 'India', 'Asia', 19.076, 72.8777],
  ['Chicago', 'United States', 'North America', 41.8781, -87.6298],
  ['Warsaw', 'Poland', 'Europe', 52.2297, 21.0122],
] as const;
const SOCKETS = 32;
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 300);

/** Deterministic pseudo-random numbers, so every run seeds the same fleet. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

async function seed(db: Db, n: number) {
  const deps: AppDeps = {
    db,
    clock: systemClock,
    geo: noGeo,
    providers: new ProviderRegistry([]),
    listeners: emptyListeners(),
  };
  const { orgId } = await createOrganisation(deps, `bench-${n}`);
  const app = await createApp(deps, orgId, { name: 'bench', isActive: true, image: '' });
  if (!app.ok) throw new Error(app.error.message);
  const version = await createVersion(deps, orgId, 'bench', {
    name: 'v1',
    session_config: { kind: 'Seat', sockets: SOCKETS },
  });
  if (!version.ok) throw new Error(version.error.message);
  const random = prng(n);
  const now = new Date();
  for (let i = 0; i < n; i++) {
    const [city, country, continent, lat, lon] = CITIES[i % CITIES.length]!;
    await insertDeployment(db, {
      requestId: `bench${String(i).padStart(7, '0')}`,
      orgId,
      appId: version.value.appId,
      versionId: version.value.id,
      provider: 'registered',
      // One in ten still starting, so ready-before-deploying has work to do.
      status: i % 10 === 9 ? DeploymentStatus.deploying : DeploymentStatus.ready,
      publicIp: '198.51.100.1',
      fqdn: '',
      ports: {},
      place: {
        city,
        country,
        continent,
        administrativeDivision: '',
        region: '',
        timezone: '',
        latitude: lat,
        longitude: lon,
      },
      tags: i % 3 === 0 ? ['gpu'] : [],
      sockets: SOCKETS,
      socketsUsage: Math.floor(random() * SOCKETS),
      requestUserCount: 0,
      webhookUrl: null,
      command: null,
      arguments: null,
      env: [],
      providerData: {},
      heartbeatTimeoutSeconds: null,
      now,
    });
  }
  await db.query('ANALYZE deployments');
  return { deps, orgId, versionId: version.value.id };
}

type Scenario = { name: string; input: (i: number) => Record<string, unknown> };
const SCENARIOS: Scenario[] = [
  { name: 'position', input: (i) => ({ location: { latitude: 40 + (i % 20), longitude: -100 + ((i * 37) % 200) } }) },
  { name: 'no position', input: () => ({ ip_list: ['10.0.0.1'] }) },
  {
    name: 'position + filter',
    input: (i) => ({
      location: { latitude: 48, longitude: 2 + (i % 5) },
      filters: [{ field: 'continent', filter_type: 'any', values: ['Europe'] }],
    }),
  },
];

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function summary(times: number[]): { median: number; p99: number } {
  const sorted = times.slice(20).sort((a, b) => a - b); // the first rounds warm caches and plans
  return { median: percentile(sorted, 50), p99: percentile(sorted, 99) };
}

/** The whole use case: validation, version lookup, placement, session insert, commit. */
async function timeSessions(
  deps: AppDeps,
  orgId: number,
  scenario: Scenario,
): Promise<{ median: number; p99: number }> {
  const times: number[] = [];
  for (let i = 0; i < ROUNDS + 20; i++) {
    const body = { app_name: 'bench', ip_list: ['10.0.0.1'], ...scenario.input(i) } as never;
    const started = performance.now();
    const created = await createSession(deps, orgId, body);
    times.push(performance.now() - started);
    if (!created.ok || !created.value.deployment) throw new Error(`placement failed: ${JSON.stringify(created)}`);
    await deleteSession(deps, orgId, created.value.session.sessionId);
  }
  return summary(times);
}

/** The placement statement alone, in a transaction rolled back so the fleet never changes. */
async function timeQuery(deps: AppDeps, orgId: number, scenario: Scenario): Promise<{ median: number; p99: number }> {
  const times: number[] = [];
  for (let i = 0; i < ROUNDS + 20; i++) {
    const input = scenario.input(i) as { location?: Position; filters?: PlacementRequest['filters'] };
    const constraints = locationConstraintsOf(input);
    if (!constraints.ok) throw new Error(constraints.error.message);
    const request = {
      orgId,
      appName: 'bench',
      versionName: 'v1',
      seatsByKind: Object.fromEntries(SESSION_KINDS.map((kind) => [kind, 1])),
      statusByDeploymentStatus: { [DeploymentStatus.ready]: 'Ready' },
      requiredTags: [],
      constraints: constraints.value,
      position: input.location ?? null,
      skipLocked: true,
      session: {
        sessionId: `bench-${i}`,
        users: [],
        selectors: [],
        placement: {},
        customId: null,
        webhookUrl: null,
        now: new Date(),
      },
    };
    const started = performance.now();
    const picked = await deps.db
      .transaction(async (tx) => {
        const reserved = (await insertSessionOnBestDeployment(tx, request)).session;
        throw Object.assign(new Error('rollback'), { reserved });
      })
      .catch((error: { reserved?: unknown }) => error.reserved);
    times.push(performance.now() - started);
    if (!picked) throw new Error('placement found nothing');
  }
  return summary(times);
}

async function main() {
  const sizes = process.argv
    .slice(2)
    .map(Number)
    .filter((n) => n > 0);
  const counts = sizes.length > 0 ? sizes : [10, 1_000, 10_000];
  const migrations = await loadMigrations(fileURLToPath(new URL('../../src/db/migrations/', import.meta.url)));
  // Resolved from dist/bench/ at run time: the script is plain ESM that tsc does not copy.
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
  const results: Array<Record<string, string | number>> = [];
  try {
    for (const engine of ['postgres'] as const) {
      for (const n of counts) {
        const admin = await openDb({ databaseUrl: cluster.url, dataDir: '', poolSize: 1 });
        await admin.query(`CREATE DATABASE bench_${n}`);
        await admin.close();
        const db: Db = await openDb({
          databaseUrl: cluster.url.replace(/\/postgres$/, `/bench_${n}`),
          dataDir: '',
          poolSize: 4,
        });
        try {
          await migrate(db, migrations);
          const { deps, orgId } = await seed(db, n);
          for (const scenario of SCENARIOS) {
            for (const [what, time] of [
              ['query', () => timeQuery(deps, orgId, scenario)],
              ['session', () => timeSessions(deps, orgId, scenario)],
            ] as const) {
              const { median, p99 } = await time();
              const name = `${scenario.name} (${what})`;
              results.push({
                engine,
                deployments: n,
                scenario: name,
                'median ms': +median.toFixed(3),
                'p99 ms': +p99.toFixed(3),
              });
              console.log(
                `${engine.padEnd(8)} N=${String(n).padStart(6)} ${name.padEnd(28)} median ${median.toFixed(3)} ms  p99 ${p99.toFixed(3)} ms`,
              );
            }
          }
        } finally {
          await db.close();
        }
      }
    }
  } finally {
    cluster.stop();
  }
  console.table(results);
  const names = [...new Set(results.map((r) => String(r['scenario'])))];
  for (const engine of ['postgres']) {
    for (const name of names) {
      const row = (n: number) =>
        results.find((r) => r['engine'] === engine && r['deployments'] === n && r['scenario'] === name);
      const small = row(Math.min(...counts));
      const large = row(Math.max(...counts));
      if (small && large) {
        console.log(
          `${engine} ${name}: median at N=${Math.max(...counts)} is ${(Number(large['median ms']) / Number(small['median ms'])).toFixed(2)}x N=${Math.min(...counts)}`,
        );
      }
    }
  }
}

await main();
