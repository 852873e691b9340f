/**
 * node:test with a deadline on every test and hook. Node 20's --test-timeout bounds a whole file,
 * so a hang would fail the file without naming the test; here each `it`, `before` and `after`
 * gets TEST_TIMEOUT_MS (default 120 s) unless it passes its own `timeout`. Test files import
 * from here, never from node:test directly (scripts/test.mjs refuses them).
 */
import * as nodeTest from 'node:test';

const DEFAULT_TIMEOUT_MS = Number(process.env['TEST_TIMEOUT_MS'] ?? 120_000);

type TestFn = nodeTest.TestFn;
type HookFn = nodeTest.HookFn;
type TestOptions = nodeTest.TestOptions;

function withDeadline(options: TestOptions | undefined): TestOptions {
  return { ...options, timeout: options?.timeout ?? DEFAULT_TIMEOUT_MS };
}

/** `it(name, fn)` or `it(name, options, fn)`, with the default timeout unless options set one. */
export function it(name: string, optionsOrFn: TestOptions | TestFn, fn?: TestFn): Promise<void> {
  if (typeof optionsOrFn === 'function') return nodeTest.it(name, withDeadline(undefined), optionsOrFn);
  return nodeTest.it(name, withDeadline(optionsOrFn), fn);
}

export function before(fn: HookFn, options?: nodeTest.HookOptions): void {
  nodeTest.before(fn, { ...options, timeout: options?.timeout ?? DEFAULT_TIMEOUT_MS });
}

export function after(fn: HookFn, options?: nodeTest.HookOptions): void {
  nodeTest.after(fn, { ...options, timeout: options?.timeout ?? DEFAULT_TIMEOUT_MS });
}

export function beforeEach(fn: HookFn, options?: nodeTest.HookOptions): void {
  nodeTest.beforeEach(fn, { ...options, timeout: options?.timeout ?? DEFAULT_TIMEOUT_MS });
}

export function afterEach(fn: HookFn, options?: nodeTest.HookOptions): void {
  nodeTest.afterEach(fn, { ...options, timeout: options?.timeout ?? DEFAULT_TIMEOUT_MS });
}

/** Suites need no deadline of their own: each test and hook in them has one. */
export const describe = nodeTest.describe;

/**
 * Waits until `check` returns a value other than undefined (or false), polling every `everyMs`;
 * throws naming `what` after `withinMs`. The bound turns a hang into a failure, it is not a
 * timing assertion: a busy machine only makes the wait longer.
 * @example const row = await eventually('the job is dead', () => selectJob(db, id).then((j) => j?.state === 'dead' ? j : undefined));
 */
export async function eventually<T>(
  what: string,
  check: () => Promise<T | undefined | false> | T | undefined | false,
  options: { withinMs?: number; everyMs?: number } = {},
): Promise<T> {
  const deadline = Date.now() + (options.withinMs ?? 30_000);
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, options.everyMs ?? 50));
  }
}

/** For tests that run several processes or thousands of requests: still a bound, a wider one. */
export const LONG_TEST_MS = 600_000;
