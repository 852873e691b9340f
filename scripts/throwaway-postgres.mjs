// Starts a throwaway PostgreSQL cluster from the machine's PostgreSQL binaries (initdb, pg_ctl),
// owned by the `postgres` user when we run as root (initdb refuses root). Fast and unsafe settings:
// this cluster only ever holds test or benchmark data.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, chmodSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

function findBin(name) {
  for (const dir of ['/usr/lib/postgresql']) {
    if (!existsSync(dir)) continue;
    const versions = readdirSync(dir).sort((a, b) => Number(b) - Number(a));
    for (const v of versions) if (existsSync(join(dir, v, 'bin', name))) return join(dir, v, 'bin', name);
  }
  try { return execFileSync('which', [name]).toString().trim() || undefined; } catch { return undefined; }
}

async function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => { const { port } = server.address(); server.close(() => resolve(port)); });
    server.on('error', reject);
  });
}

export async function startThrowawayPostgres({ durable = false } = {}) {
  const initdb = findBin('initdb');
  const pgCtl = findBin('pg_ctl');
  if (!initdb || !pgCtl) throw new Error('PostgreSQL binaries not found: install the Debian "postgresql" package or set TEST_DATABASE_URL');
  const asRoot = process.getuid?.() === 0;
  const dir = mkdtempSync(join(tmpdir(), 'rallypoint-pg-'));
  chmodSync(dir, 0o777);
  const data = join(dir, 'data');
  const run = (bin, args) => asRoot
    ? execFileSync('runuser', ['-u', 'postgres', '--', bin, ...args], { stdio: 'pipe' })
    : execFileSync(bin, args, { stdio: 'pipe' });
  run(initdb, ['-D', data, '--auth=trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8']);
  const port = await freePort();
  const settings = [
    `-p ${port}`, `-k ${dir}`, "-c listen_addresses=127.0.0.1", '-c max_connections=400', '-c shared_buffers=256MB',
    ...(durable ? [] : ['-c fsync=off', '-c synchronous_commit=off', '-c full_page_writes=off']),
    // For profiling, e.g. THROWAWAY_PG_SETTINGS='-c shared_preload_libraries=pg_stat_statements'.
    ...(process.env.THROWAWAY_PG_SETTINGS ? [process.env.THROWAWAY_PG_SETTINGS] : []),
  ].join(' ');
  run(pgCtl, ['-D', data, '-l', join(dir, 'log'), '-o', settings, '-w', '-t', '60', 'start']);
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  return {
    url, port, dir, data,
    /** Stops the server (fast mode), for outage tests; `start` brings it back on the same port. */
    pause: () => run(pgCtl, ['-D', data, '-m', 'fast', '-w', 'stop']),
    resume: () => run(pgCtl, ['-D', data, '-l', join(dir, 'log'), '-o', settings, '-w', '-t', '60', 'start']),
    stop() {
      try { run(pgCtl, ['-D', data, '-m', 'immediate', '-w', 'stop']); } catch { /* already stopped */ }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
