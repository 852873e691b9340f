/**
 * The database ceiling: the bare seat-reservation transaction, straight against the same
 * PostgreSQL with as many connections as Rallypoint's pool. Each of `poolSize` workers loops
 * BEGIN; the conditional UPDATE of deployments.sockets_usage that placement runs
 * (src/db/queries/deployments.ts reserveSeatsAtPlace: fullest deployment with room, FOR UPDATE
 * SKIP LOCKED); INSERT of the session row; COMMIT. No HTTP, no JSON, no events.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export interface CeilingFigures { txPerSecond: number; p50Ms: number; p99Ms: number; transactions: number }

function percentile(sorted: readonly number[], q: number): number {
  return sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

export interface SeatTransactionOptions {
  databaseUrl: string;
  appName: string;
  poolSize: number;
  durationS: number;
  /**
   * Also insert this many rows into the event log, as a create does (created, linked, ready,
   * usage_changed): its commit-time trigger takes a global advisory lock and NOTIFYs, which
   * serialises commits. A diagnostic beside the ceiling, not the ceiling itself.
   */
  eventRows?: number;
}

export async function measureSeatTransaction(options: SeatTransactionOptions): Promise<CeilingFigures> {
  const pool = new pg.Pool({ connectionString: options.databaseUrl, max: options.poolSize });
  try {
    const { rows } = await pool.query<{ org_id: number; app_id: number; version_id: number }>(
      `SELECT a.org_id, a.id AS app_id, v.id AS version_id FROM apps a JOIN versions v ON v.app_id = a.id WHERE a.name = $1 AND v.name = 'v1'`,
      [options.appName],
    );
    const target = rows[0];
    if (!target) throw new Error(`no version v1 of ${options.appName}`);
    const latencies: number[] = [];
    const deadline = performance.now() + options.durationS * 1000;
    const worker = async () => {
      while (performance.now() < deadline) {
        const seats = 1 + Math.floor(Math.random() * 4);
        const started = performance.now();
        const client = await pool.connect();
        try {
          await client.query('BEGIN');
          const reserved = await client.query<{ id: number }>(
            `WITH pick AS (
               SELECT id FROM deployments
               WHERE version_id = $1 AND is_joinable AND status IN ('Status.READY', 'Status.DEPLOYING', 'Status.INITIALIZING')
                 AND (sockets - sockets_usage) >= $2
               ORDER BY (sockets - sockets_usage) ASC, id ASC LIMIT 1 FOR UPDATE SKIP LOCKED)
             UPDATE deployments d SET sockets_usage = d.sockets_usage + $2, emptied_at = NULL FROM pick WHERE d.id = pick.id RETURNING d.id`,
            [target.version_id, seats],
          );
          const deploymentId = reserved.rows[0]?.id ?? null;
          await client.query(
            `INSERT INTO sessions (session_id, org_id, app_id, version_id, kind, status, deployment_id, seats, users, user_count, created_at)
             VALUES ($1, $2, $3, $4, 'Seat', 'Ready', $5, $6, $7, $8, now())`,
            [`${randomBytes(6).toString('hex')}-S`, target.org_id, target.app_id, target.version_id, deploymentId,
              deploymentId === null ? 0 : seats, JSON.stringify(Array.from({ length: seats }, (_, i) => ({ ip: `203.0.113.${i + 1}` }))), seats],
          );
          for (let i = 0; i < (options.eventRows ?? 0); i++) {
            await client.query(
              `INSERT INTO events (org_id, type, session_id, request_id, data, created_at) VALUES ($1, 'session.created', 'bench-S', NULL, '{"seats":1}', now())`,
              [target.org_id],
            );
          }
          await client.query('COMMIT');
        } catch (error) {
          await client.query('ROLLBACK').catch(() => undefined);
          throw error;
        } finally {
          client.release();
        }
        latencies.push(performance.now() - started);
      }
    };
    const began = performance.now();
    await Promise.all(Array.from({ length: options.poolSize }, worker));
    const elapsedS = (performance.now() - began) / 1000;
    latencies.sort((a, b) => a - b);
    return {
      txPerSecond: Math.round(latencies.length / elapsedS), transactions: latencies.length,
      p50Ms: Number(percentile(latencies, 0.5).toFixed(2)), p99Ms: Number(percentile(latencies, 0.99).toFixed(2)),
    };
  } finally {
    await pool.end();
  }
}
