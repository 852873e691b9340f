/** Prints the table of a results file again: node dist/bench/render.js [bench/results/latest.json]. */
import { readFileSync } from 'node:fs';
import { renderMachine, renderTable, type BenchResults } from './report.js';

const results = JSON.parse(readFileSync(process.argv[2] ?? 'bench/results/latest.json', 'utf8')) as BenchResults;
process.stdout.write(
  `${renderMachine(results)}\n\n${renderTable(results)}\n\nRSS (MB): ${JSON.stringify(results.rss)}\n`,
);
