/**
 * Code and docs point to sections of docs/wire-contract.md by anchor; a renamed or removed anchor
 * would leave those pointers dangling without anyone noticing.
 */
import { describe, it } from '../support/node-test.js';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const CONTRACT = 'docs/wire-contract.md';
const SCANNED = ['src', 'test', 'bench', 'examples', 'scripts', 'docs', 'README.md'];

function filesUnder(path: string): string[] {
  const entries = readdirSync(path, { withFileTypes: true });
  return entries.flatMap((entry) => {
    const child = join(path, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' ? [] : filesUnder(child);
    return /\.(ts|mjs|js|sql|md)$/.test(entry.name) ? [child] : [];
  });
}

function anchorsOf(markdown: string): Set<string> {
  return new Set([...markdown.matchAll(/<a id="([a-z0-9-]+)"><\/a>/g)].map((match) => match[1]!));
}

/** Anchors named after `wire-contract.md#`, and the further `#anchor`s of a list (`#session-list and #bulk-stop`). */
function pointersIn(text: string): string[] {
  const found: string[] = [];
  for (const match of text.matchAll(/wire-contract\.md#([a-z0-9-]+)((?:(?:,| and| or) #[a-z0-9-]+)*)/g)) {
    found.push(match[1]!, ...[...(match[2] ?? '').matchAll(/#([a-z0-9-]+)/g)].map((more) => more[1]!));
  }
  return found;
}

describe('wire contract pointers', () => {
  it('every pointer names an anchor of docs/wire-contract.md', () => {
    const anchors = anchorsOf(readFileSync(CONTRACT, 'utf8'));
    assert.ok(anchors.has('placement') && anchors.has('general'), 'the contract defines its anchors');
    const files = SCANNED.flatMap((path) => (path.endsWith('.md') ? [path] : filesUnder(path)));
    const dangling: string[] = [];
    let pointers = 0;
    for (const file of files) {
      for (const anchor of pointersIn(readFileSync(file, 'utf8'))) {
        pointers += 1;
        if (!anchors.has(anchor)) dangling.push(`${file}: #${anchor}`);
      }
    }
    assert.deepEqual(dangling, []);
    assert.ok(pointers >= 10, `found only ${pointers} pointers; is the scan looking in the right place?`);
  });

  it('nothing cites a wire document by section number', () => {
    const files = ['src', 'test', 'bench', 'examples'].flatMap(filesUnder).concat(['README.md']);
    const cited = files.filter((file) => /CONTRACT \u00a7/.test(readFileSync(file, 'utf8')));
    assert.deepEqual(cited, []);
  });
});
