/**
 * `barstream update` (issue 11 item 4), the daily routine, on real vendor files: per-ticker
 * CSVs ingested with the symbol from the file name, a backtest, a screen (--all) and a scan written,
 * then the next days' files (existing tickers, a new ticker and a refused bar) run through
 * the built CLI. The updated folders must equal full runs over the grown dataset (every
 * signal, summary, trade and match row), the reported counts must be what the files hold,
 * and a run with nothing new must leave both as they are. A results folder that is not one
 * is named and fails the run while the others are still updated.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { DailyResult } from '../engine/daily.js';
import { update } from '../engine/index.js';
import { cli, cliBuilt } from './util/cli.js';
import { Cell, writeCsv } from './util/csv.js';
import { lit, query } from './util/duck.js';
import { Rng } from './util/rng.js';
import { withTempDir } from './util/tmp.js';

const HEADER = ['Date', 'Open', 'High', 'Low', 'Close', 'Volume'];
const DAY_MS = 86_400_000;
const T0 = Date.UTC(2021, 0, 4);
const FORMULA = 'fast = sma(close, 5)\nslow = sma(close, 20)\nfast > slow';
const TICKERS = ['AAA', 'BBB', 'CCC', 'DDD'];

/** Days `from` .. `from + n - 1` of a ticker: a seeded random walk with valid OHLC (the same days, the same bars). */
function days(seed: number, from: number, n: number): Cell[][] {
  const rng = new Rng(seed);
  let c = 50 + seed;
  const all: Cell[][] = [];
  for (let i = 0; i < from + n; i++) {
    c *= 1 + (rng.next() - 0.5) * 0.05;
    const o = c * (1 + (rng.next() - 0.5) * 0.01);
    all.push([new Date(T0 + i * DAY_MS).toISOString().slice(0, 10), o, Math.max(o, c) * 1.01, Math.min(o, c) * 0.99, c, Math.round(rng.next() * 1e5)]);
  }
  return all.slice(from);
}

/** Writes `<dir>/<TICKER>.csv` for each ticker: its days `from` .. `from + n - 1` (plus `extra` rows). */
async function vendorFiles(dir: string, files: Record<string, Cell[][]>): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (const [t, rows] of Object.entries(files)) await writeCsv(join(dir, `${t}.csv`), HEADER, rows);
}

const seedOf = (t: string) => TICKERS.indexOf(t) + 1 + (t === 'EEE' ? 40 : 0);

/** Every row of the table `sub` of a results folder, whatever its layout (bucket folders, appended parts), in a fixed order. */
const rowsOf = (dir: string, sub: string) =>
  query(`SELECT * FROM read_parquet(${lit(join(dir, sub, '**', '*.parquet'))}, hive_partitioning = false, union_by_name = true) ORDER BY ALL`);

function run(args: string[]) {
  const r = cli(args);
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function ok(args: string[]): string {
  const r = run(args);
  expect(r.stderr.replace(/barstream: warning: .*\n/g, ''), args.join(' ')).toBe('');
  expect(r.status, args.join(' ')).toBe(0);
  return r.stdout;
}

/** Full runs over the dataset as it is now; each table of the updated folders must equal theirs. */
async function expectEqualsFullRuns(tmp: string, ds: string, bt: string, sc: string, atc: string, tag: string): Promise<void> {
  const fullBt = join(tmp, `bt-full-${tag}`);
  const fullSc = join(tmp, `sc-full-${tag}`);
  const fullAtc = join(tmp, `atc-full-${tag}`);
  ok(['backtest', '--data', ds, '--out', fullBt, '--json']);
  ok(['screen', '--data', ds, '--formula', FORMULA, '--all', '--out', fullSc, '--json']);
  ok(['scan', '--data', ds, '--out', fullAtc, '--json']);
  const scan = (dir: string) => query(`SELECT * FROM read_parquet(${lit(join(dir, 'scan.parquet'))}) ORDER BY ALL`);
  expect(await scan(atc), `${tag} scan`).toEqual(await scan(fullAtc));
  for (const sub of ['signals', 'summary', 'trades']) {
    const [a, b] = [await rowsOf(bt, sub), await rowsOf(fullBt, sub)];
    expect(a.length, `${tag} ${sub}`).toBeGreaterThan(0);
    expect(a, `${tag} ${sub}`).toEqual(b);
  }
  const [a, b] = [await rowsOf(sc, 'matches'), await rowsOf(fullSc, 'matches')];
  expect(a.length, `${tag} matches`).toBeGreaterThan(0);
  expect(a, `${tag} matches`).toEqual(b);
}

describe.skipIf(!cliBuilt)('barstream update: append, then update a backtest and a screen', () => {
  it('equals full runs after one append, several and none; counts are what the files hold; a bad folder is named', async () => {
    await withTempDir(async (tmp) => {
      const ds = join(tmp, 'eod');
      const bt = join(tmp, 'bt');
      const sc = join(tmp, 'sc');
      const atc = join(tmp, 'atc');
      await vendorFiles(join(tmp, 'history'), Object.fromEntries(TICKERS.map((t) => [t, days(seedOf(t), 0, 120)])));
      ok(['ingest', '--in', join(tmp, 'history'), '--out', ds, '--symbol-from-filename', '--map', 'ts=Date', '--buckets', '3']);
      ok(['backtest', '--data', ds, '--out', bt, '--json']);
      ok(['screen', '--data', ds, '--formula', FORMULA, '--all', '--out', sc, '--json']);
      ok(['scan', '--data', ds, '--out', atc, '--json']);
      const before = { signals: (await rowsOf(bt, 'signals')).length, matches: (await rowsOf(sc, 'matches')).length };

      // Day 1: three new days of each ticker, a new ticker with 80 days, and AAA's day 5 again (a duplicate, refused).
      await vendorFiles(join(tmp, 'inbox-1'), {
        ...Object.fromEntries(TICKERS.map((t) => [t, t === 'AAA' ? [...days(seedOf(t), 5, 1), ...days(seedOf(t), 120, 3)] : days(seedOf(t), 120, 3)])),
        EEE: days(seedOf('EEE'), 0, 80),
      });
      const added = TICKERS.length * 3 + 80;
      const out = ok(['update', '--data', ds, '--in', join(tmp, 'inbox-1'), '--symbol-from-filename', '--map', 'ts=Date', '--results', bt, sc, atc, '--json']);
      const r = JSON.parse(out) as DailyResult;
      expect([r.ingest.read, r.ingest.written, r.ingest.rejected, r.ingest.byReason, r.ingest.symbolsAdded]).toEqual([added + 1, added, 1, { duplicate: 1 }, 1]);
      expect(r.failed).toBe(0);
      expect(r.results.map((f) => [f.folder, f.kind])).toEqual([[bt, 'backtest'], [sc, 'screen'], [atc, 'scan']]);
      for (const f of r.results) {
        expect(f.update, f.folder).toMatchObject({ barsRead: added, symbolsAdded: 1, symbolsUpdated: TICKERS.length });
        expect(f.update!.newFiles.length, f.folder).toBeGreaterThan(0);
      }
      const [ub, us, ua] = r.results.map((f) => f.update!);
      expect(ub.rowsAdded).toBe((await rowsOf(bt, 'signals')).length - before.signals);
      expect(us.rowsAdded).toBe((await rowsOf(sc, 'matches')).length - before.matches);
      // The scan's listed count: its long and short lists as the full run's scan.parquet gives them.
      const [listed] = await query(`SELECT count(*) FILTER (WHERE status = 'processed' AND abs(signal) >= 0.1) AS n FROM read_parquet(${lit(join(atc, 'scan.parquet'))})`);
      expect('matches' in ua && ua.matches).toBe(listed.n);
      await expectEqualsFullRuns(tmp, ds, bt, sc, atc, 'one');

      // Nothing new (a bar the dataset holds), and a folder that is not a results folder: it is
      // named, the run fails, the real folders are left as they were (an update of nothing).
      const same = { bt: await rowsOf(bt, 'signals'), sc: await rowsOf(sc, 'matches') };
      await vendorFiles(join(tmp, 'inbox-2'), { BBB: days(seedOf('BBB'), 121, 1) });
      const nope = join(tmp, 'not-results');
      const r2 = run(['update', '--data', ds, '--in', join(tmp, 'inbox-2'), '--symbol-from-filename', '--map', 'ts=Date', '--results', bt, nope, sc]);
      expect(r2.status).toBe(1);
      expect(r2.stderr).toContain(`1 results folder(s) not updated: ${nope}`);
      expect(r2.stdout).toContain(`${nope}: update failed: results folder ${nope} does not exist`);
      expect(r2.stdout).toMatch(/appended 0 bars .* rejected 1/);
      expect(r2.stdout).toContain('2 of 3 results folder(s) updated');
      expect(await rowsOf(bt, 'signals')).toEqual(same.bt);
      expect(await rowsOf(sc, 'matches')).toEqual(same.sc);

      // Several days at once through the API: two files per ticker (days 123-124 and 125-126).
      await vendorFiles(join(tmp, 'inbox-3', 'a'), Object.fromEntries([...TICKERS, 'EEE'].map((t) => [t, days(seedOf(t), t === 'EEE' ? 80 : 123, 2)])));
      await vendorFiles(join(tmp, 'inbox-3', 'b'), Object.fromEntries([...TICKERS, 'EEE'].map((t) => [t, days(seedOf(t), t === 'EEE' ? 82 : 125, 2)])));
      const r3 = await update({ data: ds, in: [join(tmp, 'inbox-3', 'a'), join(tmp, 'inbox-3', 'b')], symbolFromFilename: true, map: { ts: 'Date' }, results: [sc, bt, atc] });
      expect([r3.failed, r3.ingest.written, r3.ingest.symbolsAdded]).toEqual([0, 20, 0]);
      expect(r3.results.map((f) => [f.kind, f.update!.barsRead, f.update!.symbolsAdded, f.update!.symbolsUpdated])).toEqual([
        ['screen', 20, 0, 5],
        ['backtest', 20, 0, 5],
        ['scan', 20, 0, 5],
      ]);
      await expectEqualsFullRuns(tmp, ds, bt, sc, atc, 'several');
    });
  });
});
