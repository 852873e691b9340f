/**
 * The Containerfile builds an image that serves: built with Podman FROM a local Node.js base
 * image (no registry is reachable here; see the Containerfile's header), run against the test
 * PostgreSQL, healthy on /readyz, running as user 1000, and draining on SIGTERM to exit 0.
 */
import { after, before, describe, eventually, it } from '../support/node-test.js';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { layOutBuildStage } from '../support/container-build.js';
import { createTestDatabase } from '../support/harness.js';
import { containersConf, requirePodman } from '../support/podman.js';
import { freePort } from '../support/processes.js';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const IMAGE = 'localhost/rallypoint:test';

describe('container image', { timeout: 900_000 }, () => {
  let dir = '';
  let podman: (args: string[]) => { status: number | null; stdout: string; stderr: string };
  let run: (args: string[]) => string;
  const name = `rp-image-${randomBytes(4).toString('hex')}`;

  before(() => {
    requirePodman();
    dir = mkdtempSync(join(tmpdir(), 'rp-image-'));
    const globals = ['--root', join(dir, 'root'), '--runroot', join(dir, 'run'), '--storage-driver', 'overlay'];
    const env = { ...process.env, CONTAINERS_CONF: containersConf };
    podman = (args) => {
      const result = spawnSync('podman', [...globals, ...args], { env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
      return { status: result.status, stdout: result.stdout ?? '', stderr: result.stderr ?? '' };
    };
    run = (args) => {
      const result = podman(args);
      if (result.status !== 0) throw new Error(`podman ${args.join(' ')} failed (${result.status}): ${result.stderr}`);
      return result.stdout;
    };
    const base = spawnSync(process.execPath, [join(repoRoot, 'scripts/node-base-image.mjs'), '--', ...globals], {
      env,
      encoding: 'utf8',
    });
    if (base.status !== 0) throw new Error(`node-base-image failed: ${base.stderr}`);
    layOutBuildStage(repoRoot, join(dir, 'build'));
    run([
      'build',
      '--quiet',
      '--format',
      'docker',
      '--build-arg',
      `BASE=${base.stdout.trim()}`,
      '--build-context',
      `build=${join(dir, 'build')}`,
      '-t',
      IMAGE,
      '-f',
      join(repoRoot, 'Containerfile'),
      repoRoot,
    ]);
  });

  after(() => {
    if (!dir) return;
    podman(['rm', '--all', '--force', '--time', '0']);
    rmSync(dir, { recursive: true, force: true });
  });

  it('declares a non-root user, a /readyz health check and SIGTERM', () => {
    type HealthConfig = { Test?: string[] };
    const [image] = JSON.parse(run(['image', 'inspect', IMAGE])) as Array<{
      Healthcheck?: HealthConfig;
      Config: { User?: string; StopSignal?: string; Entrypoint?: string[]; Cmd?: string[]; Healthcheck?: HealthConfig };
    }>;
    assert.equal(image!.Config.User, '1000:1000');
    assert.equal(image!.Config.StopSignal, 'SIGTERM');
    assert.deepEqual(
      [...image!.Config.Entrypoint!, ...image!.Config.Cmd!],
      ['node', '/app/dist/src/cli/main.js', 'serve'],
    );
    // Podman reports the health check beside Config, Docker inside it.
    const health = image!.Healthcheck ?? image!.Config.Healthcheck;
    assert.match(health?.Test?.join(' ') ?? '', /\/readyz/);
  });

  it('serves from PostgreSQL as user 1000, reports healthy, and drains on SIGTERM', async () => {
    const databaseUrl = await createTestDatabase();
    const port = await freePort();
    const key = `rp_${randomBytes(24).toString('base64url')}`;
    run([
      'run',
      '--detach',
      '--name',
      name,
      '--network',
      'host',
      '--env',
      `DATABASE_URL=${databaseUrl}`,
      '--env',
      `PORT=${port}`,
      '--env',
      `RALLYPOINT_API_KEY=${key}`,
      IMAGE,
    ]);
    const url = `http://127.0.0.1:${port}`;
    const logs = () => podman(['logs', name]).stdout + podman(['logs', name]).stderr;
    try {
      await eventually(
        '/readyz answers 200',
        () =>
          fetch(`${url}/readyz`).then(
            (r) => r.status === 200,
            () => false,
          ),
        { withinMs: 120_000, everyMs: 250 },
      );
    } catch (error) {
      throw new Error(`${(error as Error).message}\n${logs().slice(-3000)}`);
    }

    const created = await fetch(`${url}/v1/app`, {
      method: 'POST',
      headers: { authorization: `token ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'boxed', is_active: true, image: '' }),
    });
    assert.equal(created.status, 200, await created.clone().text());
    const listed = (await (await fetch(`${url}/v1/apps`, { headers: { authorization: `token ${key}` } })).json()) as {
      applications: Array<{ name: string }>;
    };
    assert.deepEqual(
      listed.applications.map((app) => app.name),
      ['boxed'],
    );

    assert.equal(
      run(['exec', name, 'node', '-e', 'process.stdout.write(`${process.getuid()}:${process.getgid()}`)']),
      '1000:1000',
    );
    const health = podman(['healthcheck', 'run', name]);
    assert.equal(health.status, 0, `health check failed: ${health.stdout}${health.stderr}`);

    const stopStarted = Date.now();
    run(['stop', '--time', '30', name]);
    const stoppedInMs = Date.now() - stopStarted;
    const [state] = JSON.parse(run(['inspect', name])) as Array<{ State: { ExitCode: number } }>;
    assert.equal(state!.State.ExitCode, 0, `exit code after SIGTERM (137 = killed):\n${logs().slice(-3000)}`);
    assert.match(logs(), /"signal":"SIGTERM".*draining/);
    assert.ok(stoppedInMs < 25_000, `stop took ${stoppedInMs} ms`);
  });
});
