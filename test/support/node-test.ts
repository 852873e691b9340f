/**
 * node:test with a deadline on every test and hook. Node 20's --test-timeout bounds a whole file,
 * so a hang would fail the file without naming the test; here each `it`, `before` and `after`
 * gets TEST_TIMEOUT_MS (default 120 s) unless it or its suite sets a `timeout`. Test files import
 * from here, never from node:test directly (scripts/test.mjs refuses them).
 */
import * as nodeTest from 'node:test';

const DEFAULT_TIMEOUT_MS = Number(process.env['TEST_TIMEOUT_MS'] ?? 120_000);

type TestFn = nodeTest.TestFn;
type HookFn = nodeTest.HookFn;
type TestOptions = nodeTest.TestOptions;

/**
 * Timeouts of the suites being declared, innermost last. A suite's own timeout is the default of
 * its tests and hooks (what node:test does when no test sets one), so a suite of slow tests
 * keeps the bound it chose.
 */
const suiteTimeouts: number[] = [];
const defaultTimeoutMs = () => suiteTimeouts.at(-1) ?? DEFAULT_TIMEOUT_MS;

function withDeadline(options: TestOptions | undefined): TestOptions {
  return { ...options, timeout: options?.timeout ?? defaultTimeoutMs() };
}

/** `it(name, fn)` or `it(name, options, fn)`, with the default timeout unless options set one. */
export function it(name: string, optionsOrFn: TestOptions | TestFn, fn?: TestFn): Promise<void> {
  if (typeof optionsOrFn === 'function') return nodeTest.it(name, withDeadline(undefined), optionsOrFn);
  return nodeTest.it(name, withDeadline(optionsOrFn), fn);
}

export function before(fn: HookFn, options?: nodeTest.HookOptions): void {
  nodeTest.before(fn, { ...options, timeout: options?.timeout ?? defaultTimeoutMs() });
}

export function after(fn: HookFn, options?: nodeTest.HookOptions): void {
  nodeTest.after(fn, { ...options, timeout: options?.timeout ?? defaultTimeoutMs() });
}

export function beforeEach(fn: HookFn, options?: nodeTest.HookOptions): void {
  nodeTest.beforeEach(fn, { ...options, timeout: options?.timeout ?? defaultTimeoutMs() });
}

export function afterEach(fn: HookFn, options?: nodeTest.HookOptions): void {
  nodeTest.afterEach(fn, { ...options, timeout: options?.timeout ?? defaultTimeoutMs() });
}

type SuiteFn = (suite: nodeTest.SuiteContext) => void | Promise<void>;

/** `describe(name, fn)` or `describe(name, options, fn)`; its `timeout` becomes its tests' default. */
export function describe(name: string, optionsOrFn: TestOptions | SuiteFn, fn?: SuiteFn): Promise<void> {
  const options = typeof optionsOrFn === 'function' ? {} : optionsOrFn;
  const body = (typeof optionsOrFn === 'function' ? optionsOrFn : fn)!;
  return nodeTest.describe(name, options, (suite) => {
    // The body declares the suite's tests synchronously, inside this push and pop.
    if (options.timeout !== undefined) suiteTimeouts.push(options.timeout);
    try {
      return body(suite);
    } finally {
      if (options.timeout !== undefined) suiteTimeouts.pop();
    }
  });
}

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
