/**
 * Rule backtests (issue 9 item 4): `barstream backtest --formula` through the built CLI,
 * its positions, returns and equity equal to the spec's strategy rule written again here
 * from `kernels.formula` values, its trades reconciling with equity; the `trades` view and
 * report; ATC options refused with a formula.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generate, kernels } from '../engine/index.js';
import { barsBySymbol, SymbolBars } from './util/bars.js';
import { cli, cliBuilt } from './util/cli.js';
import { query } from './util/duck.js';
import { simulate } from './util/strategy.js';

const STRATEGY = [
  '# long on a fast/slow crossing, short below the slow line',
  'fast = sma(close, 5)',
  'slow = sma(close, 20)',
  'entry = crosses_above(fast, slow)',
  'exit = crosses_below(fast, slow)',
  'short_entry = crosses_below(fast, slow) and close < slow',
  'short_exit = crosses_above(fast, slow) or close > highest(close, 10)[1]',
].join('\n');
const NAMES = ['fast', 'slow', 'entry', 'exit', 'short_entry', 'short_exit'];
const FEE_BPS = 5;

const truthy = (x: number) => x === 1;

/** The strategy rule of the spec, written again: the target T per bar from the rules (positions one bar late, returns, fees, equity: `simulate`). */
function rule(close: Float64Array, v: Record<string, Float64Array>) {
  return simulate(close, FEE_BPS, (target, i) => {
    const [en, ex, se, sx] = [truthy(v.entry[i]), truthy(v.exit[i]), truthy(v.short_entry[i]), truthy(v.short_exit[i])];
    if (en && !ex && !se) return 1;
    if (se && !sx && !en) return -1;
    if ((target === 1 && ex) || (target === -1 && sx)) return 0;
    return target;
  });
}

/** Trades from positions, as the contract defines them (a reversal's bar closes the old trade); `bars` from the entry bar to the exit (or last) bar. */
function tradesOf(symbol: string, b: SymbolBars, pos: Float64Array, ret: Float64Array) {
  const out: { symbol: string; side: string; entry_ts: number; exit_ts: number | null; entry_price: number; exit_price: number; bars: number }[] = [];
  let open: { side: number; start: number } | undefined;
  for (let i = 0; i < pos.length; i++) {
    if (open && pos[i] !== open.side) {
      out.push({ symbol, side: open.side > 0 ? 'long' : 'short', entry_ts: b.ts[open.start], exit_ts: b.ts[i], entry_price: b.close[open.start], exit_price: b.close[i], bars: i - open.start });
      open = undefined;
      if (pos[i] !== 0) open = { side: pos[i], start: i };
    } else if (!open && pos[i] !== 0) open = { side: pos[i], start: i };
  }
  const last = pos.length - 1;
  if (open) out.push({ symbol, side: open.side > 0 ? 'long' : 'short', entry_ts: b.ts[open.start], exit_ts: null, entry_price: b.close[open.start], exit_price: b.close[last], bars: last - open.start });
  void ret;
  return out;
}

let tmp: string;
let data: string;
let bars: Map<string, SymbolBars>;

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'barstream-rules-'));
  data = join(tmp, 'ds');
  await generate({ out: data, symbols: 5, bars: 900, seed: 17, buckets: 2 });
  bars = await barsBySymbol(data);
});

afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe.skipIf(!cliBuilt)('barstream backtest --formula', () => {
  it('writes positions, returns and equity of the spec rule on kernels.formula values, and trades that reconcile with equity', async () => {
    const file = join(tmp, 'strategy.txt');
    await writeFile(file, STRATEGY);
    const out = join(tmp, 'bt');
    const r = cli(['backtest', '--data', data, '--formula-file', file, '--out', out, '--fee-bps', String(FEE_BPS), '--json', '--threads', '2']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const manifest = JSON.parse(await readFile(join(out, '_manifest.json'), 'utf8'));
    expect(manifest.strategy).toEqual({ name: 'formula', formula: STRATEGY, feeBps: FEE_BPS, longOnly: false });
    let tradesSeen = 0;
    for (const [symbol, b] of bars) {
      const { values } = kernels.formula(STRATEGY, { close: b.close });
      const { pos, ret, eq } = rule(b.close, values);
      const rows = await query(
        `SELECT * EXCLUDE (symbol) REPLACE (epoch_us(ts) AS ts) FROM read_parquet('${join(out, 'signals', '*', '*.parquet')}', hive_partitioning = false) WHERE symbol = '${symbol}' ORDER BY ts`,
      );
      expect(Object.keys(rows[0])).toEqual(['ts', 'close', ...NAMES, 'position', 'strategy_return', 'equity']);
      expect(rows.map((x) => x.ts)).toEqual(b.ts);
      // -0 and 0 are one value here (Parquet dictionaries do not keep the sign of zero).
      const plain = (xs: ArrayLike<number>) => Array.from(xs, (v) => (v === 0 ? 0 : v));
      const col = (name: string) => plain(rows.map((x) => (x[name] === null ? NaN : (x[name] as number))));
      for (const n of NAMES) expect(col(n), n).toEqual(plain(values[n]));
      expect(col('position')).toEqual(plain(pos));
      expect(col('strategy_return')).toEqual(plain(ret));
      col('equity').forEach((e, i) => expect(Math.abs(e - eq[i])).toBeLessThanOrEqual(1e-12 * eq[i]));
      expect(pos.some((p) => p > 0) && pos.some((p) => p < 0)).toBe(true);
      // Trades: as the positions say, and their compounded returns give the last equity.
      const trades = await query(
        `SELECT symbol, side, epoch_us(entry_ts) AS entry_ts, epoch_us(exit_ts) AS exit_ts, entry_price, exit_price, bars, return
         FROM read_parquet('${join(out, 'trades', '*.parquet')}') WHERE symbol = '${symbol}' ORDER BY entry_ts`,
      );
      expect(trades.map(({ return: _r, ...t }) => t)).toEqual(tradesOf(symbol, b, pos, ret));
      const compounded = trades.reduce((p, t) => p * (1 + (t.return as number)), 1);
      expect(Math.abs(compounded - eq[eq.length - 1] / eq[0])).toBeLessThan(1e-9);
      tradesSeen += trades.length;
    }
    expect(tradesSeen).toBeGreaterThan(10);
    expect(JSON.parse(r.stdout).tradeRows).toBe(tradesSeen);
    // The trades view and its report, through barstream query.
    const q = cli(['query', '--results', out, '--json', 'SELECT count(*) AS n, count(DISTINCT symbol) AS s FROM trades']);
    expect(q.stdout.trim()).toBe(JSON.stringify({ n: tradesSeen, s: bars.size }));
    const rep = cli(['query', '--results', out, '--report', 'trades_by_symbol', '--json']);
    expect(rep.status).toBe(0);
    const per = rep.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(per.length).toBe(bars.size);
    const totals = await query(`SELECT symbol, total_return FROM read_parquet('${join(out, 'summary', '*.parquet')}')`);
    for (const t of totals) {
      const got = per.find((p: { symbol: string }) => p.symbol === t.symbol);
      expect(Math.abs(got.compounded - (t.total_return as number))).toBeLessThan(1e-9);
    }
  });

  it('refuses ATC options with --formula, a formula that is not a strategy, and a missing column, before writing', () => {
    const out = join(tmp, 'refused');
    const atc = cli(['backtest', '--data', data, '--out', out, '--formula', STRATEGY, '--length', '10', '--hma', 'sma']);
    expect(atc.stderr).toBe('barstream: --formula replaces the ATC: --length, --hma cannot be given with it (BARSTREAM_INVALID_PARAM)\n');
    const value = cli(['backtest', '--data', data, '--out', out, '--formula', 'close > sma(close, 20)']);
    expect(value.status).toBe(1);
    expect(value.stderr.split('\n')[0]).toMatch(/^barstream: formula: line 1, column 1: a backtest needs a strategy.* \(BARSTREAM_INVALID_FORMULA\)$/);
    const missing = cli(['backtest', '--data', data, '--out', out, '--sql', 'SELECT symbol, ts, close FROM bars', '--formula', 'entry = volume > sma(volume, 10)']);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain('column volume');
    expect(existsSync(out)).toBe(false);
  });

  it('an ATC backtest writes trades/ too, reconciling with its equity', async () => {
    const out = join(tmp, 'atc');
    const r = cli(['backtest', '--data', data, '--out', out, '--length', '14', '--threads', '2']);
    expect(r.status).toBe(0);
    const rows = await query(
      `WITH t AS (SELECT symbol, product(1 + return) AS g FROM read_parquet('${join(out, 'trades', '*.parquet')}') GROUP BY symbol),
            s AS (SELECT symbol, total_return FROM read_parquet('${join(out, 'summary', '*.parquet')}'))
       SELECT s.symbol, coalesce(t.g, 1) - 1 - s.total_return AS diff FROM s LEFT JOIN t USING (symbol)`,
    );
    expect(rows.length).toBe(bars.size);
    for (const x of rows) expect(Math.abs(x.diff as number)).toBeLessThan(1e-9);
  });
});
