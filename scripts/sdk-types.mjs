// Rewrites packages/sdk/src/types.ts from the server's contract (run through `npm run sdk:types`).
// test/sdk/contract-types.test.ts fails when the file and the contract differ.
import { readFileSync, writeFileSync } from 'node:fs';
import { renderSdkTypes } from '../dist/src/contract/sdk-types.js';

const path = new URL('../packages/sdk/src/types.ts', import.meta.url);
const before = readFileSync(path, 'utf8');
const after = renderSdkTypes();
if (after === before) {
  console.log('packages/sdk/src/types.ts is up to date');
} else {
  writeFileSync(path, after);
  console.log('packages/sdk/src/types.ts rewritten from src/contract/');
}
