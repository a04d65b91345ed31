/**
 * The backtest's Parquet output read by readers other than barstream: `parquetjs-lite` (an
 * independent JavaScript implementation) and DuckDB with `hive_partitioning`.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import parquet from 'parquetjs-lite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine, generate } from '../engine/index.js';
import { QuerySession } from '../engine/query.js';
import { lit, query as duck } from './util/duck.js';

let tmp: string;
let data: string;
let out: string;
let manifest: { counts: { signalRows: number; processed: number; buckets: number }; files: { path: string; rows: number }[] };

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'barstream-readers-'));
  data = join(tmp, 'data');
  out = join(tmp, 'out');
  await generate({ out: data, symbols: 12, bars: 400, seed: 5, buckets: 3 });
  await (await Engine.open({ dataset: data, threads: 2 })).backtest({ out });
  manifest = JSON.parse(await readFile(join(out, '_manifest.json'), 'utf8'));
});

afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

/** Every row of a Parquet file through parquetjs-lite's cursor. */
async function readAll(path: string): Promise<{ count: number; rows: Record<string, unknown>[] }> {
  const reader = await parquet.ParquetReader.openFile(path);
  try {
    const cursor = reader.getCursor();
    const rows: Record<string, unknown>[] = [];
    for (let row = await cursor.next(); row !== null; row = await cursor.next()) rows.push(row);
    return { count: Number(reader.getRowCount()), rows };
  } catch (e) {
    // parquetjs-lite throws strings as well as Errors
    throw new Error(`parquetjs-lite cannot read ${path}: ${e instanceof Error ? e.message : String(e)}`);
  } finally {
    await reader.close();
  }
}

const dataFiles = () => manifest.files.filter((f) => f.path.startsWith('signals/') || f.path.startsWith('summary/'));

/** A value as parquetjs-lite gives it, comparable with what DuckDB gives (Dates, numbers). */
function plain(v: unknown): unknown {
  if (typeof v === 'bigint') return Number(v);
  if (v instanceof Date) return v.getTime();
  return v;
}

describe('backtest output read by parquetjs-lite', () => {
  it('uses only codecs and encodings parquetjs-lite implements', async () => {
    // parquetjs-lite inflates UNCOMPRESSED, GZIP and SNAPPY pages only, and turns dictionary
    // values of INT64 columns into strings (so a dictionary-encoded TIMESTAMP cannot be read).
    const files = dataFiles().map((f) => join(out, f.path));
    const chunks = await duck(`
      SELECT file_name, string_agg(DISTINCT compression, ', ') AS codecs,
             string_agg(DISTINCT path_in_schema, ', ' ORDER BY path_in_schema)
               FILTER (WHERE type = 'INT64' AND encodings LIKE '%DICTIONARY%') AS int64_dictionary
      FROM parquet_metadata([${files.map(lit).join(', ')}])
      GROUP BY file_name ORDER BY file_name`);
    const problems = chunks.flatMap((c) => {
      const name = (c.file_name as string).slice(out.length + 1);
      const bad = (c.codecs as string).split(', ').filter((codec) => !['UNCOMPRESSED', 'GZIP', 'SNAPPY'].includes(codec));
      return [
        ...(bad.length ? [`${name}: ${bad.join(', ')} pages`] : []),
        ...(c.int64_dictionary ? [`${name}: dictionary-encoded INT64 (${c.int64_dictionary})`] : []),
      ];
    });
    expect(problems, 'parquetjs-lite cannot read these (write with COMPRESSION snappy, DICTIONARY_SIZE_LIMIT 0)').toEqual([]);
  });

  it('reads every row of signals/bucket=<k>/part-0.parquet and summary/part-<k>.parquet: counts equal the manifest', async () => {
    const files = dataFiles();
    expect(files.filter((f) => f.path.startsWith('signals/')).map((f) => f.path).sort()).toEqual(
      [0, 1, 2].map((k) => `signals/bucket=${k}/part-0.parquet`),
    );
    expect(files.filter((f) => f.path.startsWith('summary/')).map((f) => f.path).sort()).toEqual([0, 1, 2].map((k) => `summary/part-${k}.parquet`));
    let signalRows = 0;
    let summaryRows = 0;
    for (const f of files) {
      const { count, rows } = await readAll(join(out, f.path));
      expect(count, f.path).toBe(f.rows);
      expect(rows.length, f.path).toBe(f.rows);
      if (f.path.startsWith('signals/')) signalRows += rows.length;
      else summaryRows += rows.length;
    }
    expect(signalRows).toBe(manifest.counts.signalRows);
    expect(summaryRows).toBe(manifest.counts.processed);
    expect(signalRows).toBe(12 * 400);
  });

  it('gives the same values as DuckDB, row for row', async () => {
    for (const f of dataFiles()) {
      const path = join(out, f.path);
      const { rows } = await readAll(path);
      const want = await duck(`SELECT * FROM read_parquet(${lit(path)}, hive_partitioning = false)`);
      expect(rows.length).toBe(want.length);
      const columns = Object.keys(want[0]);
      expect(Object.keys(rows[0]).sort(), f.path).toEqual([...columns].sort());
      for (let i = 0; i < rows.length; i++) {
        for (const c of columns) {
          const got = plain(rows[i][c]);
          const exp = plain(want[i][c]);
          if (typeof exp === 'number' && Number.isNaN(exp)) expect(Number.isNaN(got), `${f.path} row ${i} ${c}`).toBe(true);
          else if (got !== exp) expect.fail(`${f.path} row ${i} ${c}: parquetjs-lite ${String(got)}, DuckDB ${String(exp)}`);
        }
      }
    }
  });
});

describe('backtest output read by DuckDB with hive_partitioning', () => {
  it('has a bucket column that matches each file\'s folder, and the dataset\'s bucket of each symbol', async () => {
    const rows = await duck(`
      SELECT bucket, filename, count(*) AS n, count(DISTINCT symbol) AS symbols
      FROM read_parquet(${lit(join(out, 'signals', '*', '*.parquet'))}, hive_partitioning = true, filename = true)
      GROUP BY ALL ORDER BY bucket`);
    expect(rows.map((r) => r.bucket)).toEqual([0, 1, 2]);
    for (const r of rows) {
      expect(basename(dirname(r.filename as string))).toBe(`bucket=${r.bucket}`);
      expect(r.n).toBe(manifest.files.find((f) => f.path === `signals/bucket=${r.bucket}/part-0.parquet`)?.rows);
    }
    // Each symbol's signals sit in the bucket its bars came from.
    const mismatched = await duck(`
      WITH s AS (SELECT DISTINCT symbol, bucket FROM read_parquet(${lit(join(out, 'signals', '*', '*.parquet'))}, hive_partitioning = true)),
           d AS (SELECT DISTINCT symbol, bucket FROM read_parquet(${lit(join(data, '*', '*.parquet'))}, hive_partitioning = true))
      SELECT * FROM s FULL JOIN d USING (symbol) WHERE s.bucket IS DISTINCT FROM d.bucket`);
    expect(mismatched).toEqual([]);
  });

  it('the signals view of sql/views.sql exposes the same bucket column', async () => {
    const s = await QuerySession.open({ results: out });
    try {
      const t = await s.query('SELECT bucket, count(*) AS n FROM signals GROUP BY bucket ORDER BY bucket');
      expect(t.getChild('bucket')?.type.toString()).toBe('Int64');
      expect(Array.from(t.getChild('n')!.toArray() as BigInt64Array, Number)).toEqual(
        [0, 1, 2].map((k) => manifest.files.find((f) => f.path === `signals/bucket=${k}/part-0.parquet`)!.rows),
      );
    } finally {
      s.close();
    }
  });
});
