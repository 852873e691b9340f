/**
 * What is in RALLYPOINT_DATA_DIR, and the lock that gives it to one Rallypoint process at a time.
 *
 * Layout of a data directory Rallypoint created:
 *   rallypoint-embedded.json   marker: format and the server's password (mode 0600)
 *   rallypoint.lock            PID of the Rallypoint process that owns the directory now
 *   pgdata/                    the PostgreSQL cluster; its socket and server.log live in it too
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isAlive } from '../../process-liveness.js';
import { EmbeddedPostgresError } from './binaries.js';

export const MARKER_FILE = 'rallypoint-embedded.json';
const LOCK_FILE = 'rallypoint.lock';
const MARKER_FORMAT = 'rallypoint-embedded-postgres';

export interface Marker {
  format: typeof MARKER_FORMAT;
  /** Password of the `postgres` role, for connections over TCP (the socket trusts its owner). */
  password: string;
}

export type DataDirState = 'fresh' | 'ours' | 'pglite' | 'foreign';

/** Empty (or missing), created by us, the PGlite database of earlier versions, or something else. */
export function inspectDataDir(dir: string): DataDirState {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return 'fresh';
    const why = code === 'ENOTDIR' ? 'it is a file, not a directory' : (error as Error).message;
    throw new EmbeddedPostgresError(
      `the data directory ${dir} is not usable: ${why}; set RALLYPOINT_DATA_DIR to an empty or Rallypoint data directory`,
    );
  }
  if (entries.includes(MARKER_FILE)) return 'ours';
  // A run that died between taking the lock and writing the marker leaves only the lock.
  if (entries.every((name) => name === LOCK_FILE)) return 'fresh';
  // The earlier default engine (PGlite) wrote a PostgreSQL cluster straight into the directory.
  if (entries.includes('PG_VERSION')) return 'pglite';
  return 'foreign';
}

export function readMarker(dir: string): Marker {
  try {
    const marker = JSON.parse(readFileSync(join(dir, MARKER_FILE), 'utf8')) as Partial<Marker>;
    if (marker.format === MARKER_FORMAT && typeof marker.password === 'string') return marker as Marker;
  } catch {
    /* reported below */
  }
  throw new EmbeddedPostgresError(
    `${join(dir, MARKER_FILE)} is damaged; restore it from a backup or move the directory away`,
  );
}

export function writeMarker(dir: string): Marker {
  const marker: Marker = { format: MARKER_FORMAT, password: randomBytes(18).toString('base64url') };
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, MARKER_FILE), `${JSON.stringify(marker, null, 2)}\n`, { mode: 0o600 });
  return marker;
}

function readPid(path: string): number | undefined {
  try {
    const pid = Number(readFileSync(path, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function inUse(dir: string, pid: number): EmbeddedPostgresError {
  return new EmbeddedPostgresError(
    `RALLYPOINT_DATA_DIR ${dir} is in use by Rallypoint process ${pid}; give this process its own directory, or share that process's database with DATABASE_URL (see README, "Embedded PostgreSQL")`,
  );
}

/**
 * Takes the directory for this process; returns the release function. A lock whose process is
 * gone (a SIGKILLed or crashed run) is taken over. Two processes taking over the same stale lock
 * at once both rename it aside, which only one can do; the loser sees the winner's PID in what it
 * moved and backs off.
 */
export function lockDataDir(dir: string): () => void {
  const path = join(dir, LOCK_FILE);
  for (let attempt = 0; attempt < 3; attempt += 1) {
    try {
      writeFileSync(path, `${process.pid}\n`, { flag: 'wx' });
      return () => {
        if (readPid(path) === process.pid) unlinkSync(path);
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const owner = readPid(path);
    if (owner !== undefined && owner !== process.pid && isAlive(owner)) throw inUse(dir, owner);
    const aside = `${path}.${process.pid}.stale`;
    try {
      renameSync(path, aside);
    } catch {
      continue; // another process moved it first; try again
    }
    const moved = readPid(aside);
    unlinkSync(aside);
    if (moved !== owner && moved !== undefined && isAlive(moved)) {
      if (!existsSync(path)) writeFileSync(path, `${moved}\n`, { flag: 'wx' });
      throw inUse(dir, moved);
    }
  }
  throw new EmbeddedPostgresError(
    `could not lock RALLYPOINT_DATA_DIR ${dir}; another process keeps changing ${LOCK_FILE}`,
  );
}
