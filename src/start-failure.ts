/**
 * Start-up failures as one sentence an operator can act on, instead of a stack trace or
 * `[object Object]`: which step failed, on what (address, database host, directory), and why.
 */
import { inspect } from 'node:util';
import type { Db } from './db/db.js';
import { EmbeddedPostgresError } from './db/embedded/server.js';
import { openDb, type OpenDbOptions } from './db/open-db.js';

/** A failure whose message is already the sentence to print (bad settings, a refused migration). */
export class StartFailure extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = 'StartFailure';
  }
}

/** The innermost useful reason: the cause chain, the first of an AggregateError, a code. */
export function describeCause(error: unknown): string {
  let current: unknown = error;
  for (let depth = 0; depth < 5; depth++) {
    if (current instanceof AggregateError && current.errors.length > 0) {
      current = current.errors[0];
    } else if (
      current instanceof Error &&
      current.cause !== undefined &&
      (current.message === '' || current.name === 'DatabaseUnavailableError')
    ) {
      current = current.cause;
    } else {
      break;
    }
  }
  if (current instanceof Error) {
    const code = (current as { code?: unknown }).code;
    const message = current.message || current.name;
    return typeof code === 'string' && !message.includes(code) ? `${message} (${code})` : message;
  }
  if (typeof current === 'string') return current;
  // Some engines throw plain objects (an exit status) rather than Errors.
  const message = (current as { message?: unknown } | null)?.message;
  if (typeof message === 'string' && message !== '') return message;
  return inspect(current, { depth: 2, breakLength: Infinity });
}

/** `host:port/database` of a connection string, never its user or password. */
export function describeDatabaseUrl(databaseUrl: string): string {
  try {
    const url = new URL(databaseUrl);
    return `${url.hostname || 'localhost'}:${url.port || '5432'}${url.pathname || '/'}`;
  } catch {
    return 'the DATABASE_URL (not a valid URL)';
  }
}

export function databaseFailure(
  options: { databaseUrl: string | undefined; dataDir: string },
  error: unknown,
): StartFailure {
  // The embedded server's refusals already name the directory and what to do.
  if (error instanceof EmbeddedPostgresError) return new StartFailure(error.message);
  if (options.databaseUrl !== undefined) {
    return new StartFailure(
      `cannot use the PostgreSQL database at ${describeDatabaseUrl(options.databaseUrl)}: ${describeCause(error)}. ` +
        'Check DATABASE_URL and that the server is running and reachable.',
    );
  }
  return new StartFailure(
    `the data directory ${options.dataDir} is not usable for the embedded database: ${describeCause(error)}. ` +
      'Set RALLYPOINT_DATA_DIR to an empty or existing Rallypoint data directory this user can write.',
  );
}

/** openDb() and a first query; on failure the database is closed again and the reason is one sentence. */
export async function openCheckedDb(options: OpenDbOptions): Promise<Db> {
  let db: Db | undefined;
  try {
    db = await openDb(options);
    await db.query('SELECT 1');
    return db;
  } catch (error) {
    await db?.close().catch(() => undefined);
    throw databaseFailure(options, error);
  }
}

export function listenFailure(address: { host: string; port: number }, error: unknown): StartFailure {
  const code = (error as { code?: unknown } | null)?.code;
  const where = `${address.host}:${address.port}`;
  if (code === 'EADDRINUSE')
    return new StartFailure(
      `cannot listen on ${where}: another program already uses that port. Stop it or set PORT (or HOST) to a free one.`,
    );
  if (code === 'EACCES')
    return new StartFailure(
      `cannot listen on ${where}: permission denied (ports below 1024 need privileges). Set PORT to 1024 or above.`,
    );
  if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND')
    return new StartFailure(`cannot listen on ${where}: this machine has no such address. Check HOST.`);
  return new StartFailure(`cannot listen on ${where}: ${describeCause(error)}.`);
}
