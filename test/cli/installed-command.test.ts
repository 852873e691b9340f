/**
 * The command as users install it: npm links `node_modules/.bin/rallypoint` (and a global
 * install links a directory on PATH) to the package's bin file. Through such a symlink the CLI
 * must run, not silently exit 0.
 */
import { before, describe, it } from '../support/node-test.js';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmod, copyFile, mkdir, mkdtemp, readFile, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const packageRoot = fileURLToPath(new URL('../../../', import.meta.url));
/** The bin file package.json names, relative to the package: the file npm links. */
const binFile = async (): Promise<string> =>
  (JSON.parse(await readFile(join(packageRoot, 'package.json'), 'utf8')) as { bin: { rallypoint: string } }).bin
    .rallypoint;

interface Exit {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(file: string, args: string[], options: { cwd: string; env?: Record<string, string> }): Promise<Exit> {
  return new Promise((resolve) => {
    const env = {
      PATH: process.env['PATH'] ?? '',
      HOME: process.env['HOME'] ?? options.cwd,
      npm_config_offline: 'true',
      npm_config_update_notifier: 'false',
      ...options.env,
    };
    execFile(file, args, { cwd: options.cwd, env, timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout, stderr });
    });
  });
}

describe('the installed rallypoint command', { timeout: 180_000 }, () => {
  let project: string;
  let globalBin: string;
  before(async () => {
    project = await mkdtemp(join(tmpdir(), 'rp-installed-'));
    await writeFile(
      join(project, 'package.json'),
      JSON.stringify({ name: 'uses-rallypoint', private: true, dependencies: { rallypoint: '*' } }),
    );
    // The layout npm makes for a dependency: the package under node_modules, its bin linked in .bin.
    await mkdir(join(project, 'node_modules', '.bin'), { recursive: true });
    await symlink(packageRoot, join(project, 'node_modules', 'rallypoint'), 'dir');
    const bin = await binFile();
    await symlink(`../rallypoint/${bin}`, join(project, 'node_modules', '.bin', 'rallypoint'));
    // A global install: a link in a directory on PATH.
    globalBin = join(project, 'global-bin');
    await mkdir(globalBin);
    await symlink(join(project, 'node_modules', 'rallypoint', bin), join(globalBin, 'rallypoint'));
  });

  it('npx rallypoint --help prints the commands', async () => {
    const result = await run('npx', ['--no-install', 'rallypoint', '--help'], { cwd: project });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^ {2}rallypoint session create/m);
    for (const command of ['admin org create <name>', 'migrate up', 'backup <file>', 'restore <file>']) {
      assert.match(result.stdout, new RegExp(`^ {2}rallypoint ${command} `, 'm'));
    }
  });

  it('node_modules/.bin/rallypoint runs a command and fails loudly when it cannot', async () => {
    const result = await run(join(project, 'node_modules', '.bin', 'rallypoint'), ['session', 'list'], {
      cwd: project,
    });
    assert.equal(result.code, 2, 'a missing key is a usage error, not a silent success');
    assert.equal(
      result.stderr,
      "error: no API key: pass --key or set RALLYPOINT_API_KEY; run 'rallypoint session list --help'\n",
    );
  });

  it('a globally linked rallypoint on PATH runs', async () => {
    const result = await run('rallypoint', ['serve', '--help'], {
      cwd: project,
      env: { PATH: `${globalBin}:${process.env['PATH'] ?? ''}` },
    });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^Usage: rallypoint serve/m);
    assert.match(result.stdout, /DATABASE_URL/);
    assert.doesNotMatch(result.stdout, /--url|--key|--json/, 'serve reads none of the client options');
  });

  it('npx rallypoint in a clone works once built, even when first run before the build', async () => {
    // A clone not built yet: npx installs the project into its cache as a link and keeps that link,
    // so the bin file it links must exist before the build (a fresh npm cache: no earlier link).
    const clone = await mkdtemp(join(tmpdir(), 'rp-clone-'));
    await writeFile(join(clone, 'package.json'), await readFile(join(packageRoot, 'package.json')));
    // Copied, not linked: the bin file finds dist/ beside its own real path.
    await mkdir(join(clone, 'bin'));
    await copyFile(join(packageRoot, 'bin', 'rallypoint.js'), join(clone, 'bin', 'rallypoint.js'));
    await chmod(join(clone, 'bin', 'rallypoint.js'), 0o755);
    await symlink(join(packageRoot, 'node_modules'), join(clone, 'node_modules'), 'dir');
    const env = { npm_config_cache: await mkdtemp(join(tmpdir(), 'rp-npx-cache-')), npm_config_yes: 'true' };
    const unbuilt = await run('npx', ['rallypoint', 'keys', 'list'], { cwd: clone, env });
    assert.equal(unbuilt.code, 1, `${unbuilt.stdout}${unbuilt.stderr}`);
    assert.match(unbuilt.stderr, /^rallypoint: not built yet; run 'npm run build' in /);
    await symlink(join(packageRoot, 'dist'), join(clone, 'dist'), 'dir');
    const built = await run('npx', ['rallypoint', 'keys', 'list'], { cwd: clone, env });
    assert.equal(built.code, 2, `${built.stdout}${built.stderr}`);
    assert.match(built.stderr, /^error: no API key: pass --key or set RALLYPOINT_API_KEY/);
  });

  it('the server script started through a symlink runs too', async () => {
    const link = join(project, 'rallypoint-server.js');
    await symlink(join(packageRoot, 'dist', 'src', 'main.js'), link);
    const result = await run(process.execPath, [link], { cwd: project, env: { LOG_LEVEL: 'verbose' } });
    assert.equal(result.code, 2);
    assert.match(result.stderr, /^rallypoint: LOG_LEVEL must be one of/);
  });
});
