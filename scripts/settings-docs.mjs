// Rewrites the README's settings table from the settings schema (run through `npm run docs:settings`).
// test/config/settings-docs.test.ts fails when the README and the schema differ.
import { readFileSync, writeFileSync } from 'node:fs';
import { replaceSettingsTable } from '../dist/src/config-docs.js';

const path = new URL('../README.md', import.meta.url);
const before = readFileSync(path, 'utf8');
const after = replaceSettingsTable(before);
if (after === before) {
  console.log('README.md settings table is up to date');
} else {
  writeFileSync(path, after);
  console.log('README.md settings table rewritten from src/config-schema.ts');
}
