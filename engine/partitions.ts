/**
 * How a job's source becomes partitions: one query per bucket of the dataset (buckets hold
 * disjoint symbols, so they run in parallel and memory follows the bucket size). A user's
 * SQL that reads `bars` runs once per bucket with `bars` bound to that bucket's bars; SQL
 * that does not read `bars` runs once, as a single partition.
 */
import type { SourceFile } from '../datasets/inputs.js';
import { BarstreamError, fromNative, invalidParam } from './errors.js';
import { literalList, sqlFile } from './sql.js';

export interface Partition {
  bucket: number;
  sql: string;
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;
const READS_BARS = /\bbars\b/i;

/** SQL reading the given canonical files (see `sql/bars_source.sql`). */
export function sourceSql(files: string[]): string {
  return sqlFile('bars_source', { files: literalList(files) }).replace(/;\s*$/, '');
}

/** Files grouped into partitions, in input order; each partition's output bucket number. */
export function groups(files: SourceFile[]): { bucket: number; paths: string[]; unordered: boolean }[] {
  const byKey = new Map<string, { bucket: number; paths: string[]; unordered: boolean }>();
  for (const f of files) {
    const g = byKey.get(f.key) ?? { bucket: f.bucket, paths: [], unordered: f.unordered };
    g.paths.push(f.path);
    byKey.set(f.key, g);
  }
  const all = [...byKey.values()];
  // One canonical dataset keeps its bucket numbers; anything else is numbered in order.
  const single = files.every((f) => !f.unordered && f.key.startsWith('0/'));
  return single ? all : all.map((g, i) => ({ ...g, bucket: i }));
}

/**
 * The partitions of a job reading `symbol`, `ts` and `columns` (as DOUBLE), optionally
 * sorted by `(symbol, ts)` inside each partition.
 */
export function planPartitions(files: SourceFile[], opts: { sql?: string; columns: string[]; sorted: boolean }): Partition[] {
  for (const c of opts.columns) if (!IDENT.test(c)) throw invalidParam(`column name '${c}' is not a plain identifier`);
  if (opts.sql !== undefined && opts.sql.trim() === '') throw invalidParam('sql is empty');
  const select = (body: string, sorted: boolean) =>
    `SELECT symbol::VARCHAR AS symbol, ts::TIMESTAMP AS ts, ${opts.columns.map((c) => `${c}::DOUBLE AS ${c}`).join(', ')} ` +
    `FROM (${body}) AS src${sorted ? ' ORDER BY symbol, ts' : ''}`;
  const userSql = opts.sql?.trim().replace(/;\s*$/, '');
  if (userSql !== undefined && !READS_BARS.test(userSql)) return [{ bucket: 0, sql: select(userSql, opts.sorted) }];
  return groups(files).map(({ bucket, paths, unordered }) => {
    const source = sourceSql(paths);
    const body = userSql === undefined ? source : `WITH bars AS (${source}) SELECT * FROM (${userSql}) AS q`;
    return { bucket, sql: select(body, opts.sorted || unordered) };
  });
}

/**
 * Checks a job's source before anything is written: the user's SQL on its own (so DuckDB's
 * message points into it), then the planned partition for the columns the job needs.
 */
export function checkSource(db: { columns(sql: string): string[] }, userSql: string | undefined, first: Partition, columns: string[]): void {
  const attempt = <T>(what: string, f: () => T): T => {
    try {
      return f();
    } catch (e) {
      const err = fromNative(e);
      const msg = err instanceof Error ? err.message : String(err);
      throw new BarstreamError(err instanceof BarstreamError ? err.code : 'BARSTREAM_DUCKDB', `${what}: ${msg}`, { cause: e });
    }
  };
  if (userSql !== undefined) {
    const have = attempt('the SQL source is invalid', () => db.columns(`SELECT * FROM (${userSql.trim().replace(/;\s*$/, '')}) AS q LIMIT 0`));
    const lower = new Set(have.map((c) => c.toLowerCase()));
    const missing = ['symbol', 'ts', ...columns].filter((c) => !lower.has(c));
    if (missing.length > 0) {
      throw new BarstreamError('BARSTREAM_BAD_INPUT', `the SQL source lacks column ${missing.join(', ')} (it returns ${have.join(', ')})`);
    }
  }
  attempt(`the source must give symbol, ts and ${columns.join(', ')}`, () => db.columns(`SELECT * FROM (${first.sql}) AS probe LIMIT 0`));
}

/**
 * Runs a job reading in file order; if the source turns out not to be ordered by
 * `(symbol, ts)`, runs it again with each partition sorted by DuckDB.
 */
export async function withOrderFallback<T>(run: (sorted: boolean) => Promise<T>): Promise<{ result: T; sorted: boolean }> {
  try {
    return { result: await run(false), sorted: false };
  } catch (e) {
    const err = fromNative(e);
    if (!(err instanceof BarstreamError && err.code === 'BARSTREAM_BAD_INPUT' && /not ordered/.test(err.message))) throw err;
    try {
      return { result: await run(true), sorted: true };
    } catch (e2) {
      throw fromNative(e2);
    }
  }
}
