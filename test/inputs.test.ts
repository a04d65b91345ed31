import { copyFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Engine, generate } from '../engine/index.js';
import { query } from './util/duck.js';
import { withTempDir } from './util/tmp.js';

describe('several inputs', () => {
  it('reads a dataset folder and other Parquet (a file and a glob, unsorted) as one source', async () => {
    await withTempDir(async (tmp) => {
      const a = join(tmp, 'a');
      const b = join(tmp, 'b');
      await generate({ out: a, symbols: 4, bars: 700, seed: 1, buckets: 2 });
      await generate({ out: b, symbols: 6, bars: 700, seed: 2, buckets: 1 });
      await mkdir(join(tmp, 'raw'));
      // The second source as plain Parquet: other symbol names, rows shuffled, split in two files.
      for (const [name, half] of [['x1.parquet', 0], ['x2.parquet', 1]] as const) {
        await query(`COPY (SELECT * REPLACE ('X' || symbol AS symbol) FROM read_parquet('${b}/bucket=*/*.parquet', hive_partitioning = false)
                     WHERE hash(symbol) % 2 = ${half} ORDER BY hash(ts, close)) TO '${join(tmp, 'raw', name)}' (FORMAT parquet)`);
      }
      const together = await Engine.open({ dataset: [a, join(tmp, 'raw', 'x1.parquet'), join(tmp, 'raw', 'x2*.parquet')], threads: 2 });
      const both = await together.scan({ minSignal: 0 });
      const alone = [await (await Engine.open({ dataset: a })).scan({ minSignal: 0 }), await (await Engine.open({ dataset: b })).scan({ minSignal: 0 })];
      expect(both.processed).toBe(10);
      const bySymbol = (r: typeof both, prefix = '') => Object.fromEntries(r.symbols.map((s) => [prefix + s.symbol, [s.signal, s.close, s.bars]]));
      expect(bySymbol(both)).toEqual({ ...bySymbol(alone[0]), ...bySymbol(alone[1], 'X') });
      const bt = await together.backtest({ out: join(tmp, 'bt') });
      expect(bt.manifest.counts).toMatchObject({ symbols: 10, processed: 10, bars: 7000, signalRows: 7000, buckets: 3 });
    });
  });

  it('refuses inputs that share a symbol, and a glob that matches nothing', async () => {
    await withTempDir(async (tmp) => {
      const a = join(tmp, 'a');
      await generate({ out: a, symbols: 3, bars: 100, seed: 1, buckets: 1 });
      // A copy of the dataset's file: other paths, the same symbols; refused when the engine opens.
      await mkdir(join(tmp, 'copy'));
      await copyFile(join(a, 'bucket=0', 'part-0.parquet'), join(tmp, 'copy', 'part-0.parquet'));
      await expect(Engine.open({ dataset: [a, join(tmp, 'copy', '*.parquet')] })).rejects.toMatchObject({
        code: 'BARSTREAM_INVALID_PARAM',
        message: expect.stringMatching(/symbol 'AAA[A-Z]' appears in more than one input/),
      });
      await expect(Engine.open({ dataset: [a, join(tmp, 'none', '*.parquet')] })).rejects.toMatchObject({
        code: 'BARSTREAM_IO',
        message: `${join(tmp, 'none', '*.parquet')} matches no file`,
      });
    });
  });
});
