/**
 * `Engine`: an embedded DuckDB (driven from Rust) over one dataset, with the `bars` view
 * defined, and the jobs that run over it.
 */
import { availableParallelism } from 'node:os';
import { resolveSources, SourceFile, Sources } from '../datasets/inputs.js';
import { invalidParam, native } from './errors.js';
import { checkRange, LIMITS } from './limits.js';
import { explainReadError, explainSourceError, Partition, partitionSources, planPartitions, sourceSql, withOrderFallback } from './partitions.js';
import { addon, Native } from './native.js';
import { checkDisjointInputs } from './overlap.js';
import { sqlFile } from './sql.js';
import { scan, ScanOptions, ScanResult } from './scan.js';
import { backtest, BacktestOptions, BacktestResult } from './backtest.js';
import { query } from './query.js';
import { trendScan, TrendScanOptions, TrendScanResult } from './trend.js';
import { screen, ScreenOptions, ScreenResult } from './screen.js';
import type { Table } from 'apache-arrow';

export interface EngineOptions {
  /**
   * A canonical dataset folder (`bucket=<k>/part-<n>.parquet`), or several inputs: dataset
   * folders, folders of Parquet files, Parquet files or globs (see `datasets/inputs.ts`).
   */
  dataset: string | string[];
  /** DuckDB worker threads (default: all cores). */
  threads?: number;
  /** DuckDB's memory limit, e.g. `2GB` (default: DuckDB's, 80% of RAM). */
  memoryLimit?: string;
}

export interface StreamOptions {
  /** SQL over the `bars` view returning `symbol`, `ts` and the value columns (default: all bars). */
  sql?: string;
  /** DOUBLE columns passed to the Rust sink; the first is the close (default `['close']`). */
  columns?: string[];
  /** `vectors`: DuckDB's buffers wrapped in place (default); `arrow`: converted through the Arrow C interface. */
  mode?: 'vectors' | 'arrow';
}

export interface SymbolStats {
  symbol: string;
  rows: number;
  /** How many pieces the symbol arrived in (more than 1 when it spans batches). */
  runs: number;
  firstTs: Date;
  lastTs: Date;
  lastClose: number;
  sumClose: number;
}

export interface StreamResult {
  rows: number;
  batches: number;
  runs: number;
  symbols: SymbolStats[];
  elapsedMs: number;
  /** True when the source was not in (symbol, ts) order and was sorted by DuckDB. */
  sorted: boolean;
  /** Symbols whose bars were bad (a duplicate timestamp, a NULL): not in `symbols`. */
  failed: { symbol: string; stage: string; message: string }[];
}

interface NativeReadResult {
  failed: { symbol: string; stage: string; message: string }[];
  rows: number;
  batches: number;
  runs: number;
  elapsedMs: number;
  symbols: { symbol: string; rows: number; runs: number; firstTs: number; lastTs: number; lastClose: number; sumClose: number }[];
}


/** The parts of a dataset's `metadata.json` the engine uses. */
export interface DatasetInfo {
  symbols: number;
  rows: number;
  /** Rows its ingest rejected. */
  rejectedRows: number;
  /** Datasets ingested without volume (`metadata.json` `volume: false`). */
  noVolume?: string[];
}

export class Engine {
  private constructor(
    /** The inputs, resolved (dataset folders, Parquet files or globs). */
    readonly inputs: string[],
    /** The inputs, resolved, joined with ', ' (one folder for a single dataset). */
    readonly dataset: string,
    private readonly dataFiles: SourceFile[],
    /** What the datasets' `metadata.json` say, when every input has one. */
    readonly metadata: DatasetInfo | undefined,
    /** Worker threads for jobs (and DuckDB's thread count). */
    readonly threads: number,
    /** @internal */
    readonly db: Native.NativeEngine,
  ) {}

  /** The dataset's Parquet files in read order. */
  get files(): string[] {
    return this.dataFiles.map((f) => f.path);
  }

  /** The dataset's files with their partition keys, in read order (for `update.ts`). @internal */
  get sources(): SourceFile[] {
    return this.dataFiles;
  }

  /** SQL reading the given files (see `sql/bars_source.sql`). */
  static sourceSql(files: string[]): string {
    return sourceSql(files);
  }

  /**
   * Runs a job in file order, again sorted when the source is not in `(symbol, ts)` order;
   * a read error names the input file it came from (see `partitions.ts`). @internal
   */
  orderFallback<T>(run: (sorted: boolean) => Promise<T>): Promise<{ result: T; sorted: boolean }> {
    return withOrderFallback(run, (e) => explainReadError(this.db, this.files, e));
  }

  /**
   * The columns (lower case) a job's source gives: the user's SQL as the first partition
   * runs it, or the canonical columns without SQL. Check the SQL first (`checkSource`). @internal
   */
  sourceColumns(sql?: string): string[] {
    const first = partitionSources(this.dataFiles, sql)[0];
    if (first === undefined) return [];
    return this.db.columns(`SELECT * FROM (\n${first.body}\n) AS src LIMIT 0`).map((c) => c.toLowerCase());
  }

  /** The partitions of a job over this dataset (see `partitions.ts`). @internal */
  partitions(opts: { sql?: string; columns: string[]; sorted: boolean }): Partition[] {
    return planPartitions(this.dataFiles, opts);
  }

  /**
   * Opens a dataset: lists its files and defines the `bars` view over them.
   * @example
   * const engine = await Engine.open({ dataset: 'datasets/demo', threads: 2 });
   * const r = await engine.stream();
   */
  static async open(opts: EngineOptions): Promise<Engine> {
    if (!opts || !(typeof opts.dataset === 'string' || Array.isArray(opts.dataset))) throw invalidParam('dataset must be a folder path or a list of inputs');
    if (opts.threads !== undefined) checkRange('threads', opts.threads, LIMITS.threads);
    const sources: Sources = await resolveSources(opts.dataset);
    const threads = opts.threads ?? availableParallelism();
    const db = await native(() => new addon.NativeEngine({ threads, memoryLimit: opts.memoryLimit }));
    const paths = sources.files.map((f) => f.path);
    try {
      db.execute(sqlFile('bars', { source: Engine.sourceSql(paths) }));
      // Every partition planned (not run): an unreadable input, a file lacking a column or a
      // memory limit DuckDB cannot work in shows here, and is named.
      const parts = planPartitions(sources.files, { columns: ['close'], sorted: false });
      if (parts.length > 0) db.columns(parts.map((p, i) => `SELECT * FROM (\n${p.sql}\n) AS probe${i}`).join('\nUNION ALL\n') + '\nLIMIT 0');
    } catch (e) {
      const err = explainSourceError(db, paths, opts.memoryLimit, e);
      db.close();
      throw err;
    }
    try {
      await checkDisjointInputs(sources.files, sources.inputs, threads);
    } catch (e) {
      db.close();
      throw e;
    }
    return new Engine(sources.inputs, sources.inputs.join(', '), sources.files, sources.info, threads, db);
  }

  /**
   * Streams bars through the Rust read path: DuckDB chunks -> per-symbol runs (a symbol may
   * span batches) -> a Rust sink that counts and sums each symbol. Without `sql`, the
   * dataset is read bucket by bucket in file order, buckets in parallel (no sort); a source
   * that turns out not to be ordered by `(symbol, ts)` is read again sorted by DuckDB, and
   * `sorted` says so.
   */
  async stream(opts: StreamOptions = {}): Promise<StreamResult> {
    const columns = opts.columns ?? ['close'];
    const { result: r, sorted } = await this.orderFallback(
      (order) =>
        this.db.readStats({
          partitions: this.partitions({ sql: opts.sql, columns, sorted: order }).map((p) => p.sql),
          values: columns,
          mode: opts.mode ?? 'vectors',
          workers: this.threads,
        }) as Promise<NativeReadResult>,
    );
    return {
      rows: r.rows,
      batches: r.batches,
      runs: r.runs,
      elapsedMs: r.elapsedMs,
      sorted,
      failed: r.failed,
      symbols: r.symbols.map((s) => ({ ...s, firstTs: new Date(s.firstTs / 1000), lastTs: new Date(s.lastTs / 1000) })),
    };
  }

  /**
   * The ATC scan: the latest `Average_Signal` of every symbol; those with
   * `|signal| >= minSignal` listed as long or short by strength.
   * @example
   * const r = await engine.scan({ strategy: { robustness: 'Medium' }, minSignal: 0.1, top: 20 });
   * console.log(r.long[0], r.processed, r.skipped.length);
   */
  scan(opts: ScanOptions = {}): Promise<ScanResult> {
    return scan(this, opts);
  }

  /**
   * A screen: the symbols whose formula value is true at their last bar (or, with `all`,
   * every bar where it is true), each with its bar and named values; see `docs/formulas.md`.
   * @example
   * const r = await engine.screen({ formula: 'r = rsi(close, 14)\nclose > sma(close, 50) and r < 70', rank: 'r', top: 20 });
   * for (const m of r.matches) console.log(m.symbol, m.close, m.values.r);
   */
  screen(opts: ScreenOptions): Promise<ScreenResult> {
    return screen(this, opts);
  }

  /**
   * A backtest, the ATC (default) or a strategy formula (`strategy: { formula }`): per-bar
   * signals, positions and equity, per-symbol summaries, trades, errors and a manifest,
   * written under `out` bucket by bucket.
   * @example
   * const r = await engine.backtest({ out: 'results/run1', feeBps: 5 });
   * await engine.backtest({ out: 'results/rules', strategy: { formula: 'entry = crosses_above(sma(close, 10), sma(close, 30))\nexit = crosses_below(sma(close, 10), sma(close, 30))' } });
   */
  backtest(opts: BacktestOptions): Promise<BacktestResult> {
    return backtest(this, opts);
  }

  /**
   * Runs SQL with the `bars` view over this dataset (and `signals`, `summary`, `errors` over
   * `results` when given) and returns an Apache Arrow table.
   * @example
   * const top = await engine.query('SELECT * FROM summary ORDER BY sharpe DESC LIMIT 10', { results: 'results/run1' });
   */
  query(sql: string, opts: { results?: string; allowIncomplete?: boolean } = {}): Promise<Table> {
    return query(sql, { files: this.files, results: opts.results, allowIncomplete: opts.allowIncomplete });
  }

  /**
   * A moving average of every symbol's close and the trend state against it at the last bar.
   * @example
   * const r = await engine.trendScan({ ma: 'SMA', length: 50 });
   * const above = r.symbols.filter((s) => s.state > 0);
   */
  trendScan(opts: TrendScanOptions = {}): Promise<TrendScanResult> {
    return trendScan(this, opts);
  }

  /**
   * Releases the engine's embedded DuckDB. Jobs already running finish; later calls fail
   * with `BARSTREAM_INVALID_PARAM` ("the engine is closed"). Closing twice is harmless.
   */
  close(): void {
    this.db.close();
  }
}
