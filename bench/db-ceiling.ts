/**
 * The database ceiling: the bare seat-reservation transaction, straight against the same
 * PostgreSQL with as many connections as Rallypoint's pool. Each of `poolSize` workers holds one
 * connection and loops BEGIN; the conditional UPDATE of deployments.sockets_usage (fullest
 * deployment with room, FOR UPDATE SKIP LOCKED); INSERT of the session row; COMMIT. No HTTP, no
 * JSON, no events.
 *
 * Two shapes (README, Benchmarks): `fair` is the reference, the statements as Rallypoint's own
 * reserve sends them (named, so planned once per connection; the pick seeks the placement index
 * by place); `contended` is the older figure, unnamed statements and a pick that sorts the
 * version's rows, run on 10 rows that every worker fights over.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { percentile } from './stats.js';

export interface CeilingFigures {
  txPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  transactions: number;
}

export interface SeatTransactionOptions {
  databaseUrl: string;
  appName: string;
  poolSize: number;
  durationS: number;
  /** Seconds of the same loop first, not counted: plans cached, buffers warm (as load.ts's warm-up). */
  warmUpS?: number;
  shape: 'fair' | 'contended';
  /**
   * Also insert this many event rows, as a create does (created, linked, ready, usage_changed).
   * A diagnostic beside the ceiling, not the ceiling itself. They go to a copy of the event log
   * with its columns and indexes (EVENT_ROWS_TABLE): rows in the log itself would be numbered and
   * announced by the Rallypoint server under test while it runs the next scenarios, tens of
   * thousands of them.
   */
  eventRows?: number;
}

const SCOPE = `version_id = $1 AND is_joinable AND status IN ('Status.READY', 'Status.DEPLOYING', 'Status.INITIALIZING')`;
/** The place key of migration 004's index, word for word, so the pick is an index seek. */
const AT_PLACE = `AND (status = 'Status.READY') = $3 AND (coalesce(latitude, 'NaN'::float8)) = $4 AND (coalesce(longitude, 'NaN'::float8)) = $5
  AND city = $6 AND country = $7 AND continent = $8 AND administrative_division = $9 AND region = $10`;

function reserveSql(shape: SeatTransactionOptions['shape']): string {
  return `WITH pick AS (
     SELECT id FROM deployments WHERE ${SCOPE} ${shape === 'fair' ? AT_PLACE : ''} AND (sockets - sockets_usage) >= $2
     ORDER BY (sockets - sockets_usage) ASC, id ASC LIMIT 1 FOR UPDATE SKIP LOCKED)
   UPDATE deployments d SET sockets_usage = d.sockets_usage + $2, emptied_at = NULL FROM pick WHERE d.id = pick.id RETURNING d.id`;
}

const EVENT_ROWS_TABLE = 'bench_event_rows';

const INSERT_SESSION = `INSERT INTO sessions (session_id, org_id, app_id, version_id, kind, status, deployment_id, seats, users, user_count, created_at)
  VALUES ($1, $2, $3, $4, 'Seat', 'Ready', $5, $6, $7, $8, now())`;

interface Target {
  org_id: number;
  app_id: number;
  version_id: number;
  place: unknown[];
}

async function readTarget(client: pg.Client, appName: string): Promise<Target> {
  const { rows } = await client.query<
    Omit<Target, 'place'> & {
      ready: boolean;
      lat: number;
      lon: number;
      city: string;
      country: string;
      continent: string;
      ad: string;
      region: string;
    }
  >(
    `SELECT a.org_id, a.id AS app_id, v.id AS version_id, d.status = 'Status.READY' AS ready, coalesce(d.latitude, 'NaN') AS lat,
       coalesce(d.longitude, 'NaN') AS lon, d.city, d.country, d.continent, d.administrative_division AS ad, d.region
     FROM apps a JOIN versions v ON v.app_id = a.id JOIN deployments d ON d.version_id = v.id WHERE a.name = $1 AND v.name = 'v1' LIMIT 1`,
    [appName],
  );
  const row = rows[0];
  if (!row) throw new Error(`no deployment of ${appName} v1`);
  return { ...row, place: [row.ready, row.lat, row.lon, row.city, row.country, row.continent, row.ad, row.region] };
}

async function oneTransaction(client: pg.Client, options: SeatTransactionOptions, target: Target): Promise<void> {
  const named = options.shape === 'fair';
  const seats = 1 + Math.floor(Math.random() * 4);
  await client.query('BEGIN');
  try {
    const reserved = await client.query<{ id: number }>({
      ...(named ? { name: 'ceiling-reserve' } : {}),
      text: reserveSql(options.shape),
      values: [target.version_id, seats, ...(named ? target.place : [])],
    });
    const deploymentId = reserved.rows[0]?.id ?? null;
    await client.query({
      ...(named ? { name: 'ceiling-insert' } : {}),
      text: INSERT_SESSION,
      values: [
        `${randomBytes(6).toString('hex')}-S`,
        target.org_id,
        target.app_id,
        target.version_id,
        deploymentId,
        deploymentId === null ? 0 : seats,
        JSON.stringify(Array.from({ length: seats }, (_, i) => ({ ip: `203.0.113.${i + 1}` }))),
        seats,
      ],
    });
    if (options.eventRows) {
      // One named statement for all of them, as a create writes its events.
      await client.query({
        name: 'ceiling-events',
        text: `INSERT INTO ${EVENT_ROWS_TABLE} (org_id, type, session_id, request_id, data, created_at)
          SELECT $1, 'session.created', 'bench-S', NULL, '{"seats":1}', now() FROM generate_series(1, $2)`,
        values: [target.org_id, options.eventRows],
      });
    }
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

export async function measureSeatTransaction(options: SeatTransactionOptions): Promise<CeilingFigures> {
  const clients = Array.from(
    { length: options.poolSize },
    () => new pg.Client({ connectionString: options.databaseUrl }),
  );
  try {
    await Promise.all(clients.map((c) => c.connect()));
    const target = await readTarget(clients[0]!, options.appName);
    if (options.eventRows)
      await clients[0]!.query(`CREATE TABLE IF NOT EXISTS ${EVENT_ROWS_TABLE} (LIKE events INCLUDING ALL)`);
    let latencies: number[] = [];
    const loop = async (durationS: number) => {
      const deadline = performance.now() + durationS * 1000;
      const worker = async (client: pg.Client) => {
        while (performance.now() < deadline) {
          const started = performance.now();
          await oneTransaction(client, options, target);
          latencies.push(performance.now() - started);
        }
      };
      await Promise.all(clients.map(worker));
    };
    if (options.warmUpS) await loop(options.warmUpS);
    latencies = [];
    const began = performance.now();
    await loop(options.durationS);
    const elapsedS = (performance.now() - began) / 1000;
    latencies.sort((a, b) => a - b);
    return {
      txPerSecond: Math.round(latencies.length / elapsedS),
      transactions: latencies.length,
      p50Ms: Number(percentile(latencies, 0.5).toFixed(2)),
      p99Ms: Number(percentile(latencies, 0.99).toFixed(2)),
    };
  } finally {
    await Promise.all(clients.map((c) => c.end().catch(() => undefined)));
  }
}
