import type { Db } from './db.js';
import { createPgDb } from './pg-adapter.js';
import { createPgliteDb } from './pglite-adapter.js';

export interface OpenDbOptions {
  databaseUrl: string | undefined;
  dataDir: string;
  poolSize: number;
  onIdleError?: (error: Error) => void;
}

/** PostgreSQL when a URL is given, the embedded engine otherwise. */
export async function openDb(options: OpenDbOptions): Promise<Db> {
  if (options.databaseUrl) {
    return createPgDb({
      connectionString: options.databaseUrl,
      poolSize: options.poolSize,
      ...(options.onIdleError ? { onIdleError: options.onIdleError } : {}),
    });
  }
  return createPgliteDb({ dataDir: options.dataDir });
}
