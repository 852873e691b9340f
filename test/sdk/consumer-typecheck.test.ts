import { describe, it } from '../support/node-test.js';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const root = fileURLToPath(new URL('../../../', import.meta.url));

describe('SDK seen from a consumer project', () => {
  it('type-checks sdk-consumer/ against the built declarations (@rallypoint/sdk)', async () => {
    // sdk-consumer/index.ts also holds @ts-expect-error lines, so types that decay to `any` fail this.
    const { stdout, stderr } = await promisify(execFile)('npx', ['tsc', '-p', 'sdk-consumer', '--listFiles'], {
      cwd: root,
    }).catch((error) => {
      assert.fail(`tsc -p sdk-consumer failed (exit ${error.code}):\n${error.stdout}${error.stderr}`);
    });
    assert.equal(stderr, '');
    assert.match(stdout, /packages\/sdk\/dist\/index\.d\.ts/, 'resolved through the package exports to the built d.ts');
    assert.doesNotMatch(
      stdout,
      /\/(src|dist\/src)\/(contract|http|app|db)\//,
      'the SDK types pull in no server modules',
    );
    assert.doesNotMatch(
      stdout,
      /node_modules\/(?!typescript\/|@rallypoint\/sdk\/)/,
      'the SDK types pull in no other package',
    );
  });

  for (const [what, dir, extension] of [
    ['sources', new URL('../../../packages/sdk/src/', import.meta.url), '.ts'],
    ['emitted JavaScript and declarations', new URL('../../../packages/sdk/dist/', import.meta.url), '.js'],
  ] as const) {
    it(`has ${what} that import only the SDK's own files (no server code, no packages)`, () => {
      const files = readdirSync(dir).filter((f) => f.endsWith(extension) || f.endsWith('.d.ts'));
      assert.ok(files.includes(`index${extension}`));
      for (const file of files) {
        const source = readFileSync(new URL(file, dir), 'utf8');
        const specifiers = [
          ...source.matchAll(
            /(?:^|\n)\s*(?:import|export)\b[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]/g,
          ),
        ].map((m) => m[1] ?? m[2]);
        for (const specifier of specifiers)
          assert.match(specifier ?? '', /^\.\/[\w-]+\.js$/, `${file} imports ${specifier}`);
      }
    });
  }
});
