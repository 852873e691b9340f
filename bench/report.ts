/** The results' shape, the stdout table (also pasted into the README) and the JSON file. */
import { mkdirSync, writeFileSync } from 'node:fs';
import type { CeilingFigures } from './db-ceiling.js';
import type { Figures, ScenarioFigures } from './load.js';

export interface ScenarioResult extends Partial<ScenarioFigures> {
  engine: 'postgres' | 'embedded' | 'none';
  name: string;
  /** Which ceiling the ratio is taken against. */
  boundBy?: 'http' | 'db';
  ratio?: number;
  note?: string;
}

export interface BenchResults {
  machine: Record<string, string | number>;
  settings: Record<string, string | number>;
  /** db: the fair ceiling (1,000 rows, named statements); dbContended: 10 rows every worker fights over. */
  ceilings: {
    http?: ScenarioFigures;
    db?: CeilingFigures;
    dbContended?: CeilingFigures;
    dbWithEvents?: CeilingFigures;
  };
  scenarios: ScenarioResult[];
  scale: Array<{
    deployments: number;
    places: number;
    liveSessions: number;
    create: ScenarioFigures;
    rssMb: number | null;
  }>;
  rss: Record<string, number | null>;
  /** % of one core used by each process while the server was idle, by engine. */
  idleCpuPercent: Record<string, Record<string, number>>;
  goals: Array<{ goal: string; figure: string; met: boolean }>;
}

const n = (value: number | undefined) => (value === undefined ? '' : value.toLocaleString('en-US'));
const ms = (value: number | undefined) => (value === undefined ? '' : value < 10 ? value.toFixed(1) : value.toFixed(0));
const pct = (value: number | undefined) => (value === undefined ? '' : `${Math.round(value * 100)}%`);

function row(cells: string[]): string {
  return `| ${cells.join(' | ')} |`;
}

/** Achieved rate first: below the offered rate the server was saturated and latencies are queueing. */
function latency(f: Figures | undefined): string[] {
  return [n(f?.rps), ms(f?.p50Ms), ms(f?.p99Ms), ms(f?.maxMs)];
}

export function renderTable(results: BenchResults): string {
  const rate = `@${n(Number(results.settings['fixedRate']))}/s`;
  const lines = [
    row([
      'engine',
      'scenario',
      'req/s saturated (64 conn)',
      `req/s achieved ${rate} offered`,
      `p50 ms ${rate}`,
      `p99 ms ${rate}`,
      `max ms ${rate}`,
      'ratio to ceiling',
      'notes',
    ]),
    row(Array(9).fill('---')),
  ];
  const http = results.ceilings.http;
  if (http)
    lines.push(
      row([
        '-',
        'ceiling: bare Fastify GET',
        n(http.saturated.rps),
        ...latency(http.atFixedRate),
        '100% (http)',
        'constant JSON, separate process',
      ]),
    );
  const db = results.ceilings.db;
  if (db)
    lines.push(
      row([
        'postgres',
        'ceiling: bare seat tx (fair)',
        n(db.txPerSecond),
        '',
        ms(db.p50Ms),
        ms(db.p99Ms),
        '',
        '100% (db)',
        `tx/s, ${results.settings['poolSize']} workers = pool size, 1,000 rows, named statements; latencies at saturation`,
      ]),
    );
  const contended = results.ceilings.dbContended;
  if (contended && db) {
    lines.push(
      row([
        'postgres',
        'diagnostic: seat tx, 10 rows (contended)',
        n(contended.txPerSecond),
        '',
        ms(contended.p50Ms),
        ms(contended.p99Ms),
        '',
        `${pct(contended.txPerSecond / db.txPerSecond)} (db)`,
        'the older ceiling: unnamed statements, a pick that sorts the rows, 10 rows for 10 workers',
      ]),
    );
  }
  const events = results.ceilings.dbWithEvents;
  if (events && db) {
    lines.push(
      row([
        'postgres',
        'diagnostic: seat tx + 4 event rows',
        n(events.txPerSecond),
        '',
        ms(events.p50Ms),
        ms(events.p99Ms),
        '',
        `${pct(events.txPerSecond / db.txPerSecond)} (db)`,
        'the event rows a create writes, in one statement, into a copy of the event log (not numbered)',
      ]),
    );
  }
  for (const s of results.scenarios) {
    const errors =
      (s.saturated?.non2xx ?? 0) +
      (s.saturated?.errors ?? 0) +
      (s.atFixedRate?.non2xx ?? 0) +
      (s.atFixedRate?.errors ?? 0);
    const cpu = s.cpuPerRequestMs
      ? `CPU/req net of idle ${Object.entries(s.cpuPerRequestMs)
          .map(([k, v]) => `${k} ${v} ms`)
          .join(', ')}`
      : '';
    const note = [s.note, cpu, errors > 0 ? `${errors} non-2xx/errors` : ''].filter(Boolean).join('; ');
    lines.push(
      row([
        s.engine,
        s.name,
        n(s.saturated?.rps),
        ...latency(s.atFixedRate),
        s.ratio === undefined ? '' : `${pct(s.ratio)} (${s.boundBy})`,
        note,
      ]),
    );
  }
  for (const s of results.scale) {
    lines.push(
      row([
        'postgres',
        `scale: create, ${n(s.deployments)} deployments, ${n(s.places)} places`,
        n(s.create.saturated.rps),
        ...latency(s.create.atFixedRate),
        '',
        `${n(s.liveSessions)} live sessions; server RSS ${s.rssMb ?? '?'} MB`,
      ]),
    );
  }
  lines.push('', row(['goal', 'measured', 'met']), row(['---', '---', '---']));
  for (const g of results.goals) lines.push(row([g.goal, g.figure, g.met ? 'yes' : 'no']));
  return lines.join('\n');
}

export function renderMachine(results: BenchResults): string {
  return Object.entries(results.machine)
    .map(([k, v]) => `- ${k}: ${v}`)
    .join('\n');
}

export function writeJson(path: string, results: BenchResults): void {
  mkdirSync(new URL('.', `file://${path}`).pathname, { recursive: true });
  writeFileSync(path, `${JSON.stringify(results, null, 2)}\n`);
}
