import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Engine, generate } from '../engine/index.js';
import { query as duckRows } from './util/duck.js';
import { withTempDir as withTmp } from './util/tmp.js';

describe('Engine.stream (DuckDB -> Rust read path)', () => {
  it('delivers every symbol whole and in order, even when it spans many batches', async () => {
    await withTmp(async (tmp) => {
      const out = join(tmp, 'ds');
      await generate({ out, symbols: 6, bars: 9000, seed: 11, buckets: 2 });
      const engine = await Engine.open({ dataset: out, threads: 2 });
      const expected = await duckRows(`
        SELECT symbol, count(*) AS rows, epoch_us(min(ts)) AS first, epoch_us(max(ts)) AS last,
               sum(close) AS sum, arg_max(close, ts) AS last_close
        FROM read_parquet('${join(out, 'bucket=*', '*.parquet')}', hive_partitioning = false)
        GROUP BY symbol ORDER BY symbol`);
      for (const mode of ['vectors', 'arrow'] as const) {
        const r = await engine.stream({ mode });
        expect(r.rows).toBe(6 * 9000);
        expect(r.sorted).toBe(false);
        const got = [...r.symbols].sort((a, b) => a.symbol.localeCompare(b.symbol));
        expect(got.map((s) => s.symbol)).toEqual(expected.map((e) => e.symbol));
        got.forEach((s, i) => {
          const e = expected[i];
          // 9000 bars span at least 5 DuckDB chunks of 2048 rows.
          expect(s.runs).toBeGreaterThanOrEqual(5);
          expect(s.rows).toBe(e.rows);
          expect(s.firstTs.getTime() * 1000).toBe(e.first);
          expect(s.lastTs.getTime() * 1000).toBe(e.last);
          expect(s.lastClose).toBe(e.last_close);
          expect(Math.abs(s.sumClose - (e.sum as number))).toBeLessThan(1e-9 * (e.sum as number));
        });
      }
    });
  });

  it('sorts a source that is not in (symbol, ts) order and gives the same result', async () => {
    await withTmp(async (tmp) => {
      const out = join(tmp, 'ds');
      await generate({ out, symbols: 5, bars: 3000, seed: 2, buckets: 1 });
      const engine = await Engine.open({ dataset: out, threads: 2 });
      const plain = await engine.stream();
      const shuffled = await engine.stream({ sql: 'SELECT * FROM bars ORDER BY hash(ts, symbol)' });
      expect(shuffled.sorted).toBe(true);
      expect(shuffled.symbols.map((s) => [s.symbol, s.rows, s.lastClose, s.firstTs.getTime()])).toEqual(
        plain.symbols.map((s) => [s.symbol, s.rows, s.lastClose, s.firstTs.getTime()]),
      );
      const filtered = await engine.stream({ sql: `SELECT * FROM bars WHERE ts >= '2010-01-01'` });
      expect(filtered.rows).toBeLessThan(plain.rows);
    });
  });

  it('an unreadable file gives a clear error naming it', async () => {
    await withTmp(async (tmp) => {
      const out = join(tmp, 'ds');
      await generate({ out, symbols: 4, bars: 100, seed: 1, buckets: 2 });
      const broken = join(out, 'bucket=1', 'part-0.parquet');
      await writeFile(broken, 'this is not parquet');
      const err = await Engine.open({ dataset: out }).then((e) => e.stream()).catch((e) => e);
      expect(err.code).toBe('BARSTREAM_DUCKDB');
      expect(err.message).toContain(broken);
    });
  });

  it('a missing dataset or a bad query is a clear error', async () => {
    await expect(Engine.open({ dataset: '/nonexistent/barstream-data' })).rejects.toMatchObject({
      code: 'BARSTREAM_IO',
      message: 'dataset /nonexistent/barstream-data does not exist',
    });
    await withTmp(async (tmp) => {
      const out = join(tmp, 'ds');
      await generate({ out, symbols: 2, bars: 50 });
      const engine = await Engine.open({ dataset: out });
      await expect(engine.stream({ sql: 'SELECT * FROM nowhere' })).rejects.toMatchObject({
        code: 'BARSTREAM_DUCKDB',
        message: expect.stringContaining('nowhere'),
      });
      await expect(engine.stream({ columns: ['close; DROP TABLE x'] })).rejects.toMatchObject({ code: 'BARSTREAM_INVALID_PARAM' });
      await expect(engine.stream({ columns: ['vwap'] })).rejects.toMatchObject({ message: expect.stringContaining('vwap') });
      engine.close();
      engine.close();
      await expect(engine.stream()).rejects.toMatchObject({ code: 'BARSTREAM_INVALID_PARAM', message: 'the engine is closed' });
      await expect(engine.scan()).rejects.toMatchObject({ message: expect.stringContaining('the engine is closed') });
    });
  });
});
