/**
 * `backtest --update` (issue 11 item 3) on real files: datasets grown with `ingest --append`,
 * the real addon, real processes. After one, several and zero appended bars every row of
 * signals, summary, trades and _errors equals a full run over the whole dataset (read back
 * with DuckDB, ORDER BY ALL, doubles compared exactly, NaN equal to NaN), new symbols, a
 * symbol skipped for too few bars that later qualifies, and a failed symbol that stays failed
 * included; `barsRead` is the new bars. Each refusal is named. A kill -9 at each commit point
 * (and after random delays) leaves readable results (the previous ones, or the decided update
 * completed by the reader) and a rerun ends equal to a full run.
 */
import { cp } from 'node:fs/promises';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BacktestOptions, BacktestResult, Engine, ingest, query as engineQuery } from '../engine/index.js';
import { BarstreamError } from '../engine/errors.js';
import { cli, cliBuilt, startCli } from './util/cli.js';
import { Cell, writeCsv } from './util/csv.js';
import { lit, query } from './util/duck.js';
import { Rng } from './util/rng.js';
import { withTempDir } from './util/tmp.js';

const HEADER = ['symbol', 'ts', 'open', 'high', 'low', 'close', 'volume'];
const DAY_MS = 86_400_000;
const T0 = Date.UTC(2020, 0, 1);
const BUCKETS = 3;
const SEEDS: Record<string, number> = { AAA: 1, BBB: 2, CCC: 3, DDD: 4, BAD: 5, SHORT: 6, NEW: 7, NEW2: 8 };
/** BAD's close is 0 on this day through the SQL source: the ATC fails it (stage kernel). */
const BAD_DAY = new Date(T0 + 120 * DAY_MS).toISOString().slice(0, 10);
const SQL = `SELECT symbol, ts, CASE WHEN symbol = 'BAD' AND ts = TIMESTAMP '${BAD_DAY}' THEN 0 ELSE close END AS close FROM bars`;
const FORMULA = 'fast = ema(close, 5)\nslow = sma(close, 15)\nentry = crosses_above(fast, slow)\nexit = crosses_below(fast, slow)\nshort_entry = exit\nshort_exit = entry';

/** Days `from..from+n` of `symbol`: a seeded random walk with trends that turn, valid OHLC. */
function bars(symbol: string, from: number, n: number): Cell[][] {
  const rng = new Rng(SEEDS[symbol]);
  let c = 100;
  const all: Cell[][] = [];
  for (let i = 0; i < from + n; i++) {
    c *= 1 + (rng.next() - 0.5) * 0.04 + (Math.floor(i / 25) % 2 === 0 ? 0.004 : -0.004);
    all.push([symbol, new Date(T0 + i * DAY_MS).toISOString(), c, c * 1.01, c * 0.99, c, Math.round(rng.next() * 1e6)]);
  }
  return all.slice(from);
}

/** The symbols' bars through `days` (a symbol's own length where given), day `start` on. */
const rows = (spec: Record<string, [number, number]>) => Object.entries(spec).flatMap(([s, [from, n]]) => bars(s, from, n));

async function withEngine<T>(ds: string, body: (e: Engine) => Promise<T>): Promise<T> {
  const e = await Engine.open({ dataset: ds, threads: 2 });
  try {
    return await body(e);
  } finally {
    e.close();
  }
}

const backtest = (ds: string, opts: BacktestOptions): Promise<BacktestResult> => withEngine(ds, (e) => e.backtest(opts));

async function append(tmp: string, ds: string, name: string, data: Cell[][]): Promise<number> {
  const file = join(tmp, `${name}.csv`);
  await writeCsv(file, HEADER, data);
  const r = await ingest({ input: file, out: ds, append: true });
  expect(r.written).toBe(data.length);
  return data.length;
}

const TABLES = { signals: 'signals/bucket=*/*.parquet', summary: 'summary/*.parquet', trades: 'trades/*.parquet', errors: '_errors/*.parquet' };

/** Every row of the four tables, ordered. */
async function tables(out: string): Promise<Record<string, Record<string, unknown>[]>> {
  const got: Record<string, Record<string, unknown>[]> = {};
  for (const [name, glob] of Object.entries(TABLES)) got[name] = await query(`SELECT * FROM read_parquet(${lit(join(out, glob))}, hive_partitioning = false) ORDER BY ALL`);
  return got;
}

/** The updated output equals a full run of the same options over the whole dataset, row for row. */
async function expectFullRun(tmp: string, ds: string, out: string, opts: Omit<BacktestOptions, 'out'>, label: string) {
  const full = join(tmp, `full-${label}`);
  const f = await backtest(ds, { ...opts, out: full });
  const [a, b] = [await tables(out), await tables(full)];
  for (const t of Object.keys(TABLES)) expect(a[t], `${label}: ${t}`).toEqual(b[t]);
  expect(a.signals.length).toBe(f.manifest.counts.signalRows);
  const m = JSON.parse(readFileSync(join(out, '_manifest.json'), 'utf8'));
  expect(m.counts, `${label}: manifest counts`).toEqual(f.manifest.counts);
  expect(m.input, `${label}: manifest input`).toEqual(f.manifest.input);
  return { full: f, tables: a };
}

async function refusal(p: Promise<unknown>): Promise<BarstreamError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof BarstreamError) return e;
    throw e;
  }
  throw new Error('expected a refusal');
}

describe('backtest --update', () => {
  it('ATC with SQL: after one, zero and several appended bars equals a full run (new, skipped-then-processed and failed symbols)', async () => {
    await withTempDir(async (tmp) => {
      const ds = join(tmp, 'ds');
      const base = join(tmp, 'base.csv');
      await writeCsv(base, HEADER, rows({ AAA: [0, 200], BBB: [0, 200], CCC: [0, 200], DDD: [0, 200], BAD: [0, 200], SHORT: [0, 30] }));
      await ingest({ input: base, out: ds, buckets: BUCKETS });
      const out = join(tmp, 'bt');
      const opts = { sql: SQL, feeBps: 5 };
      const first = await backtest(ds, { ...opts, out });
      expect(first.barsRead).toBe(5 * 200 + 30);
      const errors = (await tables(out)).errors;
      expect(errors.map((e) => [e.symbol, e.stage])).toEqual([['BAD', 'kernel'], ['SHORT', 'skipped']]);
      const longest = Number(/longest MA length (\d+)/.exec(String(errors[1].message))![1]);
      expect(longest).toBeGreaterThan(31);

      // One new bar per symbol and a new symbol.
      const added1 = await append(tmp, ds, 'a1', rows({ AAA: [200, 1], BBB: [200, 1], CCC: [200, 1], DDD: [200, 1], BAD: [200, 1], SHORT: [30, 1], NEW: [0, 60] }));
      const u1 = await backtest(ds, { out, update: true });
      expect(u1.barsRead).toBe(added1);
      expect(u1.update).toMatchObject({ generation: 1, barsRead: added1, symbolsAdded: 1, symbolsUpdated: 5 });
      expect(u1.update!.newFiles.length).toBeGreaterThan(0);
      const r1 = await expectFullRun(tmp, ds, out, opts, 'one');
      expect(u1.update!.rowsAdded).toBe(4 + 60);
      expect(r1.tables.errors.map((e) => [e.symbol, e.stage])).toEqual([['BAD', 'kernel'], ['SHORT', 'skipped']]);
      expect(u1.manifest.generation).toBe(1);

      // Nothing new: a no-op that says so.
      const u0 = await backtest(ds, { out, update: true, feeBps: 5 });
      expect(u0.update).toEqual({ generation: 1, newFiles: [], barsRead: 0, symbolsAdded: 0, symbolsUpdated: 0, rowsAdded: 0, tradesAdded: 0 });
      expect(u0.barsRead).toBe(0);

      // Two appends, one update: SHORT reaches the ATC's minimum and is processed; another new symbol.
      const grow = longest - 31 + 3;
      const added2 = await append(tmp, ds, 'a2', rows({ AAA: [201, 3], BBB: [201, 3], SHORT: [31, grow], NEW: [60, 2] }));
      const added3 = await append(tmp, ds, 'a3', rows({ AAA: [204, 2], CCC: [201, 4], NEW2: [0, 70], NEW: [62, 1] }));
      const u2 = await backtest(ds, { out, update: true });
      expect(u2.update).toMatchObject({ generation: 2, barsRead: added2 + added3, symbolsAdded: 1, symbolsUpdated: 5 });
      const r2 = await expectFullRun(tmp, ds, out, opts, 'several');
      expect(r2.tables.errors.map((e) => [e.symbol, e.stage])).toEqual([['BAD', 'kernel']]);
      expect(r2.tables.summary.map((s) => s.symbol)).toContain('SHORT');
      // Layout: generation g's signals as part-g of their buckets.
      const parts = await query(`SELECT DISTINCT regexp_extract(filename, 'part-(\\d+)', 1) AS g FROM read_parquet(${lit(join(out, TABLES.signals))}, filename = true) ORDER BY g`);
      expect(parts.map((p) => p.g)).toEqual(['0', '1', '2']);
      // Trades: part-<k> (closed by the full run), part-<k>-<g> (closed by update g), open-<k> (still open).
      const tradeFiles = readdirSync(join(out, 'trades')).filter((f) => !f.startsWith('.'));
      expect(tradeFiles.every((f) => /^(part-\d+|part-\d+-[12]|open-\d+)\.parquet$/.test(f)), tradeFiles.join(' ')).toBe(true);
      expect(tradeFiles.filter((f) => /^part-\d+-2\.parquet$/.test(f)).length).toBeGreaterThan(0);
    });
  }, 60_000);

  it('a formula strategy: two updates in a row equal full runs, trades included', async () => {
    await withTempDir(async (tmp) => {
      const ds = join(tmp, 'ds');
      const base = join(tmp, 'base.csv');
      await writeCsv(base, HEADER, rows({ AAA: [0, 150], BBB: [0, 150], CCC: [0, 150], DDD: [0, 150] }));
      await ingest({ input: base, out: ds, buckets: BUCKETS });
      const out = join(tmp, 'bt');
      const opts = { strategy: { formula: FORMULA }, longOnly: false };
      await backtest(ds, { ...opts, out });
      const added1 = await append(tmp, ds, 'a1', rows({ AAA: [150, 1], BBB: [150, 1], CCC: [150, 1], DDD: [150, 1], NEW: [0, 40] }));
      const u1 = await backtest(ds, { out, update: true, strategy: { formula: FORMULA } });
      expect(u1.update).toMatchObject({ generation: 1, barsRead: added1, symbolsAdded: 1, symbolsUpdated: 4 });
      await expectFullRun(tmp, ds, out, opts, 'formula-one');
      const added2 = await append(tmp, ds, 'a2', rows({ AAA: [151, 40], BBB: [151, 40], CCC: [151, 40], DDD: [151, 40], NEW: [40, 40] }));
      const u2 = await backtest(ds, { out, update: true });
      expect(u2.barsRead).toBe(added2);
      const r2 = await expectFullRun(tmp, ds, out, opts, 'formula-two');
      // 40 bars of turning trends: trades were closed and opened by this update.
      expect(u2.update!.tradesAdded).toBeGreaterThan(0);
      // Closed, or opened and still open, after the symbol's last bar before this update.
      const last = (s: unknown) => new Date(T0 + (s === 'NEW' ? 39 : 150) * DAY_MS);
      const newTrades = r2.tables.trades.filter((t) => ((t.exit_ts ?? t.entry_ts) as Date) > last(t.symbol));
      expect(u2.update!.tradesAdded).toBe(newTrades.length);
    });
  }, 60_000);

  it('refuses, by name: other options, another formula, an incomplete run, update with overwrite, a changed or vanished file', async () => {
    await withTempDir(async (tmp) => {
      const ds = join(tmp, 'ds');
      const base = join(tmp, 'base.csv');
      await writeCsv(base, HEADER, rows({ AAA: [0, 80], BBB: [0, 80] }));
      await ingest({ input: base, out: ds, buckets: 2 });
      const out = join(tmp, 'bt');
      const rules = join(tmp, 'rules');
      await backtest(ds, { out, feeBps: 2 });
      await backtest(ds, { out: rules, strategy: { formula: FORMULA } });
      await append(tmp, ds, 'a1', rows({ AAA: [80, 1] }));

      const fee = await refusal(backtest(ds, { out, update: true, feeBps: 3 }));
      expect(fee.code).toBe('BARSTREAM_INVALID_PARAM');
      expect(fee.message).toMatch(/feeBps \(--fee-bps\) 3 differs from the previous run's 2/);
      expect((await refusal(backtest(ds, { out, update: true, strategy: { length: 20 } }))).message).toMatch(/strategy\.length 20 was not given to the previous run/);
      expect((await refusal(backtest(ds, { out, update: true, strategy: { formula: FORMULA } }))).message).toMatch(/strategy \(ATC or --formula\) "formula" differs from the previous run's "atc"/);
      expect((await refusal(backtest(ds, { out: rules, update: true, strategy: { formula: 'entry = close > sma(close, 3)' } }))).message).toMatch(/strategy\.formula \(--formula\) .* differs/);
      expect((await refusal(backtest(ds, { out, update: true, sql: 'SELECT * FROM bars' }))).message).toMatch(/sql \(--sql\) .* differs from the previous run's null/);
      expect((await refusal(backtest(ds, { out, update: true, overwrite: true }))).message).toMatch(/update cannot be combined with overwrite/);

      const partial = join(tmp, 'partial');
      await cp(out, partial, { recursive: true });
      await rm(join(partial, '_manifest.json'));
      expect((await refusal(backtest(ds, { out: partial, update: true }))).message).toMatch(/previous backtest is incomplete/);

      // Nothing was changed by the refusals: the update still goes through.
      const ok = await backtest(ds, { out: rules, update: true });
      expect(ok.update).toMatchObject({ generation: 1, barsRead: 1 });

      // Re-ingested with other bars: a file the run read has changed; one no longer listed has vanished.
      const copy = join(tmp, 'bt-copy');
      await cp(out, copy, { recursive: true });
      await writeCsv(base, HEADER, rows({ AAA: [1, 80], BBB: [0, 80] }));
      await ingest({ input: base, out: ds, buckets: 2, overwrite: true });
      expect((await refusal(backtest(ds, { out, update: true }))).message).toMatch(/dataset file .*bucket=\d\/part-0\.parquet, read by the previous run, has changed/);
      const meta = JSON.parse(readFileSync(join(ds, 'metadata.json'), 'utf8'));
      meta.files = meta.files.slice(0, 1);
      writeFileSync(join(ds, 'metadata.json'), JSON.stringify(meta));
      expect((await refusal(backtest(ds, { out: copy, update: true }))).message).toMatch(/has (changed|vanished)/);
    });
  }, 60_000);

  it.skipIf(!cliBuilt)('kill -9 at each commit point and after random delays: results stay readable, a rerun ends equal to a full run; the CLI prints the update', async () => {
    await withTempDir(async (tmp) => {
      const ds = join(tmp, 'ds');
      const base = join(tmp, 'base.csv');
      await writeCsv(base, HEADER, rows({ AAA: [0, 120], BBB: [0, 120], CCC: [0, 120] }));
      await ingest({ input: base, out: ds, buckets: BUCKETS });
      const out = join(tmp, 'bt');
      await backtest(ds, { out });
      const signalCount = async (dir: string) => Number((await engineQuery('SELECT count(*)::INTEGER AS n FROM signals', { results: dir })).getChild('n')!.get(0));
      const before = await signalCount(out);
      const added = await append(tmp, ds, 'a1', rows({ AAA: [120, 2], BBB: [120, 2], CCC: [120, 2], NEW: [0, 50] }));

      const full = join(tmp, 'full');
      await backtest(ds, { out: full });
      const want = await tables(full);
      // The three commit points, then two kills after seeded random delays (seed in the failure message).
      const seed = Number(process.env.BARSTREAM_TEST_SEED ?? Date.now() % 1e9);
      const rng = new Rng(seed);
      const kills: (string | number)[] = ['update-staged', 'update-decided', 'update-moved', rng.int(300, 3000), rng.int(300, 3000)];
      for (const [i, at] of kills.entries()) {
        const label = typeof at === 'string' ? at : `seed ${seed}, killed after ${at} ms`;
        const dir = join(tmp, `bt-${i}`);
        await cp(out, dir, { recursive: true });
        const args = ['backtest', '--data', ds, '--out', dir, '--update', '--json'];
        let readable: number;
        if (typeof at === 'string') {
          const proc = startCli(args, { BARSTREAM_TEST_PAUSE_AT: at });
          let exited = false;
          void proc.done.then(() => (exited = true));
          for (const deadline = Date.now() + 30_000; !exited && Date.now() < deadline && !proc.stderr().includes(`test pause at ${at}`); ) await new Promise((r) => setTimeout(r, 20));
          proc.kill();
          expect((await proc.done).signal, `killed at ${at}: ${proc.stderr()}`).toBe('SIGKILL');
          // Undecided: the previous rows; decided: the reader completes the update first.
          readable = await signalCount(dir);
          expect(readable, label).toBe(at === 'update-staged' ? before : before + added);
        } else {
          const proc = startCli(args);
          await new Promise((r) => setTimeout(r, at));
          proc.kill();
          await proc.done;
          readable = await signalCount(dir);
          expect([before, before + added], label).toContain(readable);
        }
        const rerun = cli(args);
        expect(rerun.status, rerun.stderr).toBe(0);
        const line = JSON.parse(rerun.stdout);
        expect(line.update.generation, label).toBe(1);
        expect(line.barsRead, label).toBe(readable === before ? added : 0);
        const got = await tables(dir);
        for (const t of Object.keys(TABLES)) expect(got[t], `${label}: ${t}`).toEqual(want[t]);
        expect(existsSync(join(dir, '_staging')), label).toBe(false);
      }

      const text = cli(['backtest', '--data', ds, '--out', out, '--update']);
      expect(text.status, text.stderr).toBe(0);
      expect(text.stdout).toMatch(new RegExp(`updated .* to generation 1: ${added} new bars from \\d+ file\\(s\\), 1 new symbol\\(s\\), 3 updated`));
      expect(cli(['backtest', '--data', ds, '--out', out, '--update']).stdout).toMatch(/is up to date \(generation 1\)/);
      const refused = cli(['backtest', '--data', ds, '--out', out, '--update', '--fee-bps', '4']);
      expect(refused.status).not.toBe(0);
      expect(refused.stderr).toMatch(/^barstream: cannot update .*: feeBps \(--fee-bps\) 4 differs from the previous run's 0.* \(BARSTREAM_INVALID_PARAM\)\n$/);
    });
  }, 60_000);
});
