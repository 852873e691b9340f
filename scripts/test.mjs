// The whole suite: every test file on the embedded engine (PGlite), then on PostgreSQL.
// PostgreSQL is TEST_DATABASE_URL when set, else a throwaway cluster started here once.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { startThrowawayPostgres } from './throwaway-postgres.mjs';

/** Compiled test files; support modules under test/ are not tests. */
function testFiles(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return testFiles(path);
    return entry.name.endsWith('.test.js') ? [path] : [];
  }).sort();
}

const files = process.argv.slice(2);
const targets = files.length > 0 ? files : testFiles('dist/test');
let cluster;
let databaseUrl = process.env.TEST_DATABASE_URL;
if (!databaseUrl) {
  cluster = await startThrowawayPostgres();
  databaseUrl = cluster.url;
  console.log(`test: throwaway PostgreSQL at ${databaseUrl}`);
}
const engines = (process.env.TEST_ENGINES ?? 'pglite,postgres').split(',');
let passed = 0;
let failed = 0;
let skipped = 0;
try {
  for (const engine of engines) {
    console.log(`\n=== engine: ${engine} ===`);
    const result = spawnSync(process.execPath, ['--test', '--test-concurrency=1', '--test-reporter=spec', ...targets], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, TEST_ENGINE: engine, TEST_DATABASE_URL: databaseUrl },
      maxBuffer: 512 * 1024 * 1024,
    });
    const out = result.stdout.toString();
    process.stdout.write(out);
    const count = (name) => Number(out.match(new RegExp(`^ℹ ${name} (\\d+)$`, 'm'))?.[1] ?? 0);
    passed += count('pass');
    failed += count('fail') + (result.status !== 0 && count('fail') === 0 ? 1 : 0);
    skipped += count('skipped');
  }
} finally {
  cluster?.stop();
}
console.log(`\n${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed > 0 ? 1 : 0);
