// tsc compiles TypeScript only; the SQL migrations and static files are copied beside the output.
import { cp } from 'node:fs/promises';

const assets = [
  ['src/db/migrations', 'dist/src/db/migrations'],
];
for (const [from, to] of assets) await cp(from, to, { recursive: true });
