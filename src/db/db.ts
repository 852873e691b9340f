/**
 * The database port. Everything above db/ talks to PostgreSQL through this and nothing else:
 * an external server (DATABASE_URL) or the embedded one (db/embedded/), both through `pg`.
 *
 * Conventions the adapter guarantees:
 * - int8 (bigint, count(*)) comes back as a JS number, timestamptz as a Date, jsonb parsed,
 *   text[] as string[].
 * - `transaction` runs `fn` on one connection between BEGIN and COMMIT, rolling back when `fn`
 *   throws. Transactions are READ COMMITTED, PostgreSQL's default.
 */
export interface QueryResult<Row> {
  rows: Row[];
  rowCount: number;
}

export interface Queryable {
  query<Row = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<QueryResult<Row>>;
  /** Runs a script of several statements without parameters (migrations). */
  exec(sql: string): Promise<void>;
}

/** A transaction's connection. */
export interface Tx extends Queryable {
  /**
   * Runs `step` once the transaction's body has returned, just before COMMIT, in the order steps
   * were added (a step may add more). Writers that gather rows during a change (the event log)
   * write them here in one statement: every statement is a round trip, and round trips are what
   * a change costs (README, "Benchmarks").
   */
  beforeCommit(step: () => Promise<void>): void;
  /**
   * Runs `step` once COMMIT has succeeded (never if the transaction rolls back; a rerun of the
   * body adds it again). For in-process signals only, such as waking the event sequencer: a
   * step must not throw or query.
   */
  afterCommit(step: () => void): void;
}

/**
 * The body of a transaction on `connection`, followed by its before-commit steps. The caller
 * commits, then runs the steps gathered in `afterCommit`.
 */
export async function runTransactionBody<T>(
  connection: Queryable,
  fn: (tx: Tx) => Promise<T>,
  afterCommit: Array<() => void> = [],
): Promise<T> {
  const steps: Array<() => Promise<void>> = [];
  const tx: Tx = {
    query: (sql, params) => connection.query(sql, params),
    exec: (sql) => connection.exec(sql),
    beforeCommit: (step) => void steps.push(step),
    afterCommit: (step) => void afterCommit.push(step),
  };
  const result = await fn(tx);
  for (let i = 0; i < steps.length; i += 1) await steps[i]!();
  return result;
}

export interface Db extends Queryable {
  transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T>;
  /** Connections in use and in total, for readiness and metrics. */
  poolStats(): { total: number; idle: number; waiting: number };
  /**
   * Subscribes to `NOTIFY channel` (delivered after the notifying transaction commits, in commit
   * order). Resolves with an unsubscribe function. Optional so test doubles need not implement it.
   * @example const stop = await db.listen?.('rallypoint_events', (payload) => console.log(payload));
   */
  listen?(channel: string, onPayload: (payload: string) => void, options?: ListenOptions): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

export interface ListenOptions {
  /**
   * Called after a dropped listening connection is back; notifications sent while it was down
   * are lost, so the caller catches up from its own log.
   */
  onReconnect?: () => void;
  /** Called with each failure to (re)connect the listening connection. */
  onError?: (error: Error) => void;
}

/** Thrown by adapters when the database cannot be reached; the HTTP layer answers 503. */
export class DatabaseUnavailableError extends Error {
  constructor(cause: unknown) {
    super('database unavailable', { cause });
    this.name = 'DatabaseUnavailableError';
  }
}

/** SQLSTATE codes we react to. */
export const PgCode = {
  uniqueViolation: '23505',
  checkViolation: '23514',
  foreignKeyViolation: '23503',
  serializationFailure: '40001',
  deadlockDetected: '40P01',
} as const;

export function pgErrorCode(error: unknown): string | undefined {
  if (typeof error === 'object' && error !== null && 'code' in error) {
    const code = (error as { code: unknown }).code;
    return typeof code === 'string' ? code : undefined;
  }
  return undefined;
}
