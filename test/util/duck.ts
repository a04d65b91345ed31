/** A throwaway in-memory DuckDB (through `@duckdb/node-api`) for reading back test outputs. */
import { DuckDBInstance } from '@duckdb/node-api';

/** Runs `sql` in a fresh in-memory DuckDB; BIGINTs come back as numbers, timestamps as Dates. */
export async function query(sql: string): Promise<Record<string, unknown>[]> {
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  try {
    await conn.run(`SET TimeZone = 'UTC'`);
    const rows = (await conn.runAndReadAll(sql)).getRowObjectsJS() as Record<string, unknown>[];
    return rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, typeof v === 'bigint' ? Number(v) : v])));
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}

/** A SQL string literal. */
export const lit = (s: string): string => `'${s.replaceAll("'", "''")}'`;
