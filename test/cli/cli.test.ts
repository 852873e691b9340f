import { after, before, describe, it } from '../support/node-test.js';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { COMMANDS, run as runInProcess } from '../../src/cli/main.js';
import { startTestService, type TestService } from '../support/harness.js';
import { closedPort } from '../sdk/test-servers.js';

const bin = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the built binary as a child process (asynchronously: the server lives in this process). */
function cli(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
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

function ok(result: CliResult): string {
  assert.equal(result.code, 0, `exit ${result.code}: ${result.stderr}`);
  return result.stdout;
}

function oneLineError(result: CliResult, code: number, pattern: RegExp): void {
  assert.equal(result.code, code, `stdout: ${result.stdout} stderr: ${result.stderr}`);
  assert.equal(result.stdout, '');
  assert.equal(result.stderr.trimEnd().split('\n').length, 1, `one line: ${result.stderr}`);
  assert.match(result.stderr, /^error: /);
  assert.match(result.stderr, pattern);
}

describe('rallypoint CLI against a live server', () => {
  let t: TestService;
  let env: Record<string, string>;
  const run = (...args: string[]) => cli(args, env);
  before(async () => {
    t = await startTestService();
    env = { RALLYPOINT_URL: t.url, RALLYPOINT_API_KEY: t.key };
  });
  after(() => t.close());

  it('shows help with an example for every command, and exits 0', async () => {
    const top = await cli(['--help']);
    assert.match(ok(top), /rallypoint session create/);
    for (const command of COMMANDS) {
      const help = ok(await cli([...command.path, '--help']));
      assert.match(help, new RegExp(`Usage: rallypoint ${command.path.join(' ')}`));
      // Commands that open the database directly start their example with its variables.
      assert.match(help, /Example:\n {2}(?:[A-Z_]+=\S+ )*rallypoint/, `example in ${command.path.join(' ')} --help`);
    }
  });

  it('rejects wrong usage with exit 2 and one line on stderr', async () => {
    oneLineError(await run('nonsense'), 2, /unknown command "nonsense"/);
    oneLineError(await run('session', 'create'), 2, /--app is required/);
    oneLineError(await run('session', 'get'), 2, /usage: rallypoint session get <session_id>/);
    oneLineError(await run('app', 'list', '--bogus'), 2, /bogus/);
    oneLineError(await run('session', 'users'), 2, /needs a subcommand/);
    oneLineError(await run('session', 'create', '--app', 'cli-game'), 2, /give at least one player with --ip/);
    oneLineError(
      await cli(['app', 'list'], { RALLYPOINT_URL: env['RALLYPOINT_URL']! }),
      2,
      /no API key: pass --key or set RALLYPOINT_API_KEY/,
    );
    oneLineError(await run('serve', '--url', 'http://x'), 2, /Unknown option '--url'/);
    // The environment is checked before any request: one line naming the variable, the secret not echoed.
    oneLineError(
      await cli(['app', 'list'], { ...env, RALLYPOINT_URL: 'localhost:8080' }),
      2,
      /^error: RALLYPOINT_URL must be an http:\/\/ or https:\/\/ URL like http:\/\/127\.0\.0\.1:8080, got "localhost:8080"; run 'rallypoint app list --help'$/m,
    );
    const badKey = await cli(['app', 'list'], { ...env, RALLYPOINT_API_KEY: 'hunter2 with spaces' });
    oneLineError(badKey, 2, /^error: RALLYPOINT_API_KEY must be a key like rp_/);
    assert.doesNotMatch(badKey.stderr, /hunter2/);
    oneLineError(
      await run('app', 'list', '--url', 'ftp://x'),
      2,
      /^error: --url must be an http:\/\/ or https:\/\/ URL/,
    );
  });

  it('manages apps, versions and a registered server, with tables and --json', async () => {
    assert.match(ok(await run('app', 'create', 'cli-game')), /name: +cli-game/);
    const apps = ok(await run('app', 'list'));
    assert.match(apps.split('\n')[0]!, /^NAME +ACTIVE +CREATED$/);
    assert.match(apps, /^cli-game +true +\d{4}-/m);
    assert.deepEqual(JSON.parse(ok(await run('app', 'get', 'cli-game', '--json'))).name, 'cli-game');
    assert.match(
      ok(await run('version', 'create', 'cli-game', 'v1', '--kind', 'Seat', '--sockets', '2')),
      /sockets: +2/,
    );
    assert.match(ok(await run('version', 'list', 'cli-game')), /^v1 +true +Seat +2 +false/m);
    assert.equal(JSON.parse(ok(await run('version', 'get', 'cli-game', 'v1', '--json'))).session_config.kind, 'Seat');
    const registered = JSON.parse(
      ok(
        await run(
          'register',
          '--app',
          'cli-game',
          '--version',
          'v1',
          '--ip',
          '203.0.113.10',
          '--port',
          'game:7777/UDP',
          '--city',
          'Montreal',
          '--country',
          'Canada',
          '--continent',
          'North America',
          '--lat',
          '45.5',
          '--lon',
          '-73.57',
          '--tag',
          'ca',
          '--json',
        ),
      ),
    );
    assert.equal(registered.current_status, 'Status.READY');
    const deployments = ok(await run('deployments', 'list'));
    assert.match(deployments, new RegExp(`^${registered.request_id} +true +203\\.0\\.113\\.10 +0/2 +ca`, 'm'));
    assert.match(ok(await run('deployments', 'get', registered.request_id)), /status: +Status\.READY/);
  });

  it('creates a session, waits for it, manages its users and deletes it', async () => {
    const created = await run('session', 'create', '--app', 'cli-game', '--ip', '1.2.3.4', '--wait', '--json');
    const session = JSON.parse(ok(created));
    assert.deepEqual([session.status, session.ready, session.user_count], ['Ready', true, 1]);
    assert.equal(created.stderr, '', 'no progress line when stderr is not a terminal');
    assert.match(
      ok(await run('session', 'get', session.session_id)),
      /status: +Ready[\s\S]*connect: +game=203\.0\.113\.10:7777\/UDP/,
    );
    const added = ok(await run('session', 'users', 'add', session.session_id, '5.6.7.8'));
    assert.match(added, /^IP +LATITUDE +LONGITUDE$/m);
    assert.match(added, /^5\.6\.7\.8/m);
    const listed = JSON.parse(ok(await run('session', 'users', 'list', session.session_id, '--json')));
    assert.deepEqual(listed.session_users.map((u: { ip: string }) => u.ip).sort(), ['1.2.3.4', '5.6.7.8']);
    assert.doesNotMatch(ok(await run('session', 'users', 'remove', session.session_id, '1.2.3.4')), /1\.2\.3\.4/);
    const table = ok(await run('session', 'list'));
    assert.match(table.split('\n')[0]!, /^SESSION_ID +STATUS +KIND +USERS +READY +DEPLOYMENT/);
    assert.match(table, new RegExp(`^${session.session_id} +Ready +Seat +1 +true`, 'm'));
    const page = JSON.parse(ok(await run('session', 'list', '--json')));
    const whole = JSON.parse(ok(await run('session', 'list', '--all', '--json')));
    assert.deepEqual(Object.keys(whole).sort(), Object.keys(page).sort(), '--all has the shape of one page');
    const all = whole.data;
    assert.ok(all.some((s: { session_id: string }) => s.session_id === session.session_id));
    assert.match(
      ok(await run('session', 'delete', session.session_id)),
      new RegExp(`Session ${session.session_id} will be deleted`),
    );
    oneLineError(await run('session', 'get', session.session_id), 1, /SESSION_NOT_FOUND, HTTP 404/);
  });

  it('shows --wait progress on a terminal (stderr is a TTY) and clears it', async () => {
    let stdout = '';
    let stderr = '';
    const io = {
      stdout: (x: string) => {
        stdout += x;
      },
      stderr: (x: string) => {
        stderr += x;
      },
      isTTY: true,
      env,
    };
    const code = await runInProcess(['session', 'create', '--app', 'cli-game', '--ip', '4.3.2.1', '--wait'], io);
    assert.equal(code, 0, stderr);
    const id = /session_id: +(\w{12}-S)/.exec(stdout)?.[1];
    assert.ok(id, stdout);
    assert.match(stderr, new RegExp(`^\\r\\x1b\\[K[|/\\\\-] session ${id}: Ready \\(\\d+s\\)`));
    assert.ok(stderr.endsWith('\r\x1b[K'), 'the progress line is cleared');
    assert.equal(JSON.parse(ok(await run('session', 'delete', id, '--json'))).session_id, id);
  });

  it('fails session create --wait with the session error when it is Unprocessable', async () => {
    const result = await run(
      'session',
      'create',
      '--app',
      'cli-game',
      '--ip',
      '9.9.9.1',
      '--ip',
      '9.9.9.2',
      '--ip',
      '9.9.9.3',
    );
    assert.match(ok(result), /session_id: +\w{12}-S/);
    oneLineError(
      await run(
        'session',
        'create',
        '--app',
        'cli-game',
        '--ip',
        '9.9.9.1',
        '--ip',
        '9.9.9.2',
        '--ip',
        '9.9.9.3',
        '--wait',
      ),
      1,
      /SESSION_UNPROCESSABLE/,
    );
  });

  it('bulk-stops sessions by deployment tag', async () => {
    const session = JSON.parse(ok(await run('session', 'create', '--app', 'cli-game', '--ip', '7.7.7.7', '--json')));
    const stopped = ok(await run('sessions', 'bulk-stop', '--tag', 'ca'));
    assert.match(stopped, new RegExp(`^${session.session_id}$`, 'm'));
    oneLineError(await run('sessions', 'bulk-stop'), 2, /at least one of --id/);
  });

  it('manages keys', async () => {
    const created = JSON.parse(ok(await run('keys', 'create', '--name', 'ci', '--json')));
    assert.match(created.key, /\S{16,}/);
    assert.match(ok(await run('keys', 'list')), new RegExp(`^${created.key_id} +ci +\\S+ \\S+ +false$`, 'm'));
    assert.match(ok(await run('app', 'list', '--key', created.key)), /cli-game/);
    assert.match(ok(await run('keys', 'revoke', created.key_id)), /revoked/);
    oneLineError(await run('app', 'list', '--key', created.key), 1, /UNAUTHORIZED, HTTP 401/);
  });

  it('stops a deployment and deletes the version and app', async () => {
    const [first] = JSON.parse(ok(await run('deployments', 'list', '--all', '--json'))).data;
    assert.match(ok(await run('stop', first.request_id)), new RegExp(first.request_id));
    oneLineError(await run('stop', first.request_id), 1, /HTTP 410/);
    assert.match(ok(await run('version', 'delete', 'cli-game', 'v1')), /deleted/);
    assert.match(ok(await run('app', 'delete', 'cli-game')), /deleted/);
    oneLineError(await run('app', 'get', 'cli-game'), 1, /APP_NOT_FOUND/);
  });

  it('reports an unreachable server as a one-line error', async () => {
    const port = await closedPort();
    oneLineError(
      await cli(['app', 'list', '--url', `http://127.0.0.1:${port}`, '--key', 'rp_0123456789abcdef0']),
      1,
      /ECONNREFUSED/,
    );
  });

  it('shows and rotates the webhook secret and lists deliveries', async () => {
    const secret = ok(await run('webhooks', 'secret')).trim();
    assert.ok(secret.length >= 16);
    const rotated = JSON.parse(ok(await run('webhooks', 'rotate-secret', '--json'))).webhook_secret;
    assert.notEqual(rotated, secret);
    assert.equal(ok(await run('webhooks', 'secret')).trim(), rotated);
    assert.ok(Array.isArray(JSON.parse(ok(await run('webhooks', 'deliveries', '--limit', '5', '--json'))).deliveries));
    assert.match(ok(await run('webhooks', 'deliveries')).split('\n')[0]!, /^DELIVERY_ID +EVENT +STATE +ATTEMPTS/);
    oneLineError(await run('webhooks', 'replay', 'nope'), 1, /DELIVERY_NOT_FOUND, HTTP 404/);
  });
});
