/**
 * What a CLI command is and what it gets to run: parsed flags, the positionals after its name,
 * a lazily built SDK client, and where to write.
 */
import type { ParseArgsConfig } from 'node:util';
import { Rallypoint } from '@rallypoint/sdk';

export type OptionSpecs = NonNullable<ParseArgsConfig['options']>;
export type FlagValue = string | boolean | Array<string | boolean> | undefined;

/** Where the CLI writes and what it knows of its surroundings; tests and main pass their own. */
export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  /** Whether stderr is a terminal (progress is shown only there). */
  isTTY: boolean;
  env: Record<string, string | undefined>;
}

/** A mistake in how the command was called; exits with code 2. */
export class UsageError extends Error {}

export interface CommandContext {
  values: Record<string, FlagValue>;
  positionals: string[];
  isJson: boolean;
  io: CliIo;
  /** The SDK client for --url/--key (or RALLYPOINT_URL/RALLYPOINT_API_KEY). */
  client(): Rallypoint;
}

export interface Command {
  /** Words that name it, e.g. ['session', 'users', 'add']. */
  path: string[];
  summary: string;
  /** Arguments after the command words, e.g. '<session_id> <ip>...'. */
  args?: string;
  example: string;
  options?: OptionSpecs;
  /** Help lines describing each option. */
  optionHelp?: string[];
  /** false: --url, --key and --json mean nothing to it (serve, admin), so they are refused. */
  takesGlobalOptions?: boolean;
  /** How many positionals it needs at least. */
  minArgs?: number;
  /** Resolves with the exit code, or undefined to keep the process running (serve). */
  run(ctx: CommandContext): Promise<number | undefined | void>;
}

export const GLOBAL_OPTIONS: OptionSpecs = {
  url: { type: 'string' },
  key: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
};

export const GLOBAL_HELP = [
  '--url <url>      service URL (default $RALLYPOINT_URL, else http://127.0.0.1:8080)',
  '--key <key>      API key (default $RALLYPOINT_API_KEY)',
  '--json           print JSON for scripts instead of tables',
  '-h, --help       show help',
];

/**
 * The `--json` answer of a `--all` listing: the same shape as one page, holding every item, so a
 * script reads `.data` either way.
 */
export function wholeListPage<T>(items: T[]): { data: T[]; total_count: number; pagination: Record<string, unknown> } {
  return {
    data: items,
    total_count: items.length,
    pagination: {
      number: 1,
      next_page_number: null,
      previous_page_number: null,
      paginator: { num_pages: 1 },
      has_next: false,
      has_previous: false,
    },
  };
}

export function str(ctx: CommandContext, name: string): string | undefined {
  const value = ctx.values[name];
  return typeof value === 'string' ? value : undefined;
}

export function requireStr(ctx: CommandContext, name: string): string {
  const value = str(ctx, name);
  if (value === undefined || value === '') throw new UsageError(`--${name} is required`);
  return value;
}

export function strs(ctx: CommandContext, name: string): string[] {
  const value = ctx.values[name];
  if (value === undefined) return [];
  return (Array.isArray(value) ? value : [value]).filter((v): v is string => typeof v === 'string');
}

export function flag(ctx: CommandContext, name: string): boolean {
  return ctx.values[name] === true;
}

export function int(ctx: CommandContext, name: string): number | undefined {
  const raw = str(ctx, name);
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value)) throw new UsageError(`--${name} must be an integer, got "${raw}"`);
  return value;
}

export function num(ctx: CommandContext, name: string): number | undefined {
  const raw = str(ctx, name);
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(value)) throw new UsageError(`--${name} must be a number, got "${raw}"`);
  return value;
}

/** `--data '<json object>'`: fields merged over what the flags built, for the full request shape. */
export function data(ctx: CommandContext): Record<string, unknown> {
  const raw = str(ctx, 'data');
  if (raw === undefined) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new UsageError('--data must be a JSON object');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new UsageError('--data must be a JSON object');
  return parsed as Record<string, unknown>;
}

export const DATA_OPTION: OptionSpecs = { data: { type: 'string' } };
export const DATA_HELP = '--data <json>    extra request fields as a JSON object, merged over the flags';
