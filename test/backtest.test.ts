import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { sha256File } from '../datasets/layout.js';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Engine, generate, ingest, kernels } from '../engine/index.js';
import { writeCsv } from './util/csv.js';
import { packageRoot } from '../engine/native.js';
import { closesBySymbol } from './util/bars.js';
import { query } from './util/duck.js';
import { simulate } from './util/strategy.js';
import { withTempDir } from './util/tmp.js';

const signals = (out: string) => `read_parquet('${join(out, 'signals', '*', '*.parquet')}', hive_partitioning = false)`;
const TYPES = ['EMA', 'HMA', 'WMA', 'DEMA', 'LSMA', 'KAMA'] as const;

/** Equal value for value, NaN where NaN; -0 equals 0 (Parquet dictionaries do not keep the sign of zero). */
function expectSame(got: Float64Array, want: Float64Array, what: string) {
  expect(got.length, what).toBe(want.length);
  const bad = got.findIndex((v, i) => !(v === want[i] || (Number.isNaN(v) && Number.isNaN(want[i]))));
  expect(bad, `${what}: first difference at bar ${bad}: ${got[bad]} vs ${want[bad]}`).toBe(-1);
}

/** The trading rule, written again from the spec: positions follow events one bar late (`simulate`). */
function trade(close: Float64Array, event: Float64Array, feeBps: number, longOnly: boolean) {
  return simulate(close, feeBps, (target, t) => (event[t] > 0 ? 1 : event[t] < 0 ? (longOnly ? 0 : -1) : target));
}

describe('Engine.backtest', () => {
  it('writes per-bar outputs equal to kernels.atc and the trading rule, for symbols spanning many batches', async () => {
    await withTempDir(async (tmp) => {
      const data = join(tmp, 'ds');
      await generate({ out: data, symbols: 5, bars: 7000, seed: 8, buckets: 2 });
      const engine = await Engine.open({ dataset: data, threads: 2 });
      const out = join(tmp, 'bt');
      const params = { length: 14, robustness: 'Narrow' as const };
      const r = await engine.backtest({ out, strategy: params, feeBps: 5, longOnly: true });
      expect(r.manifest.counts).toMatchObject({ symbols: 5, processed: 5, skipped: 0, failed: 0, bars: 35_000, signalRows: 35_000 });
      const series = await closesBySymbol(data);
      for (const [symbol, { close, ts }] of series) {
        const rows = await query(`SELECT * EXCLUDE (symbol) REPLACE (epoch_us(ts) AS ts) FROM ${signals(out)} WHERE symbol = '${symbol}' ORDER BY ts`);
        expect(rows.length).toBe(close.length);
        const atc = kernels.atc(close, params);
        const { pos, ret, eq } = trade(close, atc.Event, 5, true);
        const col = (name: string) => Float64Array.from(rows, (row) => (row[name] === null ? NaN : (row[name] as number)));
        expect(rows.map((row) => row.ts)).toEqual(ts);
        expectSame(col('close'), close, 'close');
        expectSame(col('average_signal'), atc.Average_Signal, 'average_signal');
        for (const t of TYPES) {
          expectSame(col(`${t.toLowerCase()}_signal`), atc[`${t}_Signal`], `${t}_Signal`);
          expectSame(col(`${t.toLowerCase()}_s`), atc[`${t}_S`], `${t}_S`);
        }
        expectSame(col('event'), atc.Event, 'event');
        expectSame(col('position'), pos, 'position');
        expectSame(col('strategy_return'), ret, 'strategy_return');
        const e = col('equity');
        e.forEach((v, i) => expect(Math.abs(v - eq[i])).toBeLessThan(1e-12 * eq[i]));
        const [s] = await query(`SELECT * FROM read_parquet('${join(out, 'summary', '*.parquet')}') WHERE symbol = '${symbol}'`);
        expect(s.bars).toBe(close.length);
        expect(Math.abs((s.total_return as number) - (eq[eq.length - 1] - 1))).toBeLessThan(1e-9);
        expect(s.exposure).toBe(pos.filter((p) => p !== 0).length / pos.length);
      }
      const manifest = JSON.parse(await readFile(join(out, '_manifest.json'), 'utf8'));
      for (const f of manifest.files as { path: string; bytes: number; sha256: string }[]) {
        expect(await sha256File(join(out, f.path))).toBe(f.sha256);
        expect((await stat(join(out, f.path))).size).toBe(f.bytes);
      }
      expect(manifest.files.map((f: { path: string }) => f.path).sort()).toEqual(
        ['_errors/part-0.parquet', '_errors/part-1.parquet', '_state/symbols/bucket=0/part-0.parquet', '_state/symbols/bucket=1/part-0.parquet', 'signals/bucket=0/part-0.parquet', 'signals/bucket=1/part-0.parquet', 'summary/part-0.parquet', 'summary/part-1.parquet', 'trades/open-0.parquet', 'trades/open-1.parquet', 'trades/part-0.parquet', 'trades/part-1.parquet'],
      );
    });
  });

  it('records a failing symbol in _errors and completes the others; a bad SQL writes nothing', async () => {
    await withTempDir(async (tmp) => {
      const data = join(tmp, 'ds');
      await generate({ out: data, symbols: 6, bars: 3000, seed: 3, buckets: 2 });
      const engine = await Engine.open({ dataset: data, threads: 2 });
      const broken = [...(await closesBySymbol(data)).keys()].sort()[2];
      const out = join(tmp, 'bt');
      // The failure comes after the symbol's first rows were already written (bar 2600 of 3000).
      const sql = `SELECT * REPLACE (CASE WHEN symbol = '${broken}' AND ts >= '2015-01-01' THEN 0 ELSE close END AS close) FROM bars`;
      const r = await engine.backtest({ out, sql });
      expect(r.manifest.counts).toMatchObject({ symbols: 6, processed: 5, failed: 1, skipped: 0, signalRows: 5 * 3000 });
      const errors = await query(`SELECT * FROM read_parquet('${join(out, '_errors', '*.parquet')}')`);
      expect(errors).toEqual([{ symbol: broken, stage: 'kernel', message: expect.stringMatching(/^atc: x\[\d+\] is 0: prices must be finite and > 0$|x\[\d+\] is 0/) }]);
      const [left] = await query(`SELECT count(*) AS n FROM ${signals(out)} WHERE symbol = '${broken}'`);
      expect(left.n).toBe(0);
      const bad = join(tmp, 'bad');
      await expect(engine.backtest({ out: bad, sql: 'SELECT * FROM bars WHERE' })).rejects.toMatchObject({ code: 'BARSTREAM_DUCKDB' });
      await expect(engine.backtest({ out: bad, sql: 'SELECT symbol, ts, open FROM bars' })).rejects.toThrow(/lacks column close/);
      expect(existsSync(bad)).toBe(false);
      await expect(engine.backtest({ out })).rejects.toThrow(/already exists.*--resume.*--overwrite/);
    });
  });

  it('counts the rows ingest rejected and loses none of the rest', async () => {
    await withTempDir(async (tmp) => {
      const rows: (string | number)[][] = [];
      const day = (i: number) => new Date(Date.UTC(2020, 0, 1) + i * 86_400_000).toISOString().slice(0, 10);
      for (const sym of ['AAA', 'BBB']) {
        for (let i = 0; i < 120; i++) {
          const c = 100 + 10 * Math.sin(i / 7) + (sym === 'BBB' ? 5 : 0);
          rows.push([sym, day(i), c, c + 1, c - 1, c, 1000]);
        }
      }
      rows[10][3] = 1; // high < low
      rows[150][5] = -3; // close <= 0 and outside [low, high]
      rows.push(['AAA', day(5), 101, 102, 100, 101, 10]); // duplicate (symbol, ts)
      const csv = join(tmp, 'in.csv');
      await writeCsv(csv, ['symbol', 'ts', 'open', 'high', 'low', 'close', 'volume'], rows);
      const data = join(tmp, 'ds');
      const ing = await ingest({ input: csv, out: data });
      expect([ing.read, ing.written, ing.rejected]).toEqual([241, 238, 3]);
      const engine = await Engine.open({ dataset: data });
      const r = await engine.backtest({ out: join(tmp, 'bt') });
      expect(r.manifest.counts).toMatchObject({ rejectedRows: 3, bars: 238, signalRows: 238, processed: 2 });
    });
  });

  it('after a killed run, --resume produces the same files as an uninterrupted run', async () => {
    await withTempDir(async (tmp) => {
      const data = join(tmp, 'ds');
      await generate({ out: data, symbols: 48, bars: 5000, seed: 5, buckets: 24 });
      const cli = join(packageRoot(), 'dist', 'engine', 'cli', 'main.js');
      const args = (out: string, ...extra: string[]) => [cli, 'backtest', '--data', data, '--out', out, '--threads', '1', ...extra];
      const whole = join(tmp, 'whole');
      const killed = join(tmp, 'killed');
      await run(args(whole));
      // Kill -9 as soon as the first bucket is complete.
      const child = spawn(process.execPath, args(killed), { stdio: 'ignore' });
      const state = join(killed, '_state');
      const markers = async () => (existsSync(state) ? (await readdir(state)).filter((f) => f.startsWith('bucket-')).length : 0);
      while ((await markers()) === 0 && child.exitCode === null) await new Promise((r) => setTimeout(r, 5));
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      const doneAtKill = await markers();
      expect(doneAtKill).toBeGreaterThan(0);
      expect(doneAtKill).toBeLessThan(24);
      expect(existsSync(join(killed, '_manifest.json'))).toBe(false);
      // Whatever is visible under a reader's glob is a whole file.
      const [visible] = await query(`SELECT count(*) AS n FROM ${signals(killed)}`);
      expect(visible.n).toBeGreaterThan(0);
      await run(args(killed, '--resume'));
      const leftovers = (await readdir(killed, { recursive: true })).filter((f) => /\.tmp-\d+$/.test(f));
      expect(leftovers).toEqual([]);
      for (const part of ['signals/*/*.parquet', 'summary/*.parquet', '_errors/*.parquet']) {
        const a = `read_parquet('${join(whole, part)}', hive_partitioning = false)`;
        const b = `read_parquet('${join(killed, part)}', hive_partitioning = false)`;
        const [d] = await query(`SELECT (SELECT count(*) FROM (FROM ${a} EXCEPT ALL FROM ${b})) + (SELECT count(*) FROM (FROM ${b} EXCEPT ALL FROM ${a})) AS n, (SELECT count(*) FROM ${a}) AS rows`);
        expect(d.n).toBe(0);
      }
      const m1 = JSON.parse(await readFile(join(whole, '_manifest.json'), 'utf8'));
      const m2 = JSON.parse(await readFile(join(killed, '_manifest.json'), 'utf8'));
      expect(m2.counts).toEqual(m1.counts);
      expect(m2.files.map((f: { path: string; rows: number }) => [f.path, f.rows])).toEqual(m1.files.map((f: { path: string; rows: number }) => [f.path, f.rows]));
    });
  });
});

describe('barstream backtest (CLI)', () => {
  it('stops cleanly on Ctrl-C, keeps the finished buckets and says how to finish', async () => {
    await withTempDir(async (tmp) => {
      const data = join(tmp, 'ds');
      await generate({ out: data, symbols: 48, bars: 5000, seed: 6, buckets: 24 });
      const out = join(tmp, 'bt');
      const cli = join(packageRoot(), 'dist', 'engine', 'cli', 'main.js');
      const child = spawn(process.execPath, [cli, 'backtest', '--data', data, '--out', out, '--threads', '1'], { stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      child.stderr.on('data', (d) => (err += d));
      const state = join(out, '_state');
      while (!(existsSync(state) && (await readdir(state)).some((f) => f.startsWith('bucket-'))) && child.exitCode === null) {
        await new Promise((r) => setTimeout(r, 5));
      }
      child.kill('SIGINT');
      const code = await new Promise((r) => child.once('exit', r));
      expect(code).toBe(130);
      expect(err).toMatch(/stopped: finished buckets are complete in .*; rerun with --resume to finish/);
      const done = (await readdir(state)).filter((f) => f.startsWith('bucket-')).length;
      expect(done).toBeGreaterThan(0);
      expect(done).toBeLessThan(20);
      expect((await readdir(out, { recursive: true })).filter((f) => /\.tmp-\d+$/.test(f))).toEqual([]);
      await run([cli, 'backtest', '--data', data, '--out', out, '--resume']);
      const buckets = (await readdir(data)).filter((f) => f.startsWith('bucket=')).length;
      expect(JSON.parse(await readFile(join(out, '_manifest.json'), 'utf8')).counts).toMatchObject({ buckets, symbols: 48, signalRows: 48 * 5000 });
    });
  });
});

function run(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`exit ${code}: ${err}`))));
  });
}
