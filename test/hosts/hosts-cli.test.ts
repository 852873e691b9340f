/** `rallypoint hosts …` run as the built binary against a live service. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from '../support/node-test.js';
import { createOrganisation } from '../../src/app/keys.js';
import { startTestService, type TestService } from '../support/harness.js';

const bin = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

function cli(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [bin, ...args],
      { env: { PATH: process.env['PATH'] ?? '', ...env } },
      (error, stdout, stderr) => {
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
      },
    );
  });
}

const PLACE_AND_SIZE = [
  '--public-ip',
  '203.0.113.5',
  '--city',
  'Frankfurt',
  '--country',
  'Germany',
  '--continent',
  'Europe',
  '--lat',
  '50.11',
  '--lon',
  '8.68',
  '--cpu',
  '4096',
  '--memory',
  '8192',
  '--tag',
  'eu',
];
const SOCKET = ['--socket', '/run/podman/podman.sock'];
const addArgs = (name: string, endpoint: string[], ports = '30000-30999') => [
  'hosts',
  'add',
  name,
  ...endpoint,
  ...PLACE_AND_SIZE,
  '--ports',
  ports,
];
const ADD = addArgs('fra-1', SOCKET);

describe('rallypoint hosts', { timeout: 300_000 }, () => {
  let t: TestService;
  let env: Record<string, string>;
  before(async () => {
    t = await startTestService();
    env = { RALLYPOINT_URL: t.url, RALLYPOINT_API_KEY: t.key };
  });
  after(() => t.close());

  it('adds, lists, shows, drains, activates and removes a host', async () => {
    const added = await cli(ADD, env);
    assert.equal(added.code, 0, added.stderr);
    assert.match(added.stdout, /name:\s+fra-1/);
    assert.match(added.stdout, /cpu units:\s+0\/4096/);

    const listed = await cli(['hosts', 'list'], env);
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, /^NAME\s+STATE\s+LOCATION/);
    assert.match(
      listed.stdout,
      /fra-1\s+active\s+Frankfurt, Germany\s+203\.0\.113\.5\s+0\/4096\s+0\/8192\s+0\/1000\s+0/,
    );

    const json = await cli(['hosts', 'list', '--json'], env);
    assert.deepEqual(
      JSON.parse(json.stdout).hosts.map((h: { name: string; tags: string[] }) => [h.name, h.tags]),
      [['fra-1', ['eu']]],
    );

    const shown = await cli(['hosts', 'show', 'fra-1'], env);
    assert.match(shown.stdout, /endpoint:\s+socket \/run\/podman\/podman.sock/);
    assert.match(shown.stdout, /ports:\s+0\/1000 \(30000-30999\)/);

    assert.match(
      (await cli(['hosts', 'drain', 'fra-1'], env)).stdout,
      /Host fra-1 is draining; 0 deployment\(s\) still on it/,
    );
    assert.match((await cli(['hosts', 'show', 'fra-1', '--json'], env)).stdout, /"state": "draining"/);
    assert.match((await cli(['hosts', 'activate', 'fra-1'], env)).stdout, /Host fra-1 is active/);
    const removed = await cli(['hosts', 'remove', 'fra-1'], env);
    assert.equal(removed.code, 0, removed.stderr);
    assert.equal(removed.stdout, 'Host fra-1 removed.\n');
  });

  it('reads TLS material from files and says which flag is wrong', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rp-hosts-cli-'));
    for (const name of ['ca', 'cert', 'key']) writeFileSync(join(dir, `${name}.pem`), `-----BEGIN ${name}-----\n`);
    const tcp = addArgs('tcp-1', [
      '--tcp',
      'engine.example:2376',
      '--tls-ca',
      join(dir, 'ca.pem'),
      '--tls-cert',
      join(dir, 'cert.pem'),
      '--tls-key',
      join(dir, 'key.pem'),
    ]);
    const added = await cli(tcp, env);
    assert.equal(added.code, 0, added.stderr);
    assert.match(added.stdout, /endpoint:\s+tcp engine.example:2376 \(credentials stored\)/);

    const twoEndpoints = await cli(addArgs('two', [...SOCKET, '--tcp', 'e:1']), env);
    assert.equal(twoEndpoints.code, 2);
    assert.match(twoEndpoints.stderr, /exactly one of --socket/);
    const badRange = await cli(addArgs('bad', SOCKET, '30000'), env);
    assert.equal(badRange.code, 2);
    assert.match(badRange.stderr, /--ports must look like 30000-30999/);
    const missingKey = await cli(['hosts', 'add', 'x', '--tcp', 'e:1', '--tls-key', join(dir, 'missing.pem')], env);
    assert.match(missingKey.stderr, /--tls-key: cannot read .*missing\.pem \(ENOENT\)/);
    const upsideDown = await cli(addArgs('fra-2', SOCKET, '31000-30000'), env);
    assert.equal(upsideDown.code, 1);
    assert.match(upsideDown.stderr, /VALIDATION_FAILED|must not be above port_max/);
  });

  it('tells another organisation it may not manage hosts', async () => {
    const { key } = await createOrganisation(t.service.deps, 'another studio');
    const refused = await cli(['hosts', 'list'], { ...env, RALLYPOINT_API_KEY: key });
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /operator organisation/);
    assert.match(refused.stderr, /OPERATOR_ONLY|403/);
  });
});
