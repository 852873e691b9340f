/** Human output: aligned tables and key/value blocks; `--json` bypasses both. */
import type { CommandContext } from './command.js';

export type Cell = string | number | boolean | undefined | null;

function text(cell: Cell): string {
  if (cell === undefined || cell === null || cell === '') return '-';
  return String(cell);
}

/** An aligned table with a header row; an empty list prints "(none)". */
export function table(headers: string[], rows: Cell[][]): string {
  if (rows.length === 0) return `${headers.join('  ')}\n(none)\n`;
  const cells = rows.map((row) => row.map(text));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((row) => (row[i] ?? '').length)));
  const line = (row: string[]) =>
    row
      .map((c, i) => (i === row.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(headers), ...cells.map(line)].join('\n') + '\n';
}

/** `label: value` lines, labels aligned. */
export function details(pairs: Array<[string, Cell]>): string {
  const width = Math.max(...pairs.map(([label]) => label.length));
  return pairs.map(([label, value]) => `${`${label}:`.padEnd(width + 2)}${text(value)}`).join('\n') + '\n';
}

/** Prints `value` as JSON with --json, else the human rendering. */
export function emit(ctx: CommandContext, value: unknown, human: () => string): void {
  ctx.io.stdout(ctx.isJson ? `${JSON.stringify(value, null, 2)}\n` : human());
}
