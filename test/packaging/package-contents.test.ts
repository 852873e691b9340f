/** What `npm pack` ships: the command's bin file, the compiled service, its SDK types, migrations and assets; no tests, no sources. */
import { describe, it } from '../support/node-test.js';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

describe('npm package contents', { timeout: 120_000 }, () => {
  it('ships bin/ and dist/src only, with the command, the SDK types and the migrations', () => {
    const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
    const [pack] = JSON.parse(execFileSync(npm, ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: repoRoot, encoding: 'utf8' })) as Array<{ files: Array<{ path: string }> }>;
    const paths = pack!.files.map((file) => file.path);
    const stray = paths.filter((path) => !path.startsWith('dist/src/') && !['package.json', 'README.md', 'LICENSE', 'bin/rallypoint.js'].includes(path));
    assert.deepEqual(stray, []);
    for (const needed of ['bin/rallypoint.js', 'dist/src/cli/main.js', 'dist/src/main.js', 'dist/src/sdk/index.js', 'dist/src/sdk/index.d.ts', 'dist/src/db/migrations/001-core.sql', 'dist/src/dashboard/index.html']) {
      assert.ok(paths.includes(needed), `${needed} is missing from the package`);
    }
  });
});
