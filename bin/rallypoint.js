#!/usr/bin/env node
// The `rallypoint` command npm links (node_modules/.bin, a global install, npx). It is a
// committed file rather than build output so the link npm makes always has a target: npx run in
// a clone caches its link the first time, and a link made before `npm run build` would otherwise
// point at nothing for good ("rallypoint: not found").
import { existsSync } from 'node:fs';

const cli = new URL('../dist/src/cli/main.js', import.meta.url);
if (!existsSync(cli)) {
  process.stderr.write(
    `rallypoint: not built yet; run 'npm run build' in ${decodeURIComponent(new URL('..', import.meta.url).pathname)}\n`,
  );
  process.exit(1);
}
const { runFromProcess } = await import(cli.href);
runFromProcess();
