/**
 * Ad hoc SQL over datasets and backtest outputs through `@duckdb/node-api`, with the views
 * and macros of `sql/` defined for the given paths, results as `apache-arrow` tables.
 *
 * - `data` (a canonical dataset folder): the `bars` view over the files its `metadata.json` lists (`sql/bars.sql`);
 * - `results` (a `barstream backtest`, `screen` or `scan` output folder): the `signals`,
 *   `summary`, `errors`, `trades`, `matches` and `scan` views (`sql/views.sql`), each only when its
 *   folder holds Parquet files, and the macros of `sql/macros.sql` when `signals` is
 *   defined. A folder without `_manifest.json` (an interrupted or running job) is refused
 *   unless `allowIncomplete` is set.
 *
 * The SQL runs as given, with DuckDB's full powers: it can write files (`COPY ... TO`),
 * including over the result files that later queries read. The views themselves only read.
 *
 * DuckDB types become Arrow types as follows: DOUBLE -> Float64, FLOAT -> Float32, DECIMAL ->
 * Float64, BIGINT and HUGEINT -> Int64 (exact, read as `bigint`; a HUGEINT outside the Int64
 * range is an error), smaller integers -> Int8/16/32 and Uint8/16/32/64, BOOLEAN -> Bool,
 * TIMESTAMP -> TimestampMicrosecond (the TIMESTAMP_S/_MS/_NS variants keep their unit),
 * TIMESTAMP WITH TIME ZONE -> TimestampMicrosecond in UTC, DATE -> DateDay, VARCHAR and
 * ENUM -> Utf8; anything else (lists, structs, intervals, ...) -> Utf8 holding DuckDB's text.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import {
  DuckDBConnection,
  type DuckDBResult,
  DuckDBDateValue,
  DuckDBDecimalValue,
  DuckDBInstance,
  DuckDBTimestampMillisecondsValue,
  DuckDBTimestampNanosecondsValue,
  DuckDBTimestampSecondsValue,
  DuckDBTimestampTZValue,
  DuckDBTimestampValue,
  DuckDBTypeId,
  type DuckDBType,
  type DuckDBValue,
} from '@duckdb/node-api';
import {
  Bool,
  DataType,
  DateDay,
  Field,
  Float32,
  Float64,
  Int16,
  Int32,
  Int64,
  Int8,
  makeData,
  makeVector,
  Schema,
  Table,
  TimestampMicrosecond,
  TimestampMillisecond,
  TimestampNanosecond,
  TimestampSecond,
  Uint16,
  Uint32,
  Uint64,
  Uint8,
  Utf8,
  vectorFromArray,
  type Vector,
} from 'apache-arrow';
import { listDataFiles } from '../datasets/layout.js';
import { BarstreamError, invalidParam, oneLine } from './errors.js';
import { packageRoot } from './native.js';
import { literal, sqlFile } from './sql.js';
import { sourceSql } from './partitions.js';
import { describeIncomplete, resultsState } from './results.js';
import { rollForward } from './update.js';

export interface QueryOptions {
  /** A canonical dataset folder: defines the `bars` view. */
  data?: string;
  /** Or the Parquet files of `bars` (canonical columns), as `Engine` resolved them. */
  files?: string[];
  /** A `barstream backtest` or `screen` output folder: defines `signals`, `summary`, `errors`, `trades`, `matches` and the macros. */
  results?: string;
  /**
   * Read `results` even without its `_manifest.json` (an interrupted or running backtest);
   * without this such a folder is refused (`BARSTREAM_BAD_INPUT`). The session's
   * `incomplete` then says what is missing.
   */
  allowIncomplete?: boolean;
}

/** A query's result read chunk by chunk (see `QuerySession.stream`). */
export interface ResultStream extends AsyncIterable<Table> {
  /** The result's columns, known before any row is read. */
  readonly schema: Schema;
  /**
   * The same chunks without building Arrow tables (faster): per chunk, one array of values
   * per column, each value what the Arrow vector's `get` would return (numbers, `bigint`
   * for 64-bit integers, epoch milliseconds for timestamps and dates, booleans, strings).
   * Iterate either this or the stream itself, once.
   */
  columns(): AsyncIterable<unknown[][]>;
  /** Stops the query; the iteration then ends. Harmless after the last batch. */
  cancel(): void;
}

/** The result views and the folder each reads under `results`. */
const RESULT_VIEWS: Record<string, string> = { signals: 'signals', summary: 'summary', errors: '_errors', trades: 'trades', matches: 'matches', scan: '.' };

function hasParquet(dir: string, depth: number): boolean {
  if (!existsSync(dir)) return false;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.isFile() && e.name.endsWith('.parquet') && !e.name.startsWith('.')) return true;
    if (e.isDirectory() && depth > 0 && hasParquet(join(dir, e.name), depth - 1)) return true;
  }
  return false;
}

function checkFolder(what: string, path: string): string {
  const abs = resolve(path);
  if (!existsSync(abs)) throw new BarstreamError('BARSTREAM_IO', `${what} folder ${path} does not exist`);
  if (!statSync(abs).isDirectory()) throw new BarstreamError('BARSTREAM_IO', `${what} ${path} is not a folder`);
  return abs;
}

/** A DuckDB error on one line (see `oneLine`), without the node API's statement prefix. */
export function duckdbMessage(e: unknown): string {
  return oneLine((e instanceof Error ? e.message : String(e)).replace(/^Failed to extract statements: /, ''));
}

/** The report names: the files of `sql/reports` without `.sql`. */
export function listReports(): string[] {
  const dir = join(packageRoot(), 'sql', 'reports');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.sql'))
    .map((f) => basename(f, '.sql'))
    .sort();
}

/** The first comment line of a report, as its description. */
export function reportDescription(name: string): string {
  const first = reportSql(name).split('\n').find((l) => l.startsWith('--'));
  return first ? first.replace(/^--\s*/, '') : '';
}

/** The SQL text of `sql/reports/<name>.sql`. */
export function reportSql(name: string): string {
  const names = listReports();
  if (!names.includes(name)) throw invalidParam(`unknown report '${name}'; reports: ${names.join(', ')}`);
  return sqlFile(join('reports', name), {});
}

/**
 * An in-memory DuckDB with the views over `data` and `results` defined. The SQL given to
 * `query` runs as given: it can read and write files (`COPY ... TO`) like any DuckDB
 * session; the views only read.
 * @example
 * const s = await QuerySession.open({ results: 'results/run1' });
 * const t = await s.query('SELECT * FROM summary ORDER BY sharpe DESC LIMIT 5');
 * s.close();
 */
export class QuerySession {
  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly conn: DuckDBConnection,
    /** The views defined, e.g. `['bars', 'signals', 'summary', 'errors']`. */
    readonly views: string[],
    /** Why `results` is incomplete, when it was opened with `allowIncomplete` (one line). */
    readonly incomplete?: string,
  ) {}

  static async open(opts: QueryOptions = {}): Promise<QuerySession> {
    const data = opts.data === undefined ? undefined : checkFolder('data', opts.data);
    const results = opts.results === undefined ? undefined : checkFolder('results', opts.results);
    // Names what is wrong with a folder that is no dataset; only the files its metadata.json
    // lists are bars (a killed `ingest --append` may have left others).
    const dataFiles = data ? (await listDataFiles(data)).map((f) => f.path) : undefined;
    // An update decided but killed before its files were all in place is completed first.
    if (results) await rollForward(results);
    // A scan's files lie in the folder itself: `scan.parquet`, or one `scan-<i>-of-<N>.parquet` per shard.
    const holds = (v: string) => (v === 'scan' ? readdirSync(results!).some((f) => /^scan.*\.parquet$/.test(f)) : hasParquet(join(results!, RESULT_VIEWS[v]), 1));
    const present = results ? Object.keys(RESULT_VIEWS).filter(holds) : [];
    const state = results ? resultsState(results) : undefined;
    if (results && present.length === 0 && !state?.started) {
      throw new BarstreamError('BARSTREAM_IO', `results folder ${opts.results} holds no signals/, summary/, trades/, matches/ or _errors/ Parquet files (is it a barstream backtest or screen output?)`);
    }
    let incomplete: string | undefined;
    if (state && !state.complete) {
      incomplete = describeIncomplete(opts.results!, state);
      if (!opts.allowIncomplete) throw new BarstreamError('BARSTREAM_BAD_INPUT', `${incomplete}; pass --allow-incomplete to read it anyway`);
      if (present.length === 0) throw new BarstreamError('BARSTREAM_BAD_INPUT', `${incomplete}; it holds no result files yet`);
    }
    if (state?.changed) {
      incomplete = `results folder ${opts.results} changed after it was written: ${state.changed}`;
      if (!opts.allowIncomplete) throw new BarstreamError('BARSTREAM_BAD_INPUT', `${incomplete}; pass --allow-incomplete to read it anyway`);
    }
    const instance = await DuckDBInstance.create(':memory:');
    const conn = await instance.connect();
    const session = new QuerySession(instance, conn, [], incomplete);
    try {
      await session.exec(`SET TimeZone = 'UTC'`);
      if (data) {
        await session.exec(`SET VARIABLE data = ${literal(data)}`);
        await session.exec(sqlFile('bars', { source: sourceSql(dataFiles!) }));
        session.views.push('bars');
      } else if (opts.files?.length) {
        await session.exec(sqlFile('bars', { source: sourceSql(opts.files) }));
        session.views.push('bars');
      }
      if (results) {
        await session.exec(`SET VARIABLE results = ${literal(results)}`);
        for (const stmt of splitViews(sqlFile('views', {}))) {
          const view = /VIEW\s+(\w+)/i.exec(stmt)?.[1];
          if (view && present.includes(view)) {
            await session.exec(stmt);
            session.views.push(view);
          }
        }
        if (present.includes('signals')) await session.exec(sqlFile('macros', {}));
      }
    } catch (e) {
      session.close();
      throw e;
    }
    return session;
  }

  /**
   * Runs every statement of `sql`; returns the last one's result as an Arrow table. With
   * `maxRows`, the result is streamed and only its first `maxRows` rows are read.
   */
  async query(sql: string, opts: { maxRows?: number } = {}): Promise<Table> {
    if (typeof sql !== 'string' || sql.trim() === '') throw invalidParam('query needs SQL text');
    const { maxRows } = opts;
    if (maxRows !== undefined && (!Number.isInteger(maxRows) || maxRows < 0)) throw invalidParam(`maxRows must be an integer >= 0, got ${maxRows}`);
    try {
      const stmts = await this.conn.extractStatements(sql);
      if (stmts.count === 0) throw invalidParam('query needs at least one SQL statement');
      for (let i = 0; i < stmts.count - 1; i++) await (await stmts.prepare(i)).run();
      const last = await stmts.prepare(stmts.count - 1);
      const reader = maxRows === undefined ? await last.runAndReadAll() : await last.streamAndReadUntil(maxRows);
      const names = reader.deduplicatedColumnNames();
      const columns = reader.getColumns().map((c) => (maxRows === undefined ? c : c.slice(0, maxRows)));
      const types = reader.columnTypes();
      const vectors = names.map((name, i) => toVector(name, types[i], columns[i] ?? []));
      return new Table(new Schema(names.map((n, i) => new Field(n, vectors[i].type, true))), Object.fromEntries(names.map((n, i) => [n, vectors[i]])));
    } catch (e) {
      throw this.explain(e);
    }
  }

  /**
   * Runs every statement of `sql` and streams the last one's result: one Arrow table per
   * DuckDB chunk (about 2048 rows), so memory does not grow with the result. Stop early
   * with `cancel()` (or by leaving a `for await` loop), which stops the query.
   * @example
   * const rows = await s.stream('SELECT * FROM signals');
   * for await (const batch of rows) console.log(batch.numRows);
   */
  async stream(sql: string): Promise<ResultStream> {
    if (typeof sql !== 'string' || sql.trim() === '') throw invalidParam('query needs SQL text');
    let result: DuckDBResult;
    try {
      const stmts = await this.conn.extractStatements(sql);
      if (stmts.count === 0) throw invalidParam('query needs at least one SQL statement');
      for (let i = 0; i < stmts.count - 1; i++) await (await stmts.prepare(i)).run();
      result = await (await stmts.prepare(stmts.count - 1)).stream();
    } catch (e) {
      throw this.explain(e);
    }
    const names = result.deduplicatedColumnNames();
    const types = result.columnTypes();
    const schema = new Schema(names.map((n, i) => new Field(n, toVector(n, types[i], []).type, true)));
    let finished = false;
    const cancel = () => {
      if (!finished) this.conn.interrupt();
      finished = true;
    };
    const explain = (e: unknown) => this.explain(e);
    /** DuckDB's chunks as they come, until the end or `cancel()`. */
    async function* chunks(): AsyncGenerator<DuckDBValue[][]> {
      try {
        while (!finished) {
          let chunk;
          try {
            chunk = await result.fetchChunk();
          } catch (e) {
            if (finished) return;
            throw explain(e);
          }
          if (!chunk || chunk.rowCount === 0) {
            finished = true;
            return;
          }
          yield chunk.getColumns();
        }
      } finally {
        cancel();
      }
    }
    async function* batches(): AsyncGenerator<Table> {
      for await (const columns of chunks()) {
        const vectors = names.map((n, i) => toVector(n, types[i], columns[i]));
        yield new Table(schema, Object.fromEntries(names.map((n, i) => [n, vectors[i]])));
      }
    }
    const readers = types.map(plainReader);
    async function* rows(): AsyncGenerator<unknown[][]> {
      for await (const columns of chunks()) yield columns.map((col, i) => col.map(readers[i]));
    }
    return { schema, cancel, columns: rows, [Symbol.asyncIterator]: batches };
  }

  /** Runs SQL for its effect. */
  async exec(sql: string): Promise<void> {
    try {
      await this.conn.run(sql);
    } catch (e) {
      throw this.explain(e);
    }
  }

  private explain(e: unknown): unknown {
    if (e instanceof BarstreamError) return e;
    let message = duckdbMessage(e);
    const missing = /Table with name (\w+) does not exist/i.exec(message)?.[1];
    if (missing && ['bars', ...Object.keys(RESULT_VIEWS)].includes(missing) && !this.views.includes(missing)) {
      message = message.replace(/\s*Did you mean [^?]*\?/, '');
      message += missing === 'bars' ? ` (the bars view needs --data DIR)` : ` (the ${missing} view needs --results DIR holding ${RESULT_VIEWS[missing]}/)`;
    }
    return new BarstreamError('BARSTREAM_DUCKDB', message, { cause: e });
  }

  close(): void {
    this.conn.closeSync();
    this.instance.closeSync();
  }
}

/** The statements of `sql/views.sql`, one per view (comments dropped). */
function splitViews(text: string): string[] {
  const code = text
    .split('\n')
    .filter((l) => !l.trimStart().startsWith('--'))
    .join('\n');
  return code
    .split(';')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/**
 * Runs `sql` with the views over `data` and `results` defined; returns the last statement's
 * result as an Arrow table (see the type mapping at the top of this file).
 * @example
 * const t = await query('SELECT symbol, sharpe FROM summary ORDER BY sharpe DESC', { results: 'results/run1' });
 * t.getChild('sharpe')?.toArray(); // Float64Array
 */
export async function query(sql: string, opts: QueryOptions = {}): Promise<Table> {
  const session = await QuerySession.open(opts);
  try {
    return await session.query(sql);
  } finally {
    session.close();
  }
}

/** A fixed-width Arrow vector from a typed array of values and a validity mask. */
function fixed<T extends DataType>(type: T, values: ArrayLike<number | bigint> & { length: number }, valid: boolean[]): Vector<T> {
  const length = valid.length;
  let nullCount = 0;
  const bitmap = new Uint8Array((length + 7) >> 3);
  for (let i = 0; i < length; i++) {
    if (valid[i]) bitmap[i >> 3] |= 1 << (i & 7);
    else nullCount++;
  }
  return makeVector(makeData({ type, length, nullCount, nullBitmap: nullCount ? bitmap : undefined, data: values } as never)) as Vector<T>;
}

type NumArray = Float64Array | Float32Array | Int8Array | Int16Array | Int32Array | Uint8Array | Uint16Array | Uint32Array;

function numbers<T extends DataType>(type: T, Ctor: new (n: number) => NumArray, col: DuckDBValue[], read: (v: DuckDBValue) => number): Vector<T> {
  const out = new Ctor(col.length);
  const valid = col.map((v, i) => {
    if (v === null) return false;
    out[i] = read(v);
    return true;
  });
  return fixed(type, out, valid);
}

function bigints<T extends DataType>(type: T, Ctor: BigInt64ArrayConstructor | BigUint64ArrayConstructor, name: string, col: DuckDBValue[], read: (v: DuckDBValue) => bigint): Vector<T> {
  const out = new Ctor(col.length);
  const valid = col.map((v, i) => {
    if (v === null) return false;
    const b = read(v);
    if (BigInt.asIntN(64, b) !== b && Ctor === BigInt64Array) {
      throw new BarstreamError('BARSTREAM_INVALID_PARAM', `column ${name}: ${b} does not fit in Int64; cast it to DOUBLE`);
    }
    out[i] = b;
    return true;
  });
  return fixed(type, out, valid);
}

const asNumber = (v: DuckDBValue): number => (v instanceof DuckDBDecimalValue ? v.toDouble() : Number(v));

/** A DuckDB value as the Arrow vector of `toVector` returns it from `get` (no HUGEINT range check). */
function plainReader(type: DuckDBType): (v: DuckDBValue) => unknown {
  const orNull =
    <T>(f: (v: DuckDBValue) => T) =>
    (v: DuckDBValue): T | null =>
      v === null ? null : f(v);
  switch (type.typeId) {
    case DuckDBTypeId.DOUBLE:
    case DuckDBTypeId.DECIMAL:
    case DuckDBTypeId.TINYINT:
    case DuckDBTypeId.SMALLINT:
    case DuckDBTypeId.INTEGER:
    case DuckDBTypeId.UTINYINT:
    case DuckDBTypeId.USMALLINT:
    case DuckDBTypeId.UINTEGER:
      return orNull(asNumber);
    case DuckDBTypeId.FLOAT:
      return orNull((v) => Math.fround(asNumber(v)));
    case DuckDBTypeId.BIGINT:
    case DuckDBTypeId.HUGEINT:
    case DuckDBTypeId.UBIGINT:
      return orNull((v) => v as bigint);
    case DuckDBTypeId.TIMESTAMP:
      return orNull((v) => Number((v as DuckDBTimestampValue).micros) / 1000);
    case DuckDBTypeId.TIMESTAMP_TZ:
      return orNull((v) => Number((v as DuckDBTimestampTZValue).micros) / 1000);
    case DuckDBTypeId.TIMESTAMP_S:
      return orNull((v) => Number((v as DuckDBTimestampSecondsValue).seconds) * 1000);
    case DuckDBTypeId.TIMESTAMP_MS:
      return orNull((v) => Number((v as DuckDBTimestampMillisecondsValue).millis));
    case DuckDBTypeId.TIMESTAMP_NS:
      return orNull((v) => Number((v as DuckDBTimestampNanosecondsValue).nanos) / 1e6);
    case DuckDBTypeId.DATE:
      return orNull((v) => (v as DuckDBDateValue).days * 86_400_000);
    case DuckDBTypeId.BOOLEAN:
      return orNull((v) => v as boolean);
    default:
      return orNull((v) => String(v));
  }
}

function toVector(name: string, type: DuckDBType, col: DuckDBValue[]): Vector {
  switch (type.typeId) {
    case DuckDBTypeId.DOUBLE:
    case DuckDBTypeId.DECIMAL:
      return numbers(new Float64(), Float64Array, col, asNumber);
    case DuckDBTypeId.FLOAT:
      return numbers(new Float32(), Float32Array, col, asNumber);
    case DuckDBTypeId.TINYINT:
      return numbers(new Int8(), Int8Array, col, asNumber);
    case DuckDBTypeId.SMALLINT:
      return numbers(new Int16(), Int16Array, col, asNumber);
    case DuckDBTypeId.INTEGER:
      return numbers(new Int32(), Int32Array, col, asNumber);
    case DuckDBTypeId.UTINYINT:
      return numbers(new Uint8(), Uint8Array, col, asNumber);
    case DuckDBTypeId.USMALLINT:
      return numbers(new Uint16(), Uint16Array, col, asNumber);
    case DuckDBTypeId.UINTEGER:
      return numbers(new Uint32(), Uint32Array, col, asNumber);
    case DuckDBTypeId.BIGINT:
    case DuckDBTypeId.HUGEINT:
      return bigints(new Int64(), BigInt64Array, name, col, (v) => v as bigint);
    case DuckDBTypeId.UBIGINT:
      return bigints(new Uint64(), BigUint64Array, name, col, (v) => v as bigint);
    case DuckDBTypeId.TIMESTAMP:
      return bigints(new TimestampMicrosecond(), BigInt64Array, name, col, (v) => (v as DuckDBTimestampValue).micros);
    case DuckDBTypeId.TIMESTAMP_TZ:
      return bigints(new TimestampMicrosecond('UTC'), BigInt64Array, name, col, (v) => (v as DuckDBTimestampTZValue).micros);
    case DuckDBTypeId.TIMESTAMP_S:
      return bigints(new TimestampSecond(), BigInt64Array, name, col, (v) => (v as DuckDBTimestampSecondsValue).seconds);
    case DuckDBTypeId.TIMESTAMP_MS:
      return bigints(new TimestampMillisecond(), BigInt64Array, name, col, (v) => (v as DuckDBTimestampMillisecondsValue).millis);
    case DuckDBTypeId.TIMESTAMP_NS:
      return bigints(new TimestampNanosecond(), BigInt64Array, name, col, (v) => (v as DuckDBTimestampNanosecondsValue).nanos);
    case DuckDBTypeId.DATE:
      return numbers(new DateDay(), Int32Array, col, (v) => (v as DuckDBDateValue).days);
    case DuckDBTypeId.BOOLEAN:
      return vectorFromArray(col as (boolean | null)[], new Bool());
    default:
      return vectorFromArray(
        col.map((v) => (v === null ? null : String(v))),
        new Utf8(),
      );
  }
}
