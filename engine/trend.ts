/**
 * The trend scan: a moving average of every symbol's close and the trend state of the close
 * against it (+1 after crossing over, -1 after crossing under, 0 before any crossing), at the
 * last bar, with how many bars were spent long and short.
 */
import type { Engine } from './engine.js';
import { invalidParam } from './errors.js';
import type { FormulaInfo } from './formula-use.js';
import { JobControl, noBars } from './jobs.js';
import { kernels } from './kernels.js';
import { runScreen, sourceFields } from './screen.js';
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

const MAS: MaName[] = ['SMA', 'EMA', 'RMA', 'WMA', 'DEMA', 'HMA', 'LSMA', 'KAMA'];

/** The preset formula of the trend scan: the line and the trend state of the close against it. */
export function trendFormula(ma: MaName, length: number): string {
  return `ma = ${ma.toLowerCase()}(close, ${length})\ntrend_state(close, ma)`;
}

/**
 * Runs the trend scan; see `Engine.trendScan`. It is a screen of the preset formula
 * {@link trendFormula} that returns every processed symbol (`everySymbol`), with how many
 * bars its state was positive and negative.
 */
export async function trendScan(engine: Engine, opts: TrendScanOptions = {}): Promise<TrendScanResult> {
  const length = opts.length ?? 28;
  checkRange('length', length, LIMITS.length);
  const ma = opts.ma ?? 'SMA';
  if (!MAS.includes(ma)) throw invalidParam(`ma must be one of ${MAS.join(', ')}, got '${String(ma)}'`);
  const t0 = performance.now();
  const formula = trendFormula(ma, length);
  const info = kernels.compileFormula(formula) as FormulaInfo;
  checkSource(engine.db, opts.sql, engine.partitions({ sql: opts.sql, columns: info.fields, sorted: false })[0], info.fields);
  const plan = { formula, info, mode: 'latest' as const, symbolTimeoutMs: LIMITS.symbolTimeoutMs.max, sourceColumns: sourceFields(engine, opts.sql) };
  const { result: r, sorted } = await runScreen(engine, opts.sql, plan, opts, { everySymbol: true });
  if (r.processed + r.skipped.length + r.failed.length === 0) throw noBars(opts.sql, 'scan');
  const at = r.names.indexOf('ma');
  const symbols: TrendEntry[] = (r.symbols ?? []).map((m) => ({
    symbol: m.symbol,
    bars: m.bars,
    ma: m.values[at],
    state: m.value,
    longBars: m.positive,
    shortBars: m.negative,
    close: m.close,
    ts: new Date(m.ts / 1000),
  }));
  // Failures of a trend scan are input failures (its formula cannot fail on prices).
  const failed = r.failed.map((f) => ({ ...f, stage: f.stage === 'input' ? ('input' as const) : ('kernel' as const) }));
  return { symbols, processed: symbols.length, skipped: r.skipped, failed, elapsedMs: performance.now() - t0, sorted };
}
