/**
 * The trend scan: a moving average of every symbol's close and the trend state of the close
 * against it (+1 after crossing over, -1 after crossing under, 0 before any crossing), at the
 * last bar, with how many bars were spent long and short.
 */
import type { Engine } from './engine.js';
import { JobControl, noBars, runJob } from './jobs.js';
import { checkRange, LIMITS } from './limits.js';
import { checkSource } from './partitions.js';

export type MaName = 'SMA' | 'EMA' | 'RMA' | 'WMA' | 'DEMA' | 'HMA' | 'LSMA' | 'KAMA';

export interface TrendScanOptions extends JobControl {
  /** SQL over `bars` (run per bucket); default every bar. */
  sql?: string;
  /** The moving average (SMA). */
  ma?: MaName;
  /** Its length (28). */
  length?: number;
}

export interface TrendEntry {
  symbol: string;
  bars: number;
  ma: number;
  state: number;
  longBars: number;
  shortBars: number;
  close: number;
  ts: Date;
}

export interface TrendScanResult {
  symbols: TrendEntry[];
  processed: number;
  skipped: { symbol: string; reason: string }[];
  failed: { symbol: string; /** `input`: its rows (a duplicate timestamp, a NULL); `kernel`: its prices. */ stage: 'input' | 'kernel'; message: string }[];
  elapsedMs: number;
  sorted: boolean;
}

interface NativeTrend {
  processed: (Omit<TrendEntry, 'ts'> & { ts: number })[];
  skipped: { symbol: string; reason: string }[];
  failed: { symbol: string; /** `input`: its rows (a duplicate timestamp, a NULL); `kernel`: its prices. */ stage: 'input' | 'kernel'; message: string }[];
}

/** Runs the trend scan; see `Engine.trendScan`. */
export async function trendScan(engine: Engine, opts: TrendScanOptions = {}): Promise<TrendScanResult> {
  const length = opts.length ?? 28;
  checkRange('length', length, LIMITS.length);
  const t0 = performance.now();
  checkSource(engine.db, opts.sql, engine.partitions({ sql: opts.sql, columns: ['close'], sorted: false })[0], ['close']);
  const { result: r, sorted } = await engine.orderFallback((order) =>
    runJob<NativeTrend>(
      (job) =>
        engine.db.trendScan(
          { partitions: engine.partitions({ sql: opts.sql, columns: ['close'], sorted: order }).map((p) => p.sql), ma: opts.ma ?? 'SMA', length, workers: engine.threads },
          job,
        ),
      engine.metadata?.symbols ?? 0,
      opts,
    ),
  );
  if (r.processed.length + r.skipped.length + r.failed.length === 0) throw noBars(opts.sql, 'scan');
  const symbols = r.processed.map((s) => ({ ...s, ts: new Date(s.ts / 1000) }));
  return { symbols, processed: symbols.length, skipped: r.skipped, failed: r.failed, elapsedMs: performance.now() - t0, sorted };
}
