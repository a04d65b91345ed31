/** Reads a dataset's bars back with DuckDB (the independent path) for comparisons. */
import { join } from 'node:path';
import { query } from './duck.js';

export const parquetGlob = (dir: string): string => `read_parquet('${join(dir, 'bucket=*', '*.parquet')}', hive_partitioning = false)`;

/** Every symbol's closes and timestamps (microseconds), in time order. */
export async function closesBySymbol(dataset: string): Promise<Map<string, { close: Float64Array; ts: number[] }>> {
  const rows = await query(`SELECT symbol, list(close ORDER BY ts) AS c, list(epoch_us(ts) ORDER BY ts) AS t FROM ${parquetGlob(dataset)} GROUP BY symbol`);
  return new Map(rows.map((r) => [r.symbol as string, { close: Float64Array.from(r.c as number[]), ts: (r.t as unknown[]).map(Number) }]));
}
