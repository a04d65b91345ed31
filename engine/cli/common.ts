/** What every CLI command shares: option parsing and error reporting. */
import { InvalidArgumentError } from 'commander';
import { BarstreamError } from '../errors.js';

export function intOption(name: string, min = 1) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^-?\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min) {
      throw new InvalidArgumentError(`${name} must be an integer >= ${min}, got '${value}'`);
    }
    return n;
  };
}

/** Runs a command body; a `BarstreamError` prints one line to stderr and exits 1. */
export function action<A extends unknown[]>(body: (...args: A) => Promise<void>) {
  return async (...args: A): Promise<void> => {
    try {
      await body(...args);
    } catch (e) {
      if (e instanceof BarstreamError) {
        process.stderr.write(`barstream: ${e.message} (${e.code})\n`);
        process.exitCode = 1;
        return;
      }
      throw e;
    }
  };
}

export function formatRate(rows: number, ms: number): string {
  const perSec = rows / Math.max(ms / 1000, 1e-9);
  return perSec >= 1e6 ? `${(perSec / 1e6).toFixed(1)} M bars/s` : `${(perSec / 1e3).toFixed(1)} k bars/s`;
}

/** A plain text table with right-aligned numeric columns. */
export function table(headers: string[], rows: (string | number)[][]): string {
  const cells = [headers, ...rows.map((r) => r.map(String))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => r[i].length)));
  const numeric = headers.map((_, i) => rows.every((r) => typeof r[i] === 'number'));
  const line = (r: string[]) => r.map((c, i) => (numeric[i] ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ');
  return [line(cells[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n');
}
