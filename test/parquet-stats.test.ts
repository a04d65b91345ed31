/**
 * What the backtest's Parquet files (signals, summary, _errors) carry for readers that prune:
 * min/max statistics in the current `min_value`/`max_value` fields on every column of every
 * row group (not only the deprecated `min`/`max`), type-defined column orders (without them
 * pyarrow and polars ignore `min_value`/`max_value`), dictionary-encoded text (the symbol
 * on every row), snappy pages. Checked with DuckDB's `parquet_metadata` and
 * `parquet_file_metadata`; the statistics are compared with the min and max DuckDB computes
 * from the rows. parquetjs-lite, an independent reader, reads every file (_errors included)
 * to the values DuckDB reads.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import parquet from 'parquetjs-lite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine, generate } from '../engine/index.js';
import { lit, query } from './util/duck.js';

interface Manifest {
  counts: { skipped: number; processed: number };
  files: { path: string; rows: number }[];
}

let tmp = '';
let out = '';
let files: { path: string; rows: number }[] = [];

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'barstream-stats-'));
  const data = join(tmp, 'data');
  out = join(tmp, 'out');
  await generate({ out: data, symbols: 12, bars: 400, seed: 11, buckets: 3 });
  const engine = await Engine.open({ dataset: data, threads: 2 });
  // The first symbol of each bucket keeps only its first days: too short, so every
  // bucket's _errors file has rows (skipped) too.
  await engine.backtest({
    out,
    sql: `SELECT * FROM bars WHERE symbol <> (SELECT min(symbol) FROM bars) OR ts < (SELECT min(ts) FROM bars) + INTERVAL 5 DAY`,
  });
  const manifest = JSON.parse(await readFile(join(out, '_manifest.json'), 'utf8')) as Manifest;
  files = manifest.files;
  expect(manifest.counts.skipped).toBe(3);
}, 60_000);

afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

/**
 * The result tables readers query. `_state/symbols/` (each symbol's carried state, a BLOB per
 * symbol, read back only by barstream to continue a run) is listed in the manifest too, but
 * is not a table for readers that prune or for other Parquet readers.
 */
const parquetFiles = () => files.filter((f) => f.path.endsWith('.parquet') && !f.path.startsWith('_state/'));

describe('backtest Parquet metadata', () => {
  it('has every table of every bucket, each with rows (so the checks below are not vacuous)', () => {
    const paths = parquetFiles().map((f) => f.path).sort();
    expect(paths).toEqual(
      [0, 1, 2].flatMap((k) => [`_errors/part-${k}.parquet`, `signals/bucket=${k}/part-0.parquet`, `summary/part-${k}.parquet`, `trades/open-${k}.parquet`, `trades/part-${k}.parquet`]).sort(),
    );
    for (const f of parquetFiles()) expect(f.rows, f.path).toBeGreaterThan(0);
    const state = files.filter((f) => f.path.startsWith('_state/')).map((f) => f.path).sort();
    expect(state).toEqual([0, 1, 2].map((k) => `_state/symbols/bucket=${k}/part-0.parquet`));
  });

  it('gives every column of every row group min_value and max_value, snappy pages, and a dictionary for text', async () => {
    for (const f of parquetFiles()) {
      const path = join(out, f.path);
      const [{ columns }] = await query(`SELECT count(*) AS columns FROM (DESCRIBE SELECT * FROM read_parquet(${lit(path)}, hive_partitioning = false))`);
      const chunks = await query(`SELECT row_group_id, path_in_schema, type, compression, encodings, stats_min_value, stats_max_value, stats_null_count, num_values FROM parquet_metadata(${lit(path)})`);
      const groups = new Set(chunks.map((c) => c.row_group_id));
      expect(groups.size, f.path).toBeGreaterThan(0);
      expect(chunks.length, `${f.path}: one chunk per column per row group`).toBe(groups.size * (columns as number));
      // A column whose every value is NULL (exit_ts of the trades still open) has no min or max to give.
      const allNull = (c: Record<string, unknown>) => c.stats_null_count === c.num_values;
      const missing = chunks.filter((c) => (c.stats_min_value === null || c.stats_max_value === null) && !allNull(c)).map((c) => `${c.path_in_schema} (row group ${c.row_group_id})`);
      expect(missing, `${f.path}: columns without min_value/max_value`).toEqual([]);
      expect([...new Set(chunks.map((c) => c.compression))], f.path).toEqual(['SNAPPY']);
      const plainText = chunks.filter((c) => c.type === 'BYTE_ARRAY' && !/(RLE|PLAIN)_DICTIONARY/.test(c.encodings as string)).map((c) => c.path_in_schema);
      expect(plainText, `${f.path}: text columns without a dictionary`).toEqual([]);
      const symbol = chunks.filter((c) => c.path_in_schema === 'symbol');
      expect(symbol.length, f.path).toBe(groups.size);
      for (const c of symbol) expect(c.encodings, `${f.path}: symbol`).toMatch(/(PLAIN|RLE)_DICTIONARY/);
    }
  });

  it('declares a type-defined column order for every column (else pyarrow and polars ignore min_value/max_value)', async () => {
    for (const f of parquetFiles()) {
      const path = join(out, f.path);
      const [meta] = await query(`SELECT column_orders FROM parquet_file_metadata(${lit(path)})`);
      const [{ columns }] = await query(`SELECT count(*) AS columns FROM (DESCRIBE SELECT * FROM read_parquet(${lit(path)}, hive_partitioning = false))`);
      const orders = meta.column_orders as string[] | null;
      expect(orders?.length, f.path).toBe(columns);
      expect(new Set(orders), f.path).toEqual(new Set(['ColumnOrder(TYPE_ORDER=TypeDefinedOrder())']));
    }
  });

  it('gives min_value/max_value equal to the min and max of the rows (NaN left out), or bounds of them where not exact', async () => {
    for (const f of parquetFiles()) {
      const path = join(out, f.path);
      const cols = await query(`DESCRIBE SELECT * FROM read_parquet(${lit(path)}, hive_partitioning = false)`);
      const [{ groups }] = await query(`SELECT count(DISTINCT row_group_id) AS groups FROM parquet_metadata(${lit(path)})`);
      // One row group per file here, so the file's min and max are the row group's.
      expect(groups, f.path).toBe(1);
      const checks = cols.map((c) => {
        const name = c.column_name as string;
        const type = c.column_type as string;
        const q = `"${name}"`;
        const keep = type === 'DOUBLE' ? `WHERE NOT isnan(${q})` : '';
        // Every value NULL: no stats, and none to compare them with.
        return `SELECT ${lit(name)} AS col, m.stats_min_value::${type} AS smin, d.lo, m.stats_max_value::${type} AS smax, d.hi,
                  coalesce(CASE WHEN m.min_is_exact THEN smin = d.lo ELSE smin <= d.lo END
                  AND CASE WHEN m.max_is_exact THEN smax = d.hi ELSE smax >= d.hi END,
                  smin IS NULL AND smax IS NULL AND d.lo IS NULL AND d.hi IS NULL AND m.stats_null_count = m.num_values) AS ok
                FROM (SELECT * FROM parquet_metadata(${lit(path)}) WHERE path_in_schema = ${lit(name)}) m,
                     (SELECT min(${q}) AS lo, max(${q}) AS hi FROM read_parquet(${lit(path)}, hive_partitioning = false) ${keep}) d`;
      });
      const rows = await query(checks.join('\nUNION ALL\n'));
      expect(rows.length, f.path).toBe(cols.length);
      const wrong = rows.filter((r) => r.ok !== true).map((r) => `${r.col}: stats ${String(r.smin)}..${String(r.smax)}, rows ${String(r.lo)}..${String(r.hi)}`);
      expect(wrong, f.path).toEqual([]);
    }
  });
});

describe('backtest Parquet read by parquetjs-lite', () => {
  it('reads every file, _errors included, to the values DuckDB reads', async () => {
    // parquetjs-lite leaves a NULL out of the row (undefined); DuckDB gives null.
    const plain = (v: unknown) => (v === undefined ? null : typeof v === 'bigint' ? Number(v) : v instanceof Date ? v.getTime() : v);
    for (const f of parquetFiles()) {
      const path = join(out, f.path);
      const reader = await parquet.ParquetReader.openFile(path);
      const got: Record<string, unknown>[] = [];
      try {
        const cursor = reader.getCursor();
        for (let row = await cursor.next(); row !== null; row = await cursor.next()) got.push(row);
      } catch (e) {
        // parquetjs-lite throws strings as well as Errors
        throw new Error(`parquetjs-lite cannot read ${f.path}: ${e instanceof Error ? e.message : String(e)}`);
      } finally {
        await reader.close();
      }
      const want = await query(`SELECT * FROM read_parquet(${lit(path)}, hive_partitioning = false)`);
      expect(got.length, f.path).toBe(f.rows);
      expect(want.length, f.path).toBe(f.rows);
      for (let i = 0; i < want.length; i++) {
        for (const c of Object.keys(want[i])) {
          const [a, b] = [plain(got[i][c]), plain(want[i][c])];
          const same = a === b || (typeof a === 'number' && typeof b === 'number' && Number.isNaN(a) && Number.isNaN(b));
          if (!same) expect.fail(`${f.path} row ${i} ${c}: parquetjs-lite ${String(a)}, DuckDB ${String(b)}`);
        }
      }
    }
  });
});
