/**
 * What `npm pack` of the service ships: the command's bin file, the compiled service, migrations
 * and assets; no tests, no sources. The SDK is its own package (packages/sdk, @rallypoint/sdk)
 * that the service depends on; no registry has it, so the service's tarball bundles the SDK's
 * packed files (bundleDependencies) and installs without it. The SDK's own tarball is checked by
 * test/sdk/consumer-install.test.ts.
 */
import { describe, it } from '../support/node-test.js';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

describe('npm package contents', { timeout: 120_000 }, () => {
  it('ships bin/, dist/src and the bundled SDK only, with the command and the migrations, and no tests', () => {
    const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
    const [pack] = JSON.parse(
      execFileSync(npm, ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: repoRoot, encoding: 'utf8' }),
    ) as Array<{ files: Array<{ path: string }> }>;
    const paths = pack!.files.map((file) => file.path);
    const bundledSdk = /^node_modules\/@rallypoint\/sdk\/(package\.json|README\.md|dist\/[\w-]+\.(js|d\.ts))$/;
    const stray = paths.filter(
      (path) =>
        !path.startsWith('dist/src/') &&
        !bundledSdk.test(path) &&
        !['package.json', 'README.md', 'LICENSE', 'bin/rallypoint.js'].includes(path),
    );
    assert.deepEqual(stray, []);
    for (const needed of [
      'bin/rallypoint.js',
      'dist/src/cli/main.js',
      'dist/src/main.js',
      'dist/src/db/migrations/001-core.sql',
      'dist/src/dashboard/index.html',
      'node_modules/@rallypoint/sdk/dist/index.js',
    ]) {
      assert.ok(paths.includes(needed), `${needed} is missing from the package`);
    }
    assert.deepEqual(
      paths.filter((path) => /(^|\/)(test|tests|__tests__|src\/sdk|packages)\/|\.test\./.test(path)),
      [],
      'no tests, and the SDK only as its package',
    );
  });

  it('depends on the SDK package at its version, bundled, and no longer exports an SDK entry of its own', () => {
    type Manifest = {
      version: string;
      exports?: unknown;
      dependencies?: Record<string, string>;
      bundleDependencies?: string[];
    };
    const manifest = (path: string) =>
      JSON.parse(readFileSync(new URL(path, `file://${repoRoot}`), 'utf8')) as Manifest;
    const root = manifest('package.json');
    const sdk = manifest('packages/sdk/package.json');
    assert.equal(root.dependencies?.['@rallypoint/sdk'], sdk.version);
    assert.deepEqual(root.bundleDependencies, ['@rallypoint/sdk']);
    assert.equal(root.exports, undefined, 'import the SDK as @rallypoint/sdk, not rallypoint/sdk');
    assert.equal(sdk.dependencies, undefined);
  });
});
