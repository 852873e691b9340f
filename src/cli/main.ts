#!/usr/bin/env node
/**
 * The `rallypoint` command line: `serve` starts the service, every other command calls the API
 * through the SDK. Exit codes: 0 success, 1 the API or network said no, 2 wrong usage.
 */
import { parseArgs } from 'node:util';
import { Rallypoint, RallypointError, RallypointNetworkError, RallypointTimeoutError } from '@rallypoint/sdk';
import {
  GLOBAL_HELP,
  GLOBAL_OPTIONS,
  UsageError,
  type CliIo,
  type OptionSpecs,
  type Command,
  type CommandContext,
} from './command.js';
import { adminCommands } from './commands-admin.js';
import { deploymentCommands } from './commands-deployments.js';
import { sessionCommands } from './commands-sessions.js';
import { webhookCommands } from './commands-webhooks.js';
import { migrateCommands } from './commands-migrate.js';
import { orgAdminCommands } from './commands-org-admin.js';
import { hostCommands } from './commands-hosts.js';
import { backupCommands } from './commands-backup.js';
import { jobCommands } from './commands-jobs.js';
import { SettingsSchema } from '../config-schema.js';
import { ConfigError, loadCliConnection } from '../config.js';
import { isEntryModule } from '../entry.js';

/** The settings' names, a few per line, for `serve --help`. */
function settingLines(): string[] {
  const names = Object.keys(SettingsSchema.properties);
  const lines: string[] = [];
  for (let i = 0; i < names.length; i += 5) lines.push(`  ${names.slice(i, i + 5).join(', ')}`);
  return ['Reads only environment variables (each is described in the README, "Configuration"):', ...lines];
}

const serveCommand: Command = {
  path: ['serve'],
  summary: 'Start the Rallypoint service (configured by environment variables)',
  example: 'PORT=8080 rallypoint serve',
  takesGlobalOptions: false,
  optionHelp: settingLines(),
  async run() {
    const { main } = await import('../main.js');
    await main();
    return undefined;
  },
};

export const COMMANDS: Command[] = [
  serveCommand,
  ...adminCommands,
  ...deploymentCommands,
  ...sessionCommands,
  ...webhookCommands,
  ...migrateCommands,
  ...orgAdminCommands,
  ...hostCommands,
  ...backupCommands,
  ...jobCommands,
];

function usageLine(command: Command): string {
  return `rallypoint ${command.path.join(' ')}${command.args ? ` ${command.args}` : ''}`;
}

function commandHelp(command: Command): string {
  const lines = [`${command.summary}.`, '', `Usage: ${usageLine(command)} [options]`, ''];
  if (command.optionHelp?.length) lines.push('Options:', ...command.optionHelp.map((l) => `  ${l}`), '');
  if (command.takesGlobalOptions !== false) lines.push('Global options:', ...GLOBAL_HELP.map((l) => `  ${l}`), '');
  else lines.push('  -h, --help       show help', '');
  lines.push('Example:', `  ${command.example}`, '');
  return lines.join('\n');
}

function groupHelp(prefix: string[]): string {
  const matching = COMMANDS.filter((c) => prefix.every((word, i) => c.path[i] === word));
  const width = Math.max(...matching.map((c) => usageLine(c).length));
  const title =
    prefix.length === 0
      ? 'rallypoint: game sessions, deployments and keys from the command line.'
      : `rallypoint ${prefix.join(' ')}:`;
  return [
    title,
    '',
    'Commands:',
    ...matching.map((c) => `  ${usageLine(c).padEnd(width)}  ${c.summary}`),
    '',
    'Global options:',
    ...GLOBAL_HELP.map((l) => `  ${l}`),
    '',
    "Run 'rallypoint <command> --help' for a command's options and an example.",
    '',
    'Example:',
    '  RALLYPOINT_URL=http://127.0.0.1:8080 RALLYPOINT_API_KEY=... rallypoint session list',
    '',
  ].join('\n');
}

/** The command whose words start argv (longest match), and the words that named it. */
function findCommand(argv: string[]): Command | undefined {
  const firstFlag = argv.findIndex((a) => a.startsWith('-'));
  const words = firstFlag === -1 ? argv : argv.slice(0, firstFlag);
  return [...COMMANDS]
    .sort((a, b) => b.path.length - a.path.length)
    .find((c) => c.path.every((word, i) => words[i] === word));
}

/** `--lon -73.5` → `--lon=-73.5`: parseArgs would take a negative number for an option. */
function joinNegativeValues(args: string[], options: OptionSpecs): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const next = args[i + 1];
    const name = arg.startsWith('--') && !arg.includes('=') ? arg.slice(2) : undefined;
    if (name !== undefined && options[name]?.type === 'string' && next !== undefined && /^-\d/.test(next)) {
      out.push(`${arg}=${next}`);
      i++;
    } else {
      out.push(arg);
    }
  }
  return out;
}

function describeError(error: unknown): string {
  if (error instanceof RallypointError) return `${error.message} (${error.code}, HTTP ${error.status})`;
  if (error instanceof RallypointTimeoutError || error instanceof RallypointNetworkError) return error.message;
  return error instanceof Error ? error.message : String(error);
}

/** Runs one command line; resolves with the exit code, or undefined while `serve` keeps running. */
export async function run(argv: string[], io: CliIo): Promise<number | undefined> {
  const command = findCommand(argv);
  if (!command) {
    const words = argv.filter((a) => !a.startsWith('-'));
    const isHelp = argv.length === 0 || argv.includes('--help') || argv.includes('-h');
    // The longest run of leading words that starts some command: a group like `session users`.
    let depth = 0;
    while (depth < words.length && COMMANDS.some((c) => words.slice(0, depth + 1).every((w, i) => c.path[i] === w)))
      depth++;
    if (isHelp) {
      io.stdout(groupHelp(words.slice(0, depth)));
      return 0;
    }
    if (depth > 0 && depth === words.length) {
      io.stderr(`error: "${words.join(' ')}" needs a subcommand; run 'rallypoint ${words.join(' ')} --help'\n`);
      return 2;
    }
    io.stderr(`error: unknown command "${words.join(' ')}"; run 'rallypoint --help'\n`);
    return 2;
  }
  const options = {
    ...(command.takesGlobalOptions === false ? { help: GLOBAL_OPTIONS['help']! } : GLOBAL_OPTIONS),
    ...command.options,
  };
  let parsed;
  try {
    parsed = parseArgs({
      args: joinNegativeValues(argv.slice(command.path.length), options),
      options,
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    io.stderr(`error: ${(error as Error).message.split('\n')[0]}; run '${usageLine(command)} --help'\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values['help'] === true) {
    io.stdout(commandHelp(command));
    return 0;
  }
  if (positionals.length < (command.minArgs ?? 0)) {
    io.stderr(`error: missing arguments; usage: ${usageLine(command)}\n`);
    return 2;
  }
  let client: Rallypoint | undefined;
  const ctx: CommandContext = {
    values,
    positionals,
    io,
    isJson: values['json'] === true,
    client() {
      let connection;
      try {
        connection = loadCliConnection(
          { url: values['url'] as string | undefined, key: values['key'] as string | undefined },
          io.env,
        );
      } catch (error) {
        if (error instanceof ConfigError) throw new UsageError(error.problems.join('; '));
        throw error;
      }
      // Every API route needs a key: without one the answer is known before any request.
      if (!connection.apiKey) throw new UsageError('no API key: pass --key or set RALLYPOINT_API_KEY');
      client ??= new Rallypoint({
        baseUrl: connection.baseUrl,
        apiKey: connection.apiKey,
        retries: 2,
        timeoutMs: 30_000,
      });
      return client;
    },
  };
  try {
    const code = await command.run(ctx);
    return code === undefined && command === serveCommand ? undefined : (code ?? 0);
  } catch (error) {
    io.stderr(
      `error: ${describeError(error)}${error instanceof UsageError ? `; run '${usageLine(command)} --help'` : ''}\n`,
    );
    return error instanceof UsageError ? 2 : 1;
  }
}

/** Runs the command line of this process and exits with its code (the installed bin calls it). */
export function runFromProcess(): void {
  const io: CliIo = {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    isTTY: process.stderr.isTTY === true,
    env: process.env,
  };
  run(process.argv.slice(2), io).then(
    (code) => {
      if (code !== undefined) process.exit(code);
    },
    (error) => {
      process.stderr.write(`error: ${(error as Error).message}\n`);
      process.exit(1);
    },
  );
}

if (isEntryModule(import.meta.url)) runFromProcess();
