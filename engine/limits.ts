/**
 * The accepted range of every numeric option, in one table: the CLI's option parsers, its
 * `--help` texts and the API's checks all read it, so a range is stated once and the same
 * everywhere. Lengths are bounded so no option can make a window larger than memory; the
 * Rust core checks the same bound (`kernel::MAX_LENGTH`).
 */
import { invalidParam } from './errors.js';

export interface Range {
  min: number;
  max: number;
  integer: boolean;
}

const int = (min: number, max: number): Range => ({ min, max, integer: true });
const real = (min: number, max: number): Range => ({ min, max, integer: false });

/** The longest moving-average length, window or cutout anywhere in barstream. */
export const MAX_LENGTH = 1_000_000;

export const LIMITS = {
  length: int(1, MAX_LENGTH),
  cutout: int(0, MAX_LENGTH),
  /** Return growth in user units (`la = lambda / 1000` per bar). */
  lambda: real(0, 1),
  /** Equity decay per bar, percent. */
  decay: real(0, 100),
  /** `|Average_Signal|` lies in [0, 1]. */
  minSignal: real(0, 1),
  /** 10,000 bps = the whole position's value per unit of change. */
  feeBps: real(0, 10_000),
  top: int(1, 1_000_000),
  threads: int(1, 1024),
  buckets: int(1, 1_000_000),
  maxRows: int(1, 1_000_000_000),
  symbols: int(1, 26 ** 5),
  /** Bars per generated symbol (the generator holds one symbol's bars at a time). */
  bars: int(1, 10_000_000),
  seed: int(0, Number.MAX_SAFE_INTEGER),
  /** A screen's or backtest's time budget per symbol, in milliseconds (up to a day). */
  symbolTimeoutMs: int(1, 86_400_000),
  /** Shards of one job (`--shard i/N`): at most one per bucket is useful, and buckets are at most this many. */
  shardCount: int(1, 1_000_000),
} satisfies Record<string, Range>;

export type LimitName = keyof typeof LIMITS;

/** `1 to 1000000` / `0 to 1`: the range as written in messages and `--help`. */
export function rangeText(r: Range): string {
  return `${r.integer ? 'an integer' : 'a number'} from ${r.min} to ${r.max}`;
}

/**
 * Checks `value` against `range`; the message names `label` and the range.
 * @throws BarstreamError `BARSTREAM_INVALID_PARAM`.
 * @example
 * checkRange('feeBps', 5, LIMITS.feeBps);
 */
export function checkRange(label: string, value: unknown, range: Range): number {
  const ok = typeof value === 'number' && Number.isFinite(value) && (!range.integer || Number.isInteger(value)) && value >= range.min && value <= range.max;
  if (!ok) throw invalidParam(`${label} must be ${rangeText(range)}, got ${typeof value === 'string' ? `'${value}'` : String(value)}`);
  return value as number;
}

/**
 * Parses a command-line value as a number in `range`: `''`, `abc`, `NaN` and values outside
 * the range are refused with the range in the message (`1e6` is read as 1000000).
 * @throws BarstreamError `BARSTREAM_INVALID_PARAM`.
 */
export function parseInRange(label: string, text: string, range: Range): number {
  const t = text.trim();
  const n = t === '' || !/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(t) ? NaN : Number(t);
  if (Number.isNaN(n)) throw invalidParam(`${label} must be ${rangeText(range)}, got '${text}'`);
  return checkRange(label, n, range);
}

/** The ATC parameters a job accepts, checked against {@link LIMITS} (the Rust core checks the rest). */
export function checkStrategy(p: { length?: number; lambda?: number; decay?: number; cutout?: number } | undefined): void {
  if (p === undefined) return;
  if (p === null || typeof p !== 'object') throw invalidParam('strategy must be an object of ATC parameters');
  if (p.length !== undefined) checkRange('strategy.length', p.length, LIMITS.length);
  if (p.lambda !== undefined) checkRange('strategy.lambda', p.lambda, LIMITS.lambda);
  if (p.decay !== undefined) checkRange('strategy.decay', p.decay, LIMITS.decay);
  if (p.cutout !== undefined) checkRange('strategy.cutout', p.cutout, LIMITS.cutout);
}

/**
 * Checks a shard `{ index, count }`: `count` in `LIMITS.shardCount`, `index` a whole number with
 * `0 <= index < count`. The message names both numbers and where they came from (`given`).
 * @throws BarstreamError `BARSTREAM_INVALID_PARAM`.
 * @example
 * checkShard({ index: 3, count: 3 }, '--shard 3/3'); // throws: shard index 3 is not below the count 3 ...
 */
export function checkShard(s: { index?: unknown; count?: unknown } | undefined, given = 'shard'): void {
  if (s === null || typeof s !== 'object') throw invalidParam(`${given}: shard must be { index, count }`);
  const r = LIMITS.shardCount;
  const { index, count } = s;
  if (typeof count !== 'number' || !Number.isInteger(count) || count < r.min || count > r.max) {
    throw invalidParam(`${given}: the shard count must be ${rangeText(r)}, got ${String(count)}`);
  }
  if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index >= count) {
    throw invalidParam(`${given}: shard index ${String(index)} is out of range for ${count} shards: shards are numbered 0 to ${count - 1} (0 <= i < N)`);
  }
}
