/**
 * The SDK as a matchmaker installs it: `npm pack` of packages/sdk, installed from the tarball into a
 * copy of sdk-consumer/ with nothing else, compiled, and run against a real server. The install
 * runs offline with an empty npm cache: a package with no dependencies needs no registry.
 */
import { after, before, describe, it } from '../support/node-test.js';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cp, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { startTestService, type TestService } from '../support/harness.js';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const sdkDir = join(repoRoot, 'packages', 'sdk');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

async function exec(
  file: string,
  args: string[],
  options: { cwd: string; env?: Record<string, string> },
): Promise<string> {
  const env = {
    ...process.env,
    npm_config_update_notifier: 'false',
    npm_config_fund: 'false',
    npm_config_audit: 'false',
    ...options.env,
  };
  try {
    return (await promisify(execFile)(file, args, { cwd: options.cwd, env, timeout: 120_000 })).stdout;
  } catch (error) {
    const failed = error as { code?: unknown; stdout?: string; stderr?: string };
    assert.fail(
      `${file} ${args.join(' ')} failed (exit ${String(failed.code)}):\n${failed.stdout ?? ''}${failed.stderr ?? ''}`,
    );
  }
}

/** Every file under `dir`, relative to it, with `/` separators. */
async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => !entry.isDirectory())
    .map((entry) =>
      join(entry.parentPath, entry.name)
        .slice(dir.length + 1)
        .split('\\')
        .join('/'),
    )
    .sort();
}

describe('the packed SDK installed into a matchmaker project', { timeout: 240_000 }, () => {
  let t: TestService;
  let work: string;
  let project: string;
  let packed: { filename: string; files: Array<{ path: string }> };
  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'rp-sdk-consumer-'));
    // --ignore-scripts: pack what `npm run build` built (prepack would rebuild it, the same output).
    [packed] = JSON.parse(
      await exec(npm, ['pack', '--json', '--ignore-scripts', '--pack-destination', work], { cwd: sdkDir }),
    ) as [typeof packed];
    project = join(work, 'sdk-consumer');
    await cp(join(repoRoot, 'sdk-consumer'), project, {
      recursive: true,
      filter: (source) => !/[\\/](node_modules|out)$/.test(source),
    });
    await exec(npm, ['install', '--offline', '--no-audit', '--no-fund', join(work, packed.filename)], {
      cwd: project,
      env: { npm_config_cache: join(work, 'npm-cache') },
    });
    // The project's own tsconfig, with output: the compiler is the repository's (the project installs nothing but the SDK).
    await exec(
      process.execPath,
      [
        join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc'),
        '-p',
        project,
        '--noEmit',
        'false',
        '--outDir',
        join(project, 'out'),
      ],
      { cwd: project },
    );
    t = await startTestService();
  });
  after(async () => {
    await t?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('packs the built JavaScript, its declarations and the README: no sources, no tests, no build info', () => {
    const paths = packed.files.map((file) => file.path).sort();
    const stray = paths.filter(
      (path) => !['package.json', 'README.md'].includes(path) && !/^dist\/[\w-]+\.(js|d\.ts)$/.test(path),
    );
    assert.deepEqual(stray, []);
    for (const needed of ['README.md', 'dist/index.js', 'dist/index.d.ts', 'dist/types.d.ts', 'dist/backoff.js'])
      assert.ok(paths.includes(needed), `${needed} is missing from the tarball`);
  });

  it('installs with zero dependencies: node_modules holds the SDK and nothing else', async () => {
    const manifest = JSON.parse(await readFile(join(project, 'package.json'), 'utf8')) as {
      dependencies?: Record<string, string>;
    };
    assert.deepEqual(Object.keys(manifest.dependencies ?? {}), ['@rallypoint/sdk']);
    const installed = (await listFiles(join(project, 'node_modules'))).filter((path) => path !== '.package-lock.json');
    assert.deepEqual(
      installed.filter((path) => !path.startsWith('@rallypoint/sdk/')),
      [],
    );
    const sdkManifest = JSON.parse(
      await readFile(join(project, 'node_modules', '@rallypoint', 'sdk', 'package.json'), 'utf8'),
    ) as Record<string, unknown>;
    for (const field of ['dependencies', 'peerDependencies', 'optionalDependencies'])
      assert.equal(sdkManifest[field], undefined, `the SDK declares ${field}`);
    assert.deepEqual(
      installed.filter((path) => path.startsWith('@rallypoint/sdk/src/') || /\.test\./.test(path)),
      [],
    );
  });

  it('compiled against the installed declarations, matches two players on a real server', async () => {
    const stdout = await exec(process.execPath, ['run.mjs'], {
      cwd: project,
      env: { RALLYPOINT_URL: t.url, RALLYPOINT_API_KEY: t.key },
    });
    const result = JSON.parse(stdout) as { matched: string; unauthenticated: string };
    assert.equal(result.matched, '203.0.113.10:7777 203.0.113.7,198.51.100.4');
    assert.match(result.unauthenticated, /^401 /);
  });
});
