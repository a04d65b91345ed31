/**
 * `Engine`: an embedded DuckDB (driven from Rust) over one dataset, with the `bars` view
 * defined, and the jobs that run over it.
 */
import { availableParallelism } from 'node:os';
import { isAbsolute, resolve } from 'node:path';
import { DataFile, listDataFiles } from '../datasets/layout.js';
import { BarstreamError, fromNative, invalidParam, native } from './errors.js';
import { addon, Native } from './native.js';
import { literalList, sqlFile } from './sql.js';

export interface EngineOptions {
  /** A canonical dataset folder (`bucket=<k>/part-<n>.parquet`). */
  dataset: string;
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
}

interface NativeReadResult {
  rows: number;
  batches: number;
  runs: number;
  elapsedMs: number;
  symbols: { symbol: string; rows: number; runs: number; firstTs: number; lastTs: number; lastClose: number; sumClose: number }[];
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

export class Engine {
  private constructor(
    readonly dataset: string,
    private readonly dataFiles: DataFile[],
    private readonly threads: number,
    private readonly db: Native.NativeEngine,
  ) {}

  /** The dataset's Parquet files in read order. */
  get files(): string[] {
    return this.dataFiles.map((f) => f.path);
  }

  /** SQL reading the given files (see `sql/bars_source.sql`). */
  static sourceSql(files: string[]): string {
    return sqlFile('bars_source', { files: literalList(files) }).replace(/;\s*$/, '');
  }

  /** One query per bucket: buckets hold disjoint symbols, so they can be read in parallel. */
  private bucketSources(): string[] {
    const byBucket = new Map<number, string[]>();
    for (const f of this.dataFiles) byBucket.set(f.bucket, [...(byBucket.get(f.bucket) ?? []), f.path]);
    return [...byBucket.values()].map((files) => Engine.sourceSql(files));
  }

  /**
   * Opens a dataset: lists its files and defines the `bars` view over them.
   * @example
   * const engine = await Engine.open({ dataset: 'datasets/demo', threads: 2 });
   * const r = await engine.stream();
   */
  static async open(opts: EngineOptions): Promise<Engine> {
    if (!opts || typeof opts.dataset !== 'string') throw invalidParam('dataset must be a folder path');
    if (opts.threads !== undefined && (!Number.isInteger(opts.threads) || opts.threads < 1)) {
      throw invalidParam(`threads must be a positive integer, got ${opts.threads}`);
    }
    const dataset = isAbsolute(opts.dataset) ? opts.dataset : resolve(opts.dataset);
    const files = await listDataFiles(dataset);
    const threads = opts.threads ?? availableParallelism();
    const db = await native(() => new addon.NativeEngine({ threads, memoryLimit: opts.memoryLimit }));
    await native(() => db.execute(sqlFile('bars', { source: Engine.sourceSql(files.map((f) => f.path)) })));
    return new Engine(dataset, files, threads, db);
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
    for (const c of columns) if (!IDENT.test(c)) throw invalidParam(`column name '${c}' is not a plain identifier`);
    const select = (source: string, order: boolean) =>
      `SELECT symbol::VARCHAR AS symbol, ts::TIMESTAMP AS ts, ${columns.map((c) => `${c}::DOUBLE AS ${c}`).join(', ')} ` +
      `FROM (${source}) AS src${order ? ' ORDER BY symbol, ts' : ''}`;
    const run = (order: boolean) => {
      const sources = order || opts.sql ? [opts.sql ?? 'SELECT * FROM bars'] : this.bucketSources();
      return this.db.readStats({
        partitions: sources.map((s) => select(s, order)),
        values: columns,
        mode: opts.mode ?? 'vectors',
        workers: this.threads,
      }) as Promise<NativeReadResult>;
    };
    let sorted = false;
    let r: NativeReadResult;
    try {
      r = await run(false);
    } catch (e) {
      const err = fromNative(e);
      if (!(err instanceof BarstreamError && err.code === 'BARSTREAM_BAD_INPUT' && /not ordered/.test(err.message))) throw err;
      sorted = true;
      r = await native(run(true));
    }
    return {
      rows: r.rows,
      batches: r.batches,
      runs: r.runs,
      elapsedMs: r.elapsedMs,
      sorted,
      symbols: r.symbols.map((s) => ({ ...s, firstTs: new Date(s.firstTs / 1000), lastTs: new Date(s.lastTs / 1000) })),
    };
  }
}
