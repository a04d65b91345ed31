/**
 * The ATC scan: for every symbol, the latest `Average_Signal`; the strong ones listed as
 * long or short, sorted by strength.
 */
import { join } from 'node:path';
import type { Engine } from './engine.js';
import { invalidParam } from './errors.js';
import { JobControl, runJob } from './jobs.js';
import type { AtcParams } from './kernels.js';
import { writeParquet } from './parquet.js';
import { checkSource, withOrderFallback } from './partitions.js';

export interface ScanOptions extends JobControl {
  /** SQL over `bars` (run per bucket); default every bar. */
  sql?: string;
  /** ATC parameters (spec defaults). */
  strategy?: AtcParams;
  /** `|signal|` at least this to be listed (0.1). */
  minSignal?: number;
  /** List at most this many on each side (default all). */
  top?: number;
  /** Also write every symbol's result to `out/scan.parquet`. */
  out?: string;
}

export interface ScanEntry {
  symbol: string;
  signal: number;
  close: number;
  ts: Date;
  bars: number;
}

export interface ScanResult {
  long: ScanEntry[];
  short: ScanEntry[];
  processed: number;
  skipped: { symbol: string; reason: string }[];
  failed: { symbol: string; /** `input`: its rows (a duplicate timestamp, a NULL); `kernel`: its prices. */ stage: 'input' | 'kernel'; message: string }[];
  /** Rows the dataset's ingest rejected (from its metadata). */
  rejectedRows: number;
  elapsedMs: number;
  /** Every processed symbol, in dataset order. */
  symbols: ScanEntry[];
  /** How many symbols qualify on each side before `top` cuts the lists. */
  qualifying: { long: number; short: number };
  /** True when the source was not in (symbol, ts) order and DuckDB sorted it. */
  sorted: boolean;
}

interface NativeScan {
  processed: { symbol: string; bars: number; signal: number; close: number; ts: number }[];
  skipped: { symbol: string; reason: string }[];
  failed: { symbol: string; /** `input`: its rows (a duplicate timestamp, a NULL); `kernel`: its prices. */ stage: 'input' | 'kernel'; message: string }[];
}

/** Runs the scan; see `Engine.scan`. */
export async function scan(engine: Engine, opts: ScanOptions = {}): Promise<ScanResult> {
  const minSignal = opts.minSignal ?? 0.1;
  if (!Number.isFinite(minSignal) || minSignal < 0) throw invalidParam(`minSignal must be a number >= 0, got ${minSignal}`);
  if (opts.top !== undefined && (!Number.isInteger(opts.top) || opts.top < 1)) throw invalidParam(`top must be a positive integer, got ${opts.top}`);
  const t0 = performance.now();
  checkSource(engine.db, opts.sql, engine.partitions({ sql: opts.sql, columns: ['close'], sorted: false })[0], ['close']);
  const { result: r, sorted } = await withOrderFallback((order) =>
    runJob<NativeScan>(
      (job) =>
        engine.db.scan(
          { partitions: engine.partitions({ sql: opts.sql, columns: ['close'], sorted: order }).map((p) => p.sql), params: opts.strategy, workers: engine.threads },
          job,
        ),
      engine.metadata?.symbols ?? 0,
      opts,
    ),
  );
  const symbols: ScanEntry[] = r.processed.map((s) => ({ symbol: s.symbol, signal: s.signal, close: s.close, ts: new Date(s.ts / 1000), bars: s.bars }));
  const qualify = (side: 1 | -1) =>
    symbols
      .filter((s) => Math.sign(s.signal) === side && Math.abs(s.signal) >= minSignal)
      .sort((a, b) => Math.abs(b.signal) - Math.abs(a.signal) || a.symbol.localeCompare(b.symbol));
  const [long, short] = [qualify(1), qualify(-1)];
  const result: ScanResult = {
    long: long.slice(0, opts.top),
    short: short.slice(0, opts.top),
    qualifying: { long: long.length, short: short.length },
    processed: symbols.length,
    skipped: r.skipped,
    failed: r.failed,
    rejectedRows: engine.metadata?.rejectedRows ?? 0,
    elapsedMs: 0,
    symbols,
    sorted,
  };
  if (opts.out) await writeScan(join(opts.out, 'scan.parquet'), result);
  result.elapsedMs = performance.now() - t0;
  return result;
}

async function writeScan(path: string, r: ScanResult): Promise<void> {
  const side = (s: number) => (s > 0 ? 'long' : s < 0 ? 'short' : 'flat');
  await writeParquet(
    path,
    [['symbol', 'VARCHAR'], ['status', 'VARCHAR'], ['side', 'VARCHAR'], ['signal', 'DOUBLE'], ['close', 'DOUBLE'], ['ts', 'TIMESTAMP'], ['bars', 'BIGINT'], ['message', 'VARCHAR']],
    [
      ...r.symbols.map((s) => ({ ...s, status: 'processed', side: side(s.signal), message: null })),
      ...r.skipped.map((s) => ({ symbol: s.symbol, status: 'skipped', message: s.reason })),
      ...r.failed.map((s) => ({ symbol: s.symbol, status: 'failed', message: s.message })),
    ],
  );
}
