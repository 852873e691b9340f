/**
 * Top self-time functions of a .cpuprofile: node dist/bench/profile-top.js <file> [count].
 */
import { readFileSync } from 'node:fs';

interface Node { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount?: number }
const [file, count = '25'] = process.argv.slice(2);
if (!file) throw new Error('usage: profile-top <file.cpuprofile> [count]');
const profile = JSON.parse(readFileSync(file, 'utf8')) as { nodes: Node[] };
const total = profile.nodes.reduce((sum, n) => sum + (n.hitCount ?? 0), 0);
const byFunction = new Map<string, number>();
for (const n of profile.nodes) {
  const where = n.callFrame.url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*\/dist\//, '');
  const name = `${n.callFrame.functionName || '(anonymous)'} ${where}:${n.callFrame.lineNumber + 1}`;
  byFunction.set(name, (byFunction.get(name) ?? 0) + (n.hitCount ?? 0));
}
for (const [name, hits] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, Number(count))) {
  process.stdout.write(`${((hits / total) * 100).toFixed(1).padStart(5)}%  ${name}\n`);
}
