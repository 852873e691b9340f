/**
 * What `npm pack` of the service ships: the command's bin file, the compiled service, migrations
 * and assets; no tests, no sources, and no SDK: that is its own package (packages/sdk,
 * @rallypoint/sdk), which the service depends on. The SDK's tarball is checked by
 * test/sdk/consumer-install.test.ts.
 */
import { describe, it } from '../support/node-test.js';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

describe('npm package contents', { timeout: 120_000 }, () => {
  it('ships bin/ and dist/src only, with the command and the migrations, and no tests', () => {
    const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
    const [pack] = JSON.parse(execFileSync(npm, ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: repoRoot, encoding: 'utf8' })) as Array<{ files: Array<{ path: string }> }>;
    const paths = pack!.files.map((file) => file.path);
    const stray = paths.filter((path) => !path.startsWith('dist/src/') && !['package.json', 'README.md', 'LICENSE', 'bin/rallypoint.js'].includes(path));
    assert.deepEqual(stray, []);
    for (const needed of ['bin/rallypoint.js', 'dist/src/cli/main.js', 'dist/src/main.js', 'dist/src/db/migrations/001-core.sql', 'dist/src/dashboard/index.html']) {
      assert.ok(paths.includes(needed), `${needed} is missing from the package`);
    }
    assert.deepEqual(paths.filter((path) => /(^|\/)(test|tests|__tests__)\/|\.test\.|(^|\/)packages\/|(^|\/)sdk\//.test(path)), [], 'no tests and no copy of the SDK');
  });

  it('depends on the SDK package at its version, and no longer exports an SDK entry of its own', () => {
    const manifest = (path: string) => JSON.parse(readFileSync(new URL(path, `file://${repoRoot}`), 'utf8')) as { version: string; exports?: unknown; dependencies?: Record<string, string> };
    const root = manifest('package.json');
    const sdk = manifest('packages/sdk/package.json');
    assert.equal(root.dependencies?.['@rallypoint/sdk'], sdk.version);
    assert.equal(root.exports, undefined, 'import the SDK as @rallypoint/sdk, not rallypoint/sdk');
    assert.equal(sdk.dependencies, undefined);
  });
});
