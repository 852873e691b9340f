/**
 * Top self-time functions of a .cpuprofile: node dist/bench/profile-top.js <file> [count] [seconds] [skip].
 * With `seconds`, only the busiest window of that length counts (the saturated run of a scenario,
 * not the seeding or the idle watch), and shares are of the samples that were not idle; `skip`
 * seconds from the start are left out (the server's start, 20 by default).
 */
import { readFileSync } from 'node:fs';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}
interface Profile {
  nodes: Node[];
  samples?: number[];
  timeDeltas?: number[];
}
const [file, count = '25', seconds, skip = '20'] = process.argv.slice(2);
if (!file) throw new Error('usage: profile-top <file.cpuprofile> [count] [seconds]');
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const nameOf = (n: Node) => {
  const where = n.callFrame.url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*\/dist\//, '');
  return `${n.callFrame.functionName || '(anonymous)'} ${where}:${n.callFrame.lineNumber + 1}`;
};
const byId = new Map(profile.nodes.map((n) => [n.id, n]));

/** Hits per node id: all of them, or those of the busiest window. */
function hitsOf(): Map<number, number> {
  if (!seconds || !profile.samples || !profile.timeDeltas)
    return new Map(profile.nodes.map((n) => [n.id, n.hitCount ?? 0]));
  const samples = profile.samples;
  const times: number[] = [];
  let t = 0;
  for (const delta of profile.timeDeltas) times.push((t += delta));
  const busy = samples.map((id) => (byId.get(id)?.callFrame.functionName === '(idle)' ? 0 : 1));
  const windowUs = Number(seconds) * 1e6;
  const first = Math.max(
    0,
    times.findIndex((time) => time >= Number(skip) * 1e6),
  );
  let [best, bestStart, start, inWindow] = [0, first, first, 0];
  for (let end = first; end < samples.length; end++) {
    inWindow += busy[end]!;
    while (times[end]! - times[start]! > windowUs) inWindow -= busy[start++]!;
    if (inWindow > best) [best, bestStart] = [inWindow, start];
  }
  const hits = new Map<number, number>();
  for (let i = bestStart; i < samples.length && times[i]! - times[bestStart]! <= windowUs; i++) {
    if (busy[i]) hits.set(samples[i]!, (hits.get(samples[i]!) ?? 0) + 1);
  }
  return hits;
}

const hits = hitsOf();
const total = [...hits.values()].reduce((sum, n) => sum + n, 0);
const byFunction = new Map<string, number>();
for (const [id, n] of hits) {
  const name = nameOf(byId.get(id)!);
  byFunction.set(name, (byFunction.get(name) ?? 0) + n);
}
for (const [name, n] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, Number(count))) {
  process.stdout.write(`${((n / total) * 100).toFixed(1).padStart(5)}%  ${name}\n`);
}
/** Self time by where the code lives: a first answer to "what dominates". */
const byArea = new Map<string, number>();
for (const [id, n] of hits) {
  const url = byId.get(id)!.callFrame.url;
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1];
  const area =
    pkg ??
    (/\/dist\/src\/([^/]+)/.exec(url)?.[1]
      ? `src/${/\/dist\/src\/([^/]+)/.exec(url)![1]}`
      : url.startsWith('node:')
        ? 'node'
        : byId.get(id)!.callFrame.functionName || 'native');
  byArea.set(area, (byArea.get(area) ?? 0) + n);
}
process.stdout.write(`\nby area (${total} samples):\n`);
for (const [area, n] of [...byArea].sort((a, b) => b[1] - a[1]).slice(0, 20)) {
  process.stdout.write(`${((n / total) * 100).toFixed(1).padStart(5)}%  ${area}\n`);
}
