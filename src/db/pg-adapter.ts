import pg from 'pg';
import {
  DatabaseUnavailableError,
  PgCode,
  pgErrorCode,
  runTransactionBody,
  type Db,
  type Queryable,
  type QueryResult,
  type Tx,
} from './db.js';
import { listenWithClient } from './pg-listener.js';

const INT8_OID = 20;
const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === INT8_OID) return (value: string) => Number(value);
    return pg.types.getTypeParser(oid, format as 'text');
  },
};

const CONNECTION_ERRNO = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH']);

/** Outages (server gone, connection lost, server shutting down) as opposed to bad SQL or data. */
function isOutage(error: unknown): boolean {
  // Any failure to connect, whatever its errno: a unix socket of a stopped server is ENOENT.
  if ((error as { syscall?: unknown } | null)?.syscall === 'connect') return true;
  const code = pgErrorCode(error);
  if (code === undefined) {
    const message = error instanceof Error ? error.message : '';
    return /Connection terminated|connect ECONNREFUSED|timeout exceeded when trying to connect|is not queryable/i.test(
      message,
    );
  }
  return (
    CONNECTION_ERRNO.has(code) || code.startsWith('08') || code === '57P01' || code === '57P02' || code === '57P03'
  );
}

function translate(error: unknown): never {
  throw isOutage(error) ? new DatabaseUnavailableError(error) : error;
}

/** Most distinct statements a connection keeps prepared; beyond it, statements run unnamed. */
const MAX_PREPARED = 500;
const statementNames = new Map<string, string>();

/**
 * A name for a parameterised statement, so each connection parses and plans it once instead of
 * on every call (the placement statement costs more to plan than to run). Our SQL comes in a
 * bounded number of shapes; the cap guards the connections' memory should that ever change.
 */
function statementName(sql: string): string | undefined {
  let name = statementNames.get(sql);
  if (name === undefined && statementNames.size < MAX_PREPARED) {
    name = `rp${statementNames.size}`;
    statementNames.set(sql, name);
  }
  return name;
}

async function run<Row>(
  client: pg.Pool | pg.PoolClient,
  sql: string,
  params?: readonly unknown[],
): Promise<QueryResult<Row>> {
  try {
    // Only parameterised statements: a script of several statements cannot be prepared.
    const name = params !== undefined ? statementName(sql) : undefined;
    const result = await (name !== undefined
      ? client.query({ text: sql, values: params as unknown[], name })
      : client.query(sql, params as unknown[] | undefined));
    return { rows: result.rows as Row[], rowCount: result.rowCount ?? 0 };
  } catch (error) {
    translate(error);
  }
}

/** A transaction PostgreSQL aborted only because of another one; running it again is safe. */
const CONFLICT_CODES = new Set<string>([PgCode.deadlockDetected, PgCode.serializationFailure]);
const CONFLICT_ATTEMPTS = 5;

/**
 * Runs a whole transaction again when PostgreSQL aborts it for a deadlock or a serialization
 * failure. Placement can deadlock without any bug: a `FOR UPDATE` whose re-check fails after a
 * wait keeps the row lock and moves on to the next row, so two sessions placed at once can each
 * hold a row the other waits for (seen with two server processes, 64 clients). Everything `fn`
 * did was rolled back, so the retry starts clean; the random pause keeps the pair from colliding
 * again in step.
 */
async function retryingConflicts<T>(attempt: () => Promise<T>): Promise<T> {
  for (let n = 1; ; n += 1) {
    try {
      return await attempt();
    } catch (error) {
      const code = pgErrorCode(error);
      if (n >= CONFLICT_ATTEMPTS || code === undefined || !CONFLICT_CODES.has(code)) throw error;
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 20 * n));
    }
  }
}

export interface PgDbOptions {
  connectionString: string;
  poolSize: number;
  /** Called for errors on idle connections, which would otherwise crash the process. */
  onIdleError?: (error: Error) => void;
}

export function createPgDb(options: PgDbOptions): Db {
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.poolSize,
    types,
    connectionTimeoutMillis: 5_000,
    idleTimeoutMillis: 30_000,
  });
  pool.on('error', (error) => options.onIdleError?.(error));

  async function transactionOnce<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    let client: pg.PoolClient;
    try {
      client = await pool.connect();
    } catch (error) {
      translate(error);
    }
    const tx: Queryable = {
      query: (sql, params) => run(client, sql, params),
      exec: async (sql) => void (await run(client, sql)),
    };
    let broken = false;
    // The pool listens for errors only on idle clients. A connection that drops while checked
    // out emits 'error' too, which would crash the process with no listener: note it, and let
    // the failing query report the outage.
    const onConnectionError = () => {
      broken = true;
    };
    client.on('error', onConnectionError);
    try {
      await tx.query('BEGIN');
      const committed: Array<() => void> = [];
      const result = await runTransactionBody(tx, fn, committed);
      await tx.query('COMMIT');
      for (const step of committed) {
        try {
          step();
        } catch {
          /* a signal only: the transaction is committed whatever it does */
        }
      }
      return result;
    } catch (error) {
      try {
        await client.query('ROLLBACK');
      } catch {
        broken = true; // the connection is unusable; drop it instead of returning it to the pool
      }
      throw error;
    } finally {
      client.off('error', onConnectionError);
      client.release(broken);
    }
  }

  return {
    query: (sql, params) => run(pool, sql, params),
    exec: async (sql) => void (await run(pool, sql)),
    transaction: (fn) => retryingConflicts(() => transactionOnce(fn)),
    poolStats: () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount }),
    listen: (channel, onPayload, listenOptions) =>
      listenWithClient(options.connectionString, channel, onPayload, listenOptions),
    close: () => pool.end(),
  };
}
