import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Engine, generate, kernels } from '../engine/index.js';
import { closesBySymbol } from './util/bars.js';
import { query } from './util/duck.js';
import { withTempDir } from './util/tmp.js';

describe('Engine.scan', () => {
  it('gives every symbol the last Average_Signal of kernels.atc on its closes', async () => {
    await withTempDir(async (tmp) => {
      const data = join(tmp, 'ds');
      await generate({ out: data, symbols: 9, bars: 4500, seed: 21, buckets: 3 });
      const engine = await Engine.open({ dataset: data, threads: 2 });
      const params = { length: 20, robustness: 'Wide' as const, cutout: 10 };
      const seen: { symbolsDone: number; symbolsTotal: number; bars: number }[] = [];
      const r = await engine.scan({ strategy: params, minSignal: 0, onProgress: (p) => seen.push(p) });
      expect(seen.at(-1)).toEqual({ symbolsDone: 9, symbolsTotal: 9, bars: 9 * 4500 });
      expect(seen.every((p, i) => i === 0 || p.symbolsDone >= seen[i - 1].symbolsDone)).toBe(true);
      const series = await closesBySymbol(data);
      expect(r.processed).toBe(9);
      expect(r.skipped).toEqual([]);
      expect(r.failed).toEqual([]);
      for (const s of r.symbols) {
        const { close, ts } = series.get(s.symbol)!;
        const atc = kernels.atc(close, params);
        expect(s.signal).toBe(atc.Average_Signal[close.length - 1]);
        expect(s.close).toBe(close[close.length - 1]);
        expect(s.ts.getTime() * 1000).toBe(ts[ts.length - 1]);
        expect(s.bars).toBe(4500);
      }
      const listed = [...r.long, ...r.short];
      expect(listed.length).toBe(r.symbols.filter((s) => s.signal !== 0).length);
      for (const side of [r.long, r.short]) {
        const strength = side.map((e) => Math.abs(e.signal));
        expect(strength).toEqual([...strength].sort((a, b) => b - a));
      }
      expect(r.long.every((e) => e.signal > 0) && r.short.every((e) => e.signal < 0)).toBe(true);
    });
  });

  it('names skipped and failed symbols, keeps going, and writes every result with --out', async () => {
    await withTempDir(async (tmp) => {
      const data = join(tmp, 'ds');
      await generate({ out: data, symbols: 6, bars: 800, seed: 4, buckets: 2 });
      const engine = await Engine.open({ dataset: data, threads: 2 });
      const [short, broken] = [...(await closesBySymbol(data)).keys()].sort();
      const sql = `SELECT * REPLACE (CASE WHEN symbol = '${broken}' AND ts > '2006-01-01' THEN -close ELSE close END AS close)
                   FROM bars WHERE NOT (symbol = '${short}' AND ts > '2005-01-20')`;
      const r = await engine.scan({ sql, minSignal: 0.2, top: 1, out: join(tmp, 'scan') });
      expect(r.processed).toBe(4);
      expect(r.skipped).toEqual([{ symbol: short, reason: expect.stringMatching(/^\d+ bars, fewer than the longest MA length 34$/) }]);
      expect(r.failed).toEqual([{ symbol: broken, stage: 'kernel', message: expect.stringMatching(/x\[\d+\] is -[\d.]+: prices must be finite and > 0/) }]);
      expect(r.long.length).toBeLessThanOrEqual(1);
      expect(r.short.length).toBeLessThanOrEqual(1);
      const rows = await query(`SELECT status, count(*) AS n FROM read_parquet('${join(tmp, 'scan', 'scan.parquet')}') GROUP BY status ORDER BY status`);
      expect(rows).toEqual([{ status: 'failed', n: 1 }, { status: 'processed', n: 4 }, { status: 'skipped', n: 1 }]);
    });
  });

  it('a bad SQL source or parameter is an error before anything is written; an abort cancels', async () => {
    await withTempDir(async (tmp) => {
      const data = join(tmp, 'ds');
      await generate({ out: data, symbols: 4, bars: 300, seed: 4 });
      const engine = await Engine.open({ dataset: data });
      const out = join(tmp, 'scan');
      await expect(engine.scan({ sql: 'SELECT symbol, ts FROM bars', out })).rejects.toMatchObject({
        code: 'BARSTREAM_BAD_INPUT',
        message: 'the SQL source lacks column close (it returns symbol, ts)',
      });
      await expect(engine.scan({ strategy: { length: 3, robustness: 'Wide' }, out })).rejects.toMatchObject({
        code: 'BARSTREAM_INVALID_PARAM',
        message: expect.stringContaining('every length must be an integer from 1 to 1000000'),
      });
      expect(existsSync(out)).toBe(false);
      const abort = new AbortController();
      abort.abort();
      await expect(engine.scan({ signal: abort.signal })).rejects.toMatchObject({ code: 'BARSTREAM_CANCELLED' });
    });
  });

});

describe('Engine.trendScan', () => {
  it('gives every symbol the last MA and trend state of kernels.* on its closes, and the bars spent long and short', async () => {
    await withTempDir(async (tmp) => {
      const data = join(tmp, 'ds');
      await generate({ out: data, symbols: 7, bars: 3000, seed: 9, buckets: 2 });
      const engine = await Engine.open({ dataset: data, threads: 2 });
      const series = await closesBySymbol(data);
      for (const [ma, fn] of [['SMA', kernels.sma], ['KAMA', kernels.kama], ['HMA', kernels.hma]] as const) {
        const r = await engine.trendScan({ ma, length: 30 });
        expect(r.processed).toBe(7);
        for (const s of r.symbols) {
          const { close } = series.get(s.symbol)!;
          const line = fn(close, 30);
          const state = kernels.trendState(close, line);
          expect(s.ma).toBe(line[close.length - 1]);
          expect(s.state).toBe(state[close.length - 1]);
          expect(s.longBars).toBe(state.filter((v) => v > 0).length);
          expect(s.shortBars).toBe(state.filter((v) => v < 0).length);
        }
      }
      await expect(engine.trendScan({ ma: 'XMA' as never })).rejects.toMatchObject({ code: 'BARSTREAM_INVALID_PARAM', message: expect.stringContaining("ma must be one of SMA") });
      const short = await engine.trendScan({ length: 5000 });
      expect(short.skipped.length).toBe(7);
      expect(short.skipped[0].reason).toBe(`3000 bars, the formula needs at least ${kernels.compileFormula('ma = sma(close, 5000)\ntrend_state(close, ma)').warmup + 1}`);
    });
  });
});
