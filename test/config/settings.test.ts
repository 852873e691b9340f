/**
 * Settings: one schema validated before anything runs, one line per bad variable, start-up
 * failures as one sentence, and the README table generated from the schema. The start-up cases
 * run the real server script and read its stderr.
 */
import { describe, it } from '../support/node-test.js';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadCliConnection, loadConfig } from '../../src/config.js';
import { CLI_TABLE_START, renderSettingsTable, replaceSettingsTable } from '../../src/config-docs.js';
import { CliSettingsSchema, SettingsSchema } from '../../src/config-schema.js';
import { freePort, mainScript } from '../support/processes.js';

interface Exit {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the server script to its exit (it must fail to start), killed after timeoutMs. */
function runServerToExit(env: Record<string, string>, timeoutMs = 60_000): Promise<Exit> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [mainScript],
      { env: { PATH: process.env['PATH'] ?? '', HOST: '127.0.0.1', ...env }, timeout: timeoutMs },
      (error, stdout, stderr) => {
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout, stderr });
      },
    );
  });
}

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return [...error.problems];
  }
  return [];
}

describe('settings', () => {
  it('refuses bad values with one line each naming the variable and what it accepts', () => {
    assert.deepEqual(
      problemsOf({ PROVIDERS: 'proces', LOG_LEVEL: 'verbose', PORT: '80a', PROCESS_KEEP_ON_SHUTDOWN: 'yes' }),
      [
        'PORT must be an integer from 0 to 65535, got "80a"',
        'LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, got "verbose"',
        'PROVIDERS must be a comma-separated list of registered, process, docker, got "proces"',
        'PROCESS_KEEP_ON_SHUTDOWN must be true or false, got "yes"',
      ],
    );
    assert.deepEqual(
      problemsOf({ WEBHOOK_DENY_CIDRS: '10.0.0.0/8,10.0.0.0/99', PROCESS_LOCATION: '{"latitude": 200}' }),
      [
        'WEBHOOK_DENY_CIDRS must be comma-separated CIDRs like 169.254.0.0/16,fe80::/10, got "10.0.0.0/8,10.0.0.0/99"',
        'PROCESS_LOCATION must be a JSON object like {"city":"Montreal","country":"Canada","latitude":45.5,"longitude":-73.6}, got "{"latitude": 200}"',
      ],
    );
  });

  it('refuses a key that does not look like one, without echoing secrets', () => {
    const problems = problemsOf({ RALLYPOINT_API_KEY: 'rp_...', DATABASE_URL: 'mysql://root:hunter2@db/x' });
    assert.deepEqual(problems, [
      'DATABASE_URL must be a URL like postgres://user:password@host:5432/dbname',
      'RALLYPOINT_API_KEY must be a key like rp_ followed by at least 16 letters, digits, _ or -',
    ]);
    assert.equal(loadConfig({ RALLYPOINT_API_KEY: 'rp_0123456789abcdef-_' }).bootstrapApiKey, 'rp_0123456789abcdef-_');
  });

  it('applies defaults and types', () => {
    const config = loadConfig({
      PROVIDERS: 'registered, process,process',
      PROCESS_KEEP_ON_SHUTDOWN: 'true',
      PORT: '9000',
      PROCESS_LOCATION: '{"city":"Montreal","latitude":45.5}',
    });
    assert.deepEqual(config.providers, ['registered', 'process']);
    assert.equal(config.process.keepOnShutdown, true);
    assert.equal(config.publicUrl, 'http://127.0.0.1:9000');
    assert.equal(config.logLevel, 'info');
    assert.deepEqual(
      [config.process.location.city, config.process.location.country, config.process.location.latitude],
      ['Montreal', 'Local', 45.5],
    );
    assert.equal(loadConfig({ LOG_LEVEL: '  ' }).logLevel, 'info', 'blank means unset');
  });

  it('documents every setting in the README, exactly as the schema says (npm run docs:settings)', async () => {
    const readme = await readFile(new URL('../../../README.md', import.meta.url), 'utf8');
    assert.equal(
      replaceSettingsTable(readme),
      readme,
      'README.md settings table is stale: run `npm run docs:settings`',
    );
    for (const name of Object.keys(SettingsSchema.properties))
      assert.match(renderSettingsTable(), new RegExp(`^\\| \`${name}\` \\|`, 'm'));
    for (const name of ['METRICS_TOKEN', 'RATE_LIMIT_PER_SECOND', 'RATE_LIMIT_BURST', 'RALLYPOINT_PUBLIC_URL'])
      assert.ok(name in SettingsSchema.properties);
    const cliTable = readme.slice(readme.indexOf(CLI_TABLE_START));
    for (const name of Object.keys(CliSettingsSchema.properties))
      assert.match(cliTable, new RegExp(`^\\| \`${name}\` \\|`, 'm'));
  });

  it("checks the CLI's RALLYPOINT_URL and RALLYPOINT_API_KEY, or the flags that override them", () => {
    const key = 'rp_0123456789abcdef-_';
    assert.deepEqual(loadCliConnection({}, {}), { baseUrl: 'http://127.0.0.1:8080', apiKey: undefined });
    assert.deepEqual(
      loadCliConnection({}, { RALLYPOINT_URL: 'https://rp.example.com/base', RALLYPOINT_API_KEY: key }),
      { baseUrl: 'https://rp.example.com/base', apiKey: key },
    );
    const problems = (flags: { url?: string; key?: string }, env: Record<string, string>) => {
      try {
        loadCliConnection(flags, env);
      } catch (error) {
        assert.ok(error instanceof ConfigError, String(error));
        return [...error.problems];
      }
      return [];
    };
    assert.deepEqual(problems({}, { RALLYPOINT_URL: 'localhost:8080', RALLYPOINT_API_KEY: 'secret value' }), [
      'RALLYPOINT_URL must be an http:// or https:// URL like http://127.0.0.1:8080, got "localhost:8080"',
      'RALLYPOINT_API_KEY must be a key like rp_ followed by at least 16 letters, digits, _ or -',
    ]);
    assert.deepEqual(problems({ url: 'http://a b', key: 'rp_short' }, {}), [
      '--url must be an http:// or https:// URL like http://127.0.0.1:8080, got "http://a b"',
      '--key must be a key like rp_ followed by at least 16 letters, digits, _ or -',
    ]);
    // A flag replaces its variable, which is then not read at all.
    assert.deepEqual(
      loadCliConnection(
        { url: 'http://127.0.0.1:9', key },
        { RALLYPOINT_URL: 'nonsense', RALLYPOINT_API_KEY: 'nonsense' },
      ),
      { baseUrl: 'http://127.0.0.1:9', apiKey: key },
    );
  });
});

describe('start-up failures of the real server', { timeout: 180_000 }, () => {
  it('bad settings: exit 2, one line each, nothing else done', async () => {
    const result = await runServerToExit({
      PROVIDERS: 'proces',
      LOG_LEVEL: 'verbose',
      RALLYPOINT_API_KEY: 'rp_...',
      RALLYPOINT_DATA_DIR: '/nonexistent/never/created',
    });
    assert.equal(result.code, 2, result.stderr);
    assert.equal(result.stdout, '');
    assert.deepEqual(result.stderr.trimEnd().split('\n'), [
      'rallypoint: RALLYPOINT_API_KEY must be a key like rp_ followed by at least 16 letters, digits, _ or -',
      'rallypoint: LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, got "verbose"',
      'rallypoint: PROVIDERS must be a comma-separated list of registered, process, docker, got "proces"',
    ]);
  });

  it('port in use: one sentence naming the address, before any key is made', async () => {
    const blocker: Server = createServer();
    const port = await freePort();
    await new Promise<void>((resolve) => blocker.listen(port, '127.0.0.1', resolve));
    try {
      const result = await runServerToExit({ PORT: String(port), RALLYPOINT_DATA_DIR: 'memory://' });
      assert.equal(result.code, 1, result.stderr);
      assert.equal(result.stdout, '', 'no key printed');
      assert.equal(
        result.stderr,
        `rallypoint: cannot listen on 127.0.0.1:${port}: another program already uses that port. Stop it or set PORT (or HOST) to a free one.\n`,
      );
    } finally {
      blocker.close();
    }
  });

  it('database unreachable: names host, port and database and the cause, never the password', async () => {
    const port = await freePort();
    const result = await runServerToExit({
      PORT: '0',
      DATABASE_URL: `postgres://rp:hunter2@127.0.0.1:${port}/rallypoint`,
    });
    assert.equal(result.code, 1, result.stderr);
    assert.equal(result.stderr.trimEnd().split('\n').length, 1, result.stderr);
    assert.match(
      result.stderr,
      new RegExp(
        `^rallypoint: cannot use the PostgreSQL database at 127\\.0\\.0\\.1:${port}/rallypoint: connect ECONNREFUSED`,
      ),
    );
    assert.doesNotMatch(result.stderr, /hunter2/);
  });

  it('data directory not usable: one sentence naming it, no [object Object]', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rp-settings-'));
    const file = join(dir, 'not-a-directory');
    await writeFile(file, 'hello');
    const result = await runServerToExit({ PORT: '0', RALLYPOINT_DATA_DIR: file });
    assert.equal(result.code, 1, result.stderr);
    assert.equal(result.stderr.trimEnd().split('\n').length, 1, result.stderr);
    assert.match(result.stderr, new RegExp(`^rallypoint: the data directory ${file} is not usable`));
    assert.doesNotMatch(result.stderr, /\[object Object\]/);
  });
});
