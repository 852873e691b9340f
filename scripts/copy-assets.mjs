// tsc compiles TypeScript only; the SQL migrations and static files are copied beside the output.
import { existsSync } from 'node:fs';
import { cp } from 'node:fs/promises';

const assets = [
  ['src/db/migrations', 'dist/src/db/migrations'],
  ['src/dashboard', 'dist/src/dashboard'],
];
for (const [from, to] of assets) if (existsSync(from)) await cp(from, to, { recursive: true });
