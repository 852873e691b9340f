/**
 * The command as users install it: npm links `node_modules/.bin/rallypoint` (and a global
 * install links a directory on PATH) to the package's bin file. Through such a symlink the CLI
 * must run, not silently exit 0.
 */
import { before, describe, it } from '../support/node-test.js';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const packageRoot = fileURLToPath(new URL('../../../', import.meta.url));

interface Exit { code: number | null; stdout: string; stderr: string }

function run(file: string, args: string[], options: { cwd: string; env?: Record<string, string> }): Promise<Exit> {
  return new Promise((resolve) => {
    const env = { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? options.cwd, npm_config_offline: 'true', npm_config_update_notifier: 'false', ...options.env };
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
    await writeFile(join(project, 'package.json'), JSON.stringify({ name: 'uses-rallypoint', private: true, dependencies: { rallypoint: '*' } }));
    // The layout npm makes for a dependency: the package under node_modules, its bin linked in .bin.
    await mkdir(join(project, 'node_modules', '.bin'), { recursive: true });
    await symlink(packageRoot, join(project, 'node_modules', 'rallypoint'), 'dir');
    await symlink('../rallypoint/dist/src/cli/main.js', join(project, 'node_modules', '.bin', 'rallypoint'));
    await chmod(join(packageRoot, 'dist', 'src', 'cli', 'main.js'), 0o755);
    // A global install: a link in a directory on PATH.
    globalBin = join(project, 'global-bin');
    await mkdir(globalBin);
    await symlink(join(project, 'node_modules', 'rallypoint', 'dist', 'src', 'cli', 'main.js'), join(globalBin, 'rallypoint'));
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
    const result = await run(join(project, 'node_modules', '.bin', 'rallypoint'), ['session', 'list'], { cwd: project });
    assert.equal(result.code, 2, 'a missing key is a usage error, not a silent success');
    assert.equal(result.stderr, "error: no API key: pass --key or set RALLYPOINT_API_KEY; run 'rallypoint session list --help'\n");
  });

  it('a globally linked rallypoint on PATH runs', async () => {
    const result = await run('rallypoint', ['serve', '--help'], { cwd: project, env: { PATH: `${globalBin}:${process.env['PATH'] ?? ''}` } });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^Usage: rallypoint serve/m);
    assert.match(result.stdout, /DATABASE_URL/);
    assert.doesNotMatch(result.stdout, /--url|--key|--json/, 'serve reads none of the client options');
  });

  it('the server script started through a symlink runs too', async () => {
    const link = join(project, 'rallypoint-server.js');
    await symlink(join(packageRoot, 'dist', 'src', 'main.js'), link);
    const result = await run(process.execPath, [link], { cwd: project, env: { LOG_LEVEL: 'verbose' } });
    assert.equal(result.code, 2);
    assert.match(result.stderr, /^rallypoint: LOG_LEVEL must be one of/);
  });
});
