/** Small result tables written as Parquet through `@duckdb/node-api`, atomically. */
import { DuckDBInstance } from '@duckdb/node-api';
import { mkdir, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { literal } from './sql.js';

export type ColumnType = 'VARCHAR' | 'DOUBLE' | 'BIGINT' | 'TIMESTAMP';

/** Writes `rows` (objects keyed by column name; `null` for NULL) to `path` via a hidden temp file. */
export async function writeParquet(path: string, columns: [string, ColumnType][], rows: Record<string, unknown>[]): Promise<void> {
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  const tmp = join(dirname(path), `.${basename(path)}.tmp-${process.pid}`);
  try {
    await mkdir(dirname(path), { recursive: true });
    // Timestamps travel as ISO text and are cast on the way out.
    await conn.run(`CREATE TABLE t (${columns.map(([n, t]) => `"${n}" ${t === 'TIMESTAMP' ? 'VARCHAR' : t}`).join(', ')})`);
    const app = await conn.createAppender('t');
    for (const r of rows) {
      for (const [name, type] of columns) {
        const v = r[name];
        if (v === null || v === undefined || (typeof v === 'number' && Number.isNaN(v))) app.appendNull();
        else if (type === 'VARCHAR') app.appendVarchar(String(v));
        else if (type === 'DOUBLE') app.appendDouble(v as number);
        else if (type === 'BIGINT') app.appendBigInt(BigInt(v as number));
        else app.appendVarchar((v as Date).toISOString().replace('T', ' ').replace('Z', ''));
      }
      app.endRow();
    }
    app.closeSync();
    const cast = columns.map(([n, t]) => `"${n}"::${t} AS "${n}"`).join(', ');
    await conn.run(`COPY (SELECT ${cast} FROM t) TO ${literal(tmp)} (FORMAT parquet, COMPRESSION zstd)`);
    await rename(tmp, path);
  } finally {
    conn.closeSync();
    instance.closeSync();
    await rm(tmp, { force: true });
  }
}
