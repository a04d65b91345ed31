/** Reads a dataset's bars back with DuckDB (the independent path) for comparisons. */
import { join } from 'node:path';
import { query } from './duck.js';

export const parquetGlob = (dir: string): string => `read_parquet('${join(dir, 'bucket=*', '*.parquet')}', hive_partitioning = false)`;

/** Every symbol's closes and timestamps (microseconds), in time order. */
export async function closesBySymbol(dataset: string): Promise<Map<string, { close: Float64Array; ts: number[] }>> {
  const rows = await query(`SELECT symbol, list(close ORDER BY ts) AS c, list(epoch_us(ts) ORDER BY ts) AS t FROM ${parquetGlob(dataset)} GROUP BY symbol`);
  return new Map(rows.map((r) => [r.symbol as string, { close: Float64Array.from(r.c as number[]), ts: (r.t as unknown[]).map(Number) }]));
}

/** One symbol's bars: timestamps (microseconds) and the OHLCV columns, in time order. */
export interface SymbolBars {
  ts: number[];
  open: Float64Array;
  high: Float64Array;
  low: Float64Array;
  close: Float64Array;
  volume: Float64Array;
}

/**
 * Every symbol's OHLCV bars read back with DuckDB, in time order; `sql` (over a `bars` view of
 * the dataset) selects them as a job's `--sql` would.
 */
export async function barsBySymbol(dataset: string, sql = 'SELECT * FROM bars'): Promise<Map<string, SymbolBars>> {
  const rows = await query(
    `WITH bars AS (SELECT * FROM ${parquetGlob(dataset)}), src AS (${sql})
     SELECT symbol, list(epoch_us(ts) ORDER BY ts) AS t, list(open ORDER BY ts) AS o, list(high ORDER BY ts) AS h,
            list(low ORDER BY ts) AS l, list(close ORDER BY ts) AS c, list(volume::DOUBLE ORDER BY ts) AS v
     FROM src GROUP BY symbol ORDER BY symbol`,
  );
  const f = (x: unknown) => Float64Array.from(x as number[]);
  return new Map(rows.map((r) => [r.symbol as string, { ts: (r.t as unknown[]).map(Number), open: f(r.o), high: f(r.h), low: f(r.l), close: f(r.c), volume: f(r.v) }]));
}
