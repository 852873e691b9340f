// Lint rules that catch bugs, not style: formatting belongs to Prettier (npm run format).
// Type-aware rules (floating promises, misused promises, awaiting non-promises) read the types
// through tsconfig.json; they cost most of the lint time and catch the bugs that matter most in a
// service built on async I/O: a promise nobody awaits loses its error and its ordering.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const readonly = (names) => Object.fromEntries(names.map((name) => [name, 'readonly']));
const SHARED_GLOBALS = [
  'console',
  'URL',
  'URLSearchParams',
  'setTimeout',
  'clearTimeout',
  'setInterval',
  'clearInterval',
  'fetch',
  'AbortController',
  'AbortSignal',
  'TextEncoder',
  'TextDecoder',
  'structuredClone',
  'queueMicrotask',
];
const NODE_GLOBALS = readonly([...SHARED_GLOBALS, 'process', 'Buffer', 'setImmediate']);
const BROWSER_GLOBALS = readonly([
  ...SHARED_GLOBALS,
  'window',
  'document',
  'localStorage',
  'sessionStorage',
  'location',
  'history',
  'navigator',
  'EventSource',
  'requestAnimationFrame',
  'cancelAnimationFrame',
  'HTMLElement',
  'Element',
  'Node',
  'Event',
  'CustomEvent',
  'getComputedStyle',
  'matchMedia',
  'performance',
  'devicePixelRatio',
  'ResizeObserver',
  'Option',
  'TextDecoderStream',
  'alert',
  'confirm',
  'prompt',
]);

export default tseslint.config(
  { ignores: ['dist/', 'packages/*/dist/', 'node_modules/', 'data/', '**/*.d.ts'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' },
      ],
      'no-constant-condition': ['error', { checkLoops: false }],
      eqeqeq: ['error', 'always', { null: 'ignore' }],
      // Engine and driver errors are rewritten into one sentence for operators, sometimes with
      // secrets scrubbed from them; attaching the raw error as `cause` would carry those into logs.
      'preserve-caught-error': 'off',
    },
  },
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // node:test registers describe/it synchronously; the promises they return need no await.
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            {
              from: 'package',
              package: 'node:test',
              name: ['describe', 'it', 'test', 'suite', 'before', 'after', 'beforeEach', 'afterEach'],
            },
            // The same functions with a deadline on every test; test files import them from here.
            {
              from: 'file',
              path: 'test/support/node-test.ts',
              name: ['describe', 'it', 'before', 'after', 'beforeEach', 'afterEach'],
            },
          ],
        },
      ],
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
    },
  },
  {
    // Tests send malformed input on purpose and read loosely typed answers; `any` says so.
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    files: ['bin/**/*.js', 'scripts/**/*.mjs', 'examples/**/*.mjs', 'sdk-consumer/**/*.mjs', 'eslint.config.js'],
    languageOptions: { globals: NODE_GLOBALS },
  },
  {
    files: ['src/dashboard/**/*.js'],
    languageOptions: { globals: BROWSER_GLOBALS },
  },
);
