/** Comparing a sharded job's output with a single run's, file set against file set. */
import { join } from 'node:path';
import { lit, query } from './duck.js';

/** Result files of each view, relative to an output folder (what `sql/views.sql` reads). */
export const VIEW_FILES = {
  signals: 'signals/bucket=*/*.parquet',
  summary: 'summary/*.parquet',
  trades: 'trades/*.parquet',
  errors: '_errors/*.parquet',
  matches: 'matches/bucket=*/*.parquet',
  scan: 'scan*.parquet',
} as const;

/**
 * Rows of `view` in `a` not in `b` and in `b` not in `a` (as multisets; DuckDB compares NaN as
 * equal to NaN), and each side's row count.
 */
export async function rowDiff(a: string, b: string, view: keyof typeof VIEW_FILES): Promise<{ onlyA: number; onlyB: number; rowsA: number; rowsB: number }> {
  const src = (dir: string) => `read_parquet(${lit(join(dir, VIEW_FILES[view]))}, hive_partitioning = false, union_by_name = true)`;
  const [r] = await query(
    `SELECT (SELECT count(*) FROM (SELECT * FROM ${src(a)} EXCEPT ALL SELECT * FROM ${src(b)})) AS onlyA,
            (SELECT count(*) FROM (SELECT * FROM ${src(b)} EXCEPT ALL SELECT * FROM ${src(a)})) AS onlyB,
            (SELECT count(*) FROM ${src(a)}) AS rowsA, (SELECT count(*) FROM ${src(b)}) AS rowsB`,
  );
  return r as { onlyA: number; onlyB: number; rowsA: number; rowsB: number };
}
