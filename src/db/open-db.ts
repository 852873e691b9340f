import type { Db } from './db.js';
import { startEmbeddedPostgres } from './embedded/server.js';
import { createPgDb } from './pg-adapter.js';

export interface OpenDbOptions {
  databaseUrl: string | undefined;
  dataDir: string;
  /** Also let the embedded server listen on 127.0.0.1 at this port (unix socket only otherwise). */
  embeddedPort?: number | undefined;
  poolSize: number;
  onIdleError?: (error: Error) => void;
  /** Embedded server progress (first start, a left-over server stopped). */
  log?: (message: string) => void;
}

/**
 * The PostgreSQL at `databaseUrl`, or else the embedded PostgreSQL server in `dataDir`, started
 * here and stopped by `close()`.
 */
export async function openDb(options: OpenDbOptions): Promise<Db> {
  const pool = { poolSize: options.poolSize, ...(options.onIdleError ? { onIdleError: options.onIdleError } : {}) };
  if (options.databaseUrl) return createPgDb({ connectionString: options.databaseUrl, ...pool });
  const server = await startEmbeddedPostgres({
    dataDir: options.dataDir,
    tcpPort: options.embeddedPort,
    ...(options.log ? { log: options.log } : {}),
  });
  const db = createPgDb({ connectionString: server.url, ...pool });
  return {
    ...db,
    async close() {
      try {
        await db.close();
      } finally {
        await server.stop();
      }
    },
  };
}
