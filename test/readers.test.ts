/**
 * The backtest's Parquet output read by DuckDB (a reader independent of the writer, the
 * `parquet` crate), with `hive_partitioning`. (parquetjs-lite, once read here too, knows
 * neither RLE_DICTIONARY nor DELTA_BINARY_PACKED pages, which the writer now uses.)
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
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

const dataFiles = () => manifest.files.filter((f) => f.path.startsWith('signals/') || f.path.startsWith('summary/'));

describe('backtest output read by DuckDB with hive_partitioning', () => {
  it('reads every row of signals/bucket=<k>/part-0.parquet and summary/part-<k>.parquet: counts equal the manifest', async () => {
    const files = dataFiles();
    expect(files.filter((f) => f.path.startsWith('signals/')).map((f) => f.path).sort()).toEqual(
      [0, 1, 2].map((k) => `signals/bucket=${k}/part-0.parquet`),
    );
    expect(files.filter((f) => f.path.startsWith('summary/')).map((f) => f.path).sort()).toEqual([0, 1, 2].map((k) => `summary/part-${k}.parquet`));
    let signalRows = 0;
    let summaryRows = 0;
    for (const f of files) {
      const [{ n }] = await duck(`SELECT count(*) AS n FROM read_parquet(${lit(join(out, f.path))}, hive_partitioning = false)`);
      expect(n, f.path).toBe(f.rows);
      if (f.path.startsWith('signals/')) signalRows += n as number;
      else summaryRows += n as number;
    }
    expect(signalRows).toBe(manifest.counts.signalRows);
    expect(summaryRows).toBe(manifest.counts.processed);
    expect(signalRows).toBe(12 * 400);
  });

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
