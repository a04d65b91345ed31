/**
 * What jobs read (issue 8, items 1 and 5): quarantined rows never reach a kernel, a dataset
 * with no bars says so for every reading command, and overlapping inputs are refused.
 * Real files, a real DuckDB, the real addon and the built CLI as a process.
 */
import { existsSync, realpathSync } from 'node:fs';
import { copyFile, mkdir, readFile, symlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ingest } from '../datasets/ingest.js';
import { listDataFiles } from '../datasets/layout.js';
import { Engine, generate } from '../engine/index.js';
import { cliBuilt, runCli } from './util/cli.js';
import { Cell, writeCsv } from './util/csv.js';
import { lit, query } from './util/duck.js';
import { withTempDir } from './util/tmp.js';

const HEADER = ['symbol', 'ts', 'open', 'high', 'low', 'close', 'volume'];
const day = (i: number) => new Date(Date.UTC(2021, 0, 1) + i * 86_400_000).toISOString().slice(0, 10);

/** A valid bar: low < open, close < high. */
function good(symbol: string, i: number): Cell[] {
  const low = 20 + i * 0.25;
  return [symbol, day(i), low + 0.5, low + 2, low, low + 1, 100 + i];
}

/** A bar with high and low swapped (rejected as high_below_low). */
function swapped(symbol: string, i: number): Cell[] {
  const [s, ts, open, high, low, close, volume] = good(symbol, i);
  return [s, ts, open, low, high, close, volume];
}

describe.skipIf(!cliBuilt)('a dataset whose every row was rejected (built CLI)', () => {
  it('ingest exits 0 and says it holds no bars; scan, backtest, trend, read and query --data refuse it in one line', async () => {
    await withTempDir(async (tmp) => {
      const rows = Array.from({ length: 12 }, (_, i) => swapped(i % 2 ? 'A' : 'B', i));
      await writeCsv(join(tmp, 'bad.csv'), HEADER, rows);
      const ds = join(tmp, 'DS');
      const noBars = `dataset ${ds} holds no bars: all ${rows.length} rows were rejected at ingest (see ${join(ds, '_rejected')})`;

      const ing = runCli(tmp, 'ingest', '--in', 'bad.csv', '--out', 'DS');
      expect(ing.status).toBe(0);
      expect(ing.stdout).toMatch(new RegExp(`read ${rows.length} rows .* wrote 0 rows .* rejected ${rows.length} `));
      expect(ing.stderr).toBe(`barstream: warning: ${noBars}\n`);
      const [{ n }] = await query(`SELECT count(*) AS n FROM read_parquet(${lit(join(ds, '_rejected', 'part-0.parquet'))})`);
      expect(n).toBe(rows.length);
      const meta = JSON.parse(await readFile(join(ds, 'metadata.json'), 'utf8'));
      expect(meta).toMatchObject({ format: 'barstream-dataset/1', rows: 0, counts: { read: rows.length, written: 0, rejected: rows.length } });

      const readers = [
        ['scan', '--data', 'DS'],
        ['backtest', '--data', 'DS', '--out', 'bt'],
        ['trend', '--data', 'DS'],
        ['read', '--data', 'DS'],
        ['query', '--data', 'DS', 'SELECT count(*) FROM bars'],
      ];
      for (const args of readers) {
        const r = runCli(tmp, ...args);
        expect({ cmd: args[0], status: r.status, stdout: r.stdout, stderr: r.stderr }).toEqual({
          cmd: args[0],
          status: 1,
          stdout: '',
          stderr: `barstream: ${noBars} (BARSTREAM_BAD_INPUT)\n`,
        });
      }
      expect(existsSync(join(tmp, 'bt'))).toBe(false);

      // --strict: the same dataset is written, and the exit status says rows were rejected.
      const strict = runCli(tmp, 'ingest', '--in', 'bad.csv', '--out', 'DS2', '--strict');
      expect(strict.status).toBe(2);
      expect(strict.stderr).toContain(`holds no bars: all ${rows.length} rows were rejected`);
      expect(existsSync(join(tmp, 'DS2', 'metadata.json'))).toBe(true);
    });
  });
});

describe('quarantined and private files are never read as bars', () => {
  it('a glob or folder holding _rejected/ reads only the bars; a named quarantine file is refused', async () => {
    await withTempDir(async (tmp) => {
      const bars = [...Array.from({ length: 60 }, (_, i) => good('A', i)), ...Array.from({ length: 45 }, (_, i) => good('B', i))];
      // Two rejected rows: one with high and low swapped, one a duplicate (symbol, ts) with
      // valid prices, which would pass for a bar if the quarantine file were read.
      const dup = good('A', 7);
      dup[5] = Number(dup[5]) + 0.5;
      await writeCsv(join(tmp, 'in.csv'), HEADER, [...bars, swapped('B', 80), dup]);
      const ds = join(tmp, 'DS');
      const ing = await ingest({ input: join(tmp, 'in.csv'), out: ds, buckets: 1 });
      expect([ing.read, ing.written, ing.rejected]).toEqual([bars.length + 2, bars.length, 2]);
      const barFiles = (await listDataFiles(ds)).map((f) => f.path);

      const viaGlob = await Engine.open({ dataset: join(ds, '**', '*.parquet'), threads: 1 });
      expect(viaGlob.files).toEqual(barFiles);
      expect((await viaGlob.stream()).rows).toBe(bars.length);
      viaGlob.close();

      // A plain folder of Parquet with a quarantine folder, a _SUCCESS-style file and a hidden folder.
      const plain = join(tmp, 'plain');
      for (const d of ['_rejected', '.staging']) await mkdir(join(plain, d), { recursive: true });
      await copyFile(barFiles[0], join(plain, 'x.parquet'));
      await copyFile(join(ds, '_rejected', 'part-0.parquet'), join(plain, '_rejected', 'part-0.parquet'));
      await copyFile(barFiles[0], join(plain, '_old.parquet'));
      await copyFile(barFiles[0], join(plain, '.staging', 'y.parquet'));
      const viaFolder = await Engine.open({ dataset: plain, threads: 1 });
      expect(viaFolder.files).toEqual([join(plain, 'x.parquet')]);
      const s = await viaFolder.stream();
      expect(Object.fromEntries(s.symbols.map((x) => [x.symbol, x.rows]))).toEqual({ A: 60, B: 45 });
      viaFolder.close();

      // Ingest of the same glob takes the bars, not the quarantine file.
      const again = await ingest({ input: join(ds, '**', '*.parquet'), out: join(tmp, 'again') });
      expect([again.files, again.read, again.rejected]).toEqual([barFiles, bars.length, 0]);

      const rejected = join(ds, '_rejected', 'part-0.parquet');
      for (const input of [rejected, join(ds, '_rejected', '*.parquet')]) {
        await expect(Engine.open({ dataset: input })).rejects.toMatchObject({
          code: 'BARSTREAM_BAD_INPUT',
          message: `${rejected} holds the rows rejected at ingest of dataset ${ds}, not bars`,
        });
      }
    });
  });

  it('a dataset whose rows were all dropped (--on-bad-rows skip) says so', async () => {
    await withTempDir(async (tmp) => {
      await writeCsv(join(tmp, 'bad.csv'), HEADER, [swapped('A', 0), swapped('A', 1), swapped('A', 2)]);
      const ds = join(tmp, 'DS');
      const r = await ingest({ input: join(tmp, 'bad.csv'), out: ds, onBadRows: 'skip' });
      expect([r.read, r.written, r.rejected]).toEqual([3, 0, 3]);
      expect(existsSync(join(ds, '_rejected'))).toBe(false);
      await expect(Engine.open({ dataset: ds })).rejects.toMatchObject({
        code: 'BARSTREAM_BAD_INPUT',
        message: `dataset ${ds} holds no bars: all 3 rows were rejected at ingest (dropped by --on-bad-rows skip)`,
      });
    });
  });
});

describe('overlapping inputs are refused', () => {
  it('the same folder twice, a folder inside another, a file reached twice, a link to the same folder', async () => {
    await withTempDir(async (tmp) => {
      const d = join(tmp, 'D');
      await generate({ out: d, symbols: 4, bars: 120, seed: 5, buckets: 2 });
      const [first] = await listDataFiles(d);
      const bucketDir = dirname(first.path);
      const real = realpathSync(d);
      await symlink(d, join(tmp, 'L'));
      const cases: [string[], string][] = [
        [[d, d], `inputs ${d} and ${d} are the same folder (${real}); give each input once`],
        [[d, `${d}/`], `inputs ${d} and ${d}/ are the same folder (${real}); give each input once`],
        [[d, join(tmp, 'L')], `inputs ${d} and ${join(tmp, 'L')} are the same folder (${real}); give each input once`],
        [[bucketDir, d], `input ${bucketDir} is inside input ${d}; inputs must not overlap`],
        [[d, join(d, 'bucket=*', '*.parquet')], `inputs ${d} and ${join(d, 'bucket=*', '*.parquet')} both reach ${realpathSync(first.path)}; inputs must not overlap`],
        [[first.path, first.path], `inputs ${first.path} and ${first.path} both reach ${realpathSync(first.path)}; inputs must not overlap`],
      ];
      for (const [dataset, message] of cases) {
        await expect(Engine.open({ dataset })).rejects.toMatchObject({ code: 'BARSTREAM_INVALID_PARAM', message });
      }
      // Disjoint inputs still open: each bucket folder once.
      const buckets = [...new Set((await listDataFiles(d)).map((f) => dirname(f.path)))];
      const e = await Engine.open({ dataset: buckets, threads: 1 });
      expect((await e.stream()).rows).toBe(4 * 120);
      e.close();
    });
  });

  it.skipIf(!cliBuilt)('backtest --data D --data D fails in one line and writes nothing', async () => {
    await withTempDir(async (tmp) => {
      await generate({ out: join(tmp, 'D'), symbols: 3, bars: 150, seed: 2, buckets: 1 });
      const r = runCli(tmp, 'backtest', '--data', 'D', '--data', 'D', '--out', 'bt');
      expect(r.status).toBe(1);
      expect(r.stderr).toBe(`barstream: inputs D and D are the same folder (${realpathSync(join(tmp, 'D'))}); give each input once (BARSTREAM_INVALID_PARAM)\n`);
      expect(existsSync(join(tmp, 'bt'))).toBe(false);
    });
  });
});
