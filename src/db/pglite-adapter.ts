import { mkdirSync } from 'node:fs';
import { PGlite, types as pgliteTypes } from '@electric-sql/pglite';
import { runTransactionBody, type Db, type Queryable, type QueryResult } from './db.js';

/**
 * The embedded engine. Traps worth knowing:
 * - PGlite is one connection: `transaction` holds it exclusively, and other queries queue behind
 *   it. Row locks (FOR UPDATE, SKIP LOCKED) therefore never contend, but stay correct.
 * - A directory can be opened by one process only; several server processes need PostgreSQL.
 * - LISTEN/NOTIFY works inside the one process only.
 * - `affectedRows` is 0 for a SELECT, unlike pg's `rowCount`; `wrap` restores pg's meaning, which
 *   migrate() and the bootstrap rely on to recognise an existing database on restart.
 */
export interface PgliteDbOptions {
  /** A directory path, or `memory://` for a database that lives as long as the process. */
  dataDir: string;
}

function wrap(target: Pick<PGlite, 'query' | 'exec'>): Queryable {
  return {
    async exec(sql: string): Promise<void> {
      await target.exec(sql);
    },
    async query<Row>(sql: string, params?: readonly unknown[]): Promise<QueryResult<Row>> {
      const result = await target.query<Row>(sql, params as unknown[] | undefined);
      // PGlite reports affectedRows = 0 for a SELECT; pg's rowCount is the rows returned. Statements
      // that return rows (SELECT, ... RETURNING) count them, the others count what they changed.
      return { rows: result.rows, rowCount: result.fields.length > 0 ? result.rows.length : (result.affectedRows ?? 0) };
    },
  };
}

export async function createPgliteDb(options: PgliteDbOptions): Promise<Db> {
  // PGlite creates only the last directory of the path; the default ./data/rallypoint would fail
  // on a fresh checkout with ENOENT. URL-style dirs (memory://, idb://) are not paths.
  if (!options.dataDir.includes('://')) mkdirSync(options.dataDir, { recursive: true });
  const pglite = new PGlite(options.dataDir, {
    parsers: { [pgliteTypes.INT8]: (value: string) => Number(value) },
  });
  await pglite.waitReady;
  const direct = wrap(pglite);
  let active = 0;
  return {
    engine: 'pglite',
    query: direct.query,
    exec: direct.exec,
    async transaction(fn) {
      active += 1;
      try {
        return await pglite.transaction((tx) => runTransactionBody(wrap(tx), fn));
      } finally {
        active -= 1;
      }
    },
    poolStats: () => ({ total: 1, idle: active === 0 ? 1 : 0, waiting: Math.max(0, active - 1) }),
    // In-process only (see above); the one connection never drops, so no reconnect.
    listen: async (channel, onPayload) => {
      const unlisten = await pglite.listen(channel, onPayload);
      return () => unlisten();
    },
    close: () => pglite.close(),
  };
}
