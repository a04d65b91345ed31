/** The data path from Parquet: barstream's trend scan vs DuckDB SQL window functions (SMA(28) + trend state per symbol). */
import { compare as viaPipeline } from './scan-vs-polars.js';
import { Closes, Context, Row } from './peers/harness.js';

export const compare = (ctx: Context, s: Closes): Promise<Row[]> => viaPipeline(ctx, s, 'duckdb_pipeline', 'duckdb');
