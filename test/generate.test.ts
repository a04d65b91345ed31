import { readFile, readdir } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BarstreamError, generate } from '../engine/index.js';
import { chooseBuckets, listDataFiles, sha256File } from '../datasets/layout.js';
import { query as duckRows } from './util/duck.js';
import { withTempDir as withTmp } from './util/tmp.js';

const glob = (dir: string) => `'${join(dir, 'bucket=*', '*.parquet')}', hive_partitioning = false`;

describe('generate', () => {
  it('is deterministic for a seed and differs across seeds', async () => {
    await withTmp(async (tmp) => {
      const opts = { symbols: 12, bars: 300, buckets: 3 };
      const a = await generate({ out: join(tmp, 'a'), seed: 5, ...opts });
      const b = await generate({ out: join(tmp, 'b'), seed: 5, ...opts });
      const c = await generate({ out: join(tmp, 'c'), seed: 6, ...opts });
      expect(a.files.map((f) => [f.path, f.rows])).toEqual(b.files.map((f) => [f.path, f.rows]));
      const [same] = await duckRows(
        `SELECT count(*) AS n FROM (SELECT * FROM read_parquet(${glob(join(tmp, 'a'))}) EXCEPT ALL SELECT * FROM read_parquet(${glob(join(tmp, 'b'))}))`,
      );
      expect(same.n).toBe(0);
      const [diff] = await duckRows(
        `SELECT count(*) AS n FROM (SELECT * FROM read_parquet(${glob(join(tmp, 'a'))}) EXCEPT ALL SELECT * FROM read_parquet(${glob(join(tmp, 'c'))}))`,
      );
      expect(diff.n).toBe(12 * 300);
      for (const f of a.files) expect(await sha256File(join(tmp, 'a', f.path))).toBe(f.sha256);
    });
  });

  it('writes valid OHLCV in the canonical layout', async () => {
    await withTmp(async (tmp) => {
      const out = join(tmp, 'ds');
      const meta = await generate({ out, symbols: 40, bars: 260, seed: 3, buckets: 4, start: '2010-01-01' });
      expect(meta.rows).toBe(40 * 260);
      const files = await listDataFiles(out);
      expect(files.map((f) => f.bucket)).toEqual([...new Set(files.map((f) => f.bucket))]);
      const schema = await duckRows(`DESCRIBE SELECT * FROM read_parquet(${glob(out)})`);
      expect(schema.map((r) => [r.column_name, r.column_type])).toEqual([
        ['symbol', 'VARCHAR'], ['ts', 'TIMESTAMP'], ['open', 'DOUBLE'], ['high', 'DOUBLE'],
        ['low', 'DOUBLE'], ['close', 'DOUBLE'], ['volume', 'DOUBLE'],
      ]);
      const [v] = await duckRows(`
        SELECT count(*) AS n,
          count(*) FILTER (WHERE NOT (high >= greatest(open, close) AND low <= least(open, close)
            AND low > 0 AND volume > 0 AND isfinite(open) AND isfinite(high) AND isfinite(low) AND isfinite(close))) AS bad,
          count(DISTINCT symbol) AS symbols,
          count(*) FILTER (WHERE dayofweek(ts) IN (0, 6)) AS weekend,
          min(ts)::VARCHAR AS first
        FROM read_parquet(${glob(out)})`);
      expect(v).toEqual({ n: 40 * 260, bad: 0, symbols: 40, weekend: 0, first: '2010-01-01 00:00:00' });
      // Sorted by (symbol, ts) inside each file; each symbol in the bucket hash(symbol) % 4.
      const [order] = await duckRows(`
        WITH r AS (SELECT filename, file_row_number, symbol, ts,
                     lag(symbol) OVER w AS ps, lag(ts) OVER w AS pt
                   FROM read_parquet(${glob(out)}, filename = true, file_row_number = true)
                   WINDOW w AS (PARTITION BY filename ORDER BY file_row_number))
        SELECT count(*) FILTER (WHERE ps IS NOT NULL AND (symbol < ps OR (symbol = ps AND ts <= pt))) AS unsorted,
               count(*) FILTER (WHERE filename NOT LIKE '%bucket=' || (hash(symbol) % 4) || '/%') AS misplaced
        FROM r`);
      expect(order).toEqual({ unsorted: 0, misplaced: 0 });
      const metaFile = JSON.parse(await readFile(join(out, 'metadata.json'), 'utf8'));
      expect(metaFile.rows).toBe(40 * 260);
      expect(metaFile.files.reduce((s: number, f: { rows: number }) => s + f.rows, 0)).toBe(40 * 260);
    });
  });

  it('rejects bad options with a message naming them, and writes nothing', async () => {
    await withTmp(async (tmp) => {
      const out = join(tmp, 'x');
      await expect(generate({ out, symbols: 0, bars: 10 })).rejects.toThrow(/symbols must be an integer/);
      await expect(generate({ out, symbols: 2, bars: 10, start: '2021-02-30' })).rejects.toThrow(/start must be a date/);
      await expect(generate({ out, symbols: 2, bars: 10, freq: '3x' })).rejects.toMatchObject({
        code: 'BARSTREAM_INVALID_PARAM',
        message: expect.stringContaining("freq must look like 1d"),
      });
      expect(existsSync(out)).toBe(false);
      expect(await readdir(tmp)).toEqual([]);
      await generate({ out, symbols: 2, bars: 10 });
      const err = await generate({ out, symbols: 2, bars: 10 }).catch((e) => e);
      expect(err).toBeInstanceOf(BarstreamError);
      expect(err.message).toMatch(/already exists.*--overwrite/);
    });
  });

  it('sizes buckets to the memory budget', () => {
    expect(chooseBuckets(1000, 10)).toBe(1);
    expect(chooseBuckets(50_000_000, 10_000)).toBeGreaterThan(50);
    expect(chooseBuckets(50_000_000, 10)).toBe(10);
    expect(chooseBuckets(10_000_000, 2000, 512 * 1024 ** 2)).toBe(4 * chooseBuckets(10_000_000, 2000, 2 * 1024 ** 3) - 1);
  });
});
