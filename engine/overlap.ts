/**
 * Several inputs must hold disjoint symbols: a symbol found in two inputs would be computed
 * twice (or its bars silently merged), so every job refuses it before anything runs. One
 * DuckDB pass over the `symbol` column of the inputs' files, only when there are several.
 */
import { DuckDBInstance } from '@duckdb/node-api';
import type { SourceFile } from '../datasets/inputs.js';
import { BarstreamError } from './errors.js';
import { literalList } from './sql.js';

/**
 * @throws BarstreamError `BARSTREAM_INVALID_PARAM` naming a shared symbol and both inputs.
 * @example
 * await checkDisjointInputs(sources.files, sources.inputs);
 */
export async function checkDisjointInputs(files: SourceFile[], inputs: string[], threads = 1): Promise<void> {
  const byInput = new Map<number, string[]>();
  for (const f of files) byInput.set(f.input, [...(byInput.get(f.input) ?? []), f.path]);
  if (byInput.size < 2) return;
  const union = [...byInput]
    .map(([i, paths]) => `SELECT DISTINCT symbol::VARCHAR AS symbol, ${i} AS input FROM read_parquet(${literalList(paths)}, hive_partitioning = false)`)
    .join(' UNION ALL ');
  const sql = `SELECT symbol, list(input ORDER BY input) AS inputs FROM (${union}) GROUP BY symbol HAVING count(*) > 1 ORDER BY symbol LIMIT 1`;
  const instance = await DuckDBInstance.create(':memory:', { threads: String(threads) });
  const conn = await instance.connect();
  try {
    let rows: { symbol: string; inputs: number[] }[];
    try {
      rows = (await conn.runAndReadAll(sql)).getRowObjectsJS() as typeof rows;
    } catch {
      // An unreadable input is reported by the job itself, naming the file.
      return;
    }
    if (rows.length > 0) {
      const [a, b] = rows[0].inputs.map(Number);
      throw new BarstreamError(
        'BARSTREAM_INVALID_PARAM',
        `symbol '${rows[0].symbol}' appears in more than one input (${inputs[a]} and ${inputs[b]}): inputs must hold disjoint symbols`,
      );
    }
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}
