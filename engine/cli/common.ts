/** What every CLI command shares: option parsing against the ranges of `limits.ts`, and error reporting. */
import { Command, InvalidArgumentError } from 'commander';
import { LIMITS, LimitName, parseInRange, Range, rangeText } from '../limits.js';
import { reportFailure } from './failure.js';
import type { UpdateSummaryBase } from '../update.js';

/** The range each parser enforces, so `--help` can state it (see {@link describeRanges}). */
const RANGES = new WeakMap<(v: string) => number, Range>();

/** `--max-rows` -> `maxRows`. */
function limitName(option: string): LimitName {
  const key = option.replace(/^--/, '').replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
  if (!(key in LIMITS)) throw new Error(`no range is defined for ${option} in engine/limits.ts`);
  return key as LimitName;
}

function parser(name: string, range: Range): (v: string) => number {
  const parse = (value: string): number => {
    try {
      return parseInRange(name, value, range);
    } catch (e) {
      throw new InvalidArgumentError((e as Error).message);
    }
  };
  RANGES.set(parse, range);
  return parse;
}

/** A parser for an integer option whose range is `LIMITS[<option name>]` (e.g. `--length`). */
export function intOption(name: string): (v: string) => number {
  const range = LIMITS[limitName(name)];
  if (!range.integer) throw new Error(`${name} is not an integer option`);
  return parser(name, range);
}

/** A parser for a real-valued option whose range is `LIMITS[<option name>]` (e.g. `--fee-bps`). */
export function numberOption(name: string): (v: string) => number {
  return parser(name, LIMITS[limitName(name)]);
}

/** Appends each ranged option's accepted range to its `--help` text, in every command. */
export function describeRanges(cmd: Command): void {
  for (const opt of cmd.options) {
    const range = opt.parseArg ? RANGES.get(opt.parseArg as (v: string) => number) : undefined;
    if (range && !opt.description.includes(' from ')) opt.description += ` (${rangeText(range)})`;
  }
  for (const sub of cmd.commands) describeRanges(sub);
}

/** Runs a command body; any failure prints one line to stderr and exits 1 (see `failure.ts`). */
export function action<A extends unknown[]>(body: (...args: A) => Promise<void>) {
  return async (...args: A): Promise<void> => {
    try {
      await body(...args);
    } catch (e) {
      reportFailure(e);
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

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * Parses a duration such as `60s`, `500ms`, `2m` or `1h` into milliseconds, within
 * `LIMITS.symbolTimeoutMs` (1 ms to 24 h).
 * @throws InvalidArgumentError naming the option and the accepted forms.
 * @example
 * durationOption('--symbol-timeout')('2m'); // 120000
 */
export function durationOption(name: string): (v: string) => number {
  return (value: string): number => {
    const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)\s*$/.exec(value);
    const ms = m ? Number(m[1]) * UNITS[m[2]] : NaN;
    const r = LIMITS.symbolTimeoutMs;
    if (!m || !Number.isInteger(ms) || ms < r.min || ms > r.max) {
      throw new InvalidArgumentError(`${name} must be a duration from 1ms to 24h such as 60s, 500ms or 2m, got '${value}'`);
    }
    return ms;
  };
}

/**
 * The line an update prints: up to date, or what it read and changed, then `rest` (what the
 * job's own tables gained).
 */
export function updateLine(out: string, u: UpdateSummaryBase, rest: string): string {
  const n = (x: number) => x.toLocaleString('en-US');
  if (u.newFiles.length === 0) return `${out} is up to date (generation ${u.generation}): the dataset has no files it did not read\n`;
  return `updated ${out} to generation ${u.generation}: ${n(u.barsRead)} new bars from ${u.newFiles.length} file(s), ${n(u.symbolsAdded)} new symbol(s), ${n(u.symbolsUpdated)} updated, ${rest}\n`;
}
