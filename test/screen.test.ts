/**
 * Screens (issue 9 items 3, 6, 7): `engine.screen` and `barstream screen` over a generated
 * dataset, checked against `kernels.formula` run on each symbol's bars read back with DuckDB.
 */
import { existsSync } from 'node:fs';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, afterAll, describe, expect, it } from 'vitest';
import { sha256File } from '../datasets/layout.js';
import { Engine, generate, kernels } from '../engine/index.js';
import { folderKind } from '../engine/outputs.js';
import type { ScreenMatch } from '../engine/screen.js';
import { barsBySymbol, SymbolBars } from './util/bars.js';
import { cli, cliBuilt } from './util/cli.js';
import { query } from './util/duck.js';
import { withTempDir } from './util/tmp.js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';

const FORMULA = ['fast = sma(close, 10)', 'slow = sma(close, 30)', 'r = rsi(close, 14)', 'v = volume / sma(volume, 20)', 'fast > slow and r > 45'].join('\n');
const NAMES = ['fast', 'slow', 'r', 'v'];
const DAY_US = 86_400_000_000;

/** What a match must be, from `kernels.formula` on the symbol's bars: bar `i` of `b`. */
function expected(symbol: string, b: SymbolBars, i: number, values: Record<string, Float64Array>) {
  return {
    symbol,
    ts: b.ts[i],
    open: b.open[i],
    high: b.high[i],
    low: b.low[i],
    close: b.close[i],
    volume: b.volume[i],
    values: Object.fromEntries(NAMES.map((n) => [n, values[n][i]])),
  };
}

const asPlain = (m: ScreenMatch) => ({ ...m, ts: m.ts.getTime() * 1000 });

/** `kernels.formula` over the bars of `b` up to index `end` (exclusive). */
function evaluate(b: SymbolBars, end = b.ts.length) {
  const s = (x: Float64Array) => x.slice(0, end);
  return kernels.formula(FORMULA, { open: s(b.open), high: s(b.high), low: s(b.low), close: s(b.close), volume: s(b.volume) });
}

let tmp: string;
let data: string;
let bars: Map<string, SymbolBars>;
let engine: Engine;

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'barstream-screen-'));
  data = join(tmp, 'ds');
  await generate({ out: data, symbols: 8, bars: 700, seed: 5, buckets: 2 });
  bars = await barsBySymbol(data);
  engine = await Engine.open({ dataset: data, threads: 2 });
});

afterAll(async () => {
  engine?.close();
  await rm(tmp, { recursive: true, force: true });
});

describe('engine.screen', () => {
  it('latest: the symbols whose value is true at their last bar, with the bar and every named value, as kernels.formula gives them', async () => {
    const r = await engine.screen({ formula: FORMULA });
    const want = [];
    for (const [symbol, b] of bars) {
      const { value, values } = evaluate(b);
      const last = b.ts.length - 1;
      if (value[last] === 1) want.push(expected(symbol, b, last, values));
    }
    expect(want.length).toBeGreaterThan(0);
    expect(want.length).toBeLessThan(bars.size);
    expect(r.matches.map(asPlain)).toEqual(want);
    expect(r.processed).toBe(8);
    expect(r.matched).toBe(want.length);
    expect(r.skipped).toEqual([]);
    expect(r.failed).toEqual([]);
    expect(r.warmup).toBe(kernels.compileFormula(FORMULA).warmup);
    expect(r.names).toEqual(NAMES);
  });

  it('--all with --from/--to: every bar where the value is true in the range, the formula still run from the first bar', async () => {
    const [from, to] = ['2006-01-01', '2006-06-30'];
    const [lo, hi] = [Date.UTC(2006, 0, 1) * 1000, Date.UTC(2006, 5, 30) * 1000 + DAY_US - 1];
    const r = await engine.screen({ formula: FORMULA, all: true, from, to });
    const want = [];
    for (const [symbol, b] of bars) {
      const { value, values } = evaluate(b);
      for (let i = 0; i < b.ts.length; i++) if (value[i] === 1 && b.ts[i] >= lo && b.ts[i] <= hi) want.push(expected(symbol, b, i, values));
    }
    expect(want.length).toBeGreaterThan(20);
    expect(r.matches.map(asPlain)).toEqual(want);
    expect(r.matchRows).toBe(want.length);
    expect(r.matched).toBe(new Set(want.map((m) => m.symbol)).size);
  });

  it('latest with --to screens as of that date; a symbol whose last bar is before --from does not match', async () => {
    const to = '2006-03-15';
    const hi = Date.UTC(2006, 2, 15) * 1000 + DAY_US - 1;
    const r = await engine.screen({ formula: FORMULA, to });
    const want = [];
    for (const [symbol, b] of bars) {
      const end = b.ts.filter((t) => t <= hi).length;
      const { value, values } = evaluate(b, end);
      if (value[end - 1] === 1) want.push(expected(symbol, b, end - 1, values));
    }
    expect(want.length).toBeGreaterThan(0);
    expect(r.matches.map(asPlain)).toEqual(want);
    const none = await engine.screen({ formula: FORMULA, from: '2030-01-01' });
    expect(none.matches).toEqual([]);
    expect(none.processed).toBe(8);
  });

  it('--rank sorts by a named value, largest first, and --top cuts; an unknown rank lists the names', async () => {
    const r = await engine.screen({ formula: FORMULA, all: true, rank: 'v', top: 5 });
    const all = [];
    for (const [symbol, b] of bars) {
      const { value, values } = evaluate(b);
      for (let i = 0; i < b.ts.length; i++) if (value[i] === 1) all.push(expected(symbol, b, i, values));
    }
    all.sort((a, b) => b.values.v - a.values.v);
    expect(r.matches.map(asPlain)).toEqual(all.slice(0, 5));
    await expect(engine.screen({ formula: FORMULA, rank: 'rsi' })).rejects.toMatchObject({
      code: 'BARSTREAM_INVALID_PARAM',
      message: "rank 'rsi' is not a named value of the formula: the formula's named values are fast, slow, r, v",
    });
  });

  it('names a symbol with too few bars as skipped, with the bars the formula needs', async () => {
    const short = [...bars.keys()][3];
    const sql = `SELECT * FROM bars WHERE NOT (symbol = '${short}' AND ts > '2005-01-31')`;
    const kept = (await barsBySymbol(data, sql)).get(short)!.ts.length;
    const r = await engine.screen({ formula: FORMULA, sql });
    const w = kernels.compileFormula(FORMULA).warmup;
    expect(kept).toBeLessThanOrEqual(w);
    expect(r.skipped).toEqual([{ symbol: short, reason: `${kept} bars, the formula needs at least ${w + 1}` }]);
    expect(r.processed + r.skipped.length + r.failed.length).toBe(8);
    expect(r.matches.some((m) => m.symbol === short)).toBe(false);
  });

  it('isolates a symbol whose evaluation fails (atc of a price <= 0): stage formula, the others go on', async () => {
    const broken = [...bars.keys()][1];
    const sql = `SELECT * REPLACE (CASE WHEN symbol = '${broken}' AND ts > '2005-06-01' THEN -close ELSE close END AS close) FROM bars`;
    const r = await engine.screen({ formula: 'a = atc(close, 14)\na > -2', sql });
    expect(r.failed).toEqual([{ symbol: broken, stage: 'formula', message: expect.stringMatching(/bar/) }]);
    expect(r.processed).toBe(7);
    expect(r.matched).toBe(7);
    expect(r.processed + r.skipped.length + r.failed.length).toBe(8);
  });

  it('refuses a formula whose value is not a condition, and one naming a column the SQL source lacks, before anything is written', async () => {
    await expect(engine.screen({ formula: 'sma(close, 20) - close' })).rejects.toMatchObject({
      code: 'BARSTREAM_INVALID_FORMULA',
      message: expect.stringMatching(/^line 1, column 1: a screen needs a condition/),
    });
    const out = join(tmp, 'never');
    await expect(engine.screen({ formula: 'volume > sma(volume, 20)', sql: 'SELECT symbol, ts, close FROM bars', out })).rejects.toMatchObject({
      code: 'BARSTREAM_BAD_INPUT',
      message: 'the formula reads column volume, which the SQL source lacks (it gives symbol, ts, close)',
    });
    expect(existsSync(out)).toBe(false);
  });

  it('fills open/high/low/volume of matches from the source, NaN for a column the SQL source does not have', async () => {
    const r = await engine.screen({ formula: 'close > sma(close, 5)', sql: 'SELECT symbol, ts, close, high FROM bars' });
    expect(r.matches.length).toBeGreaterThan(0);
    for (const m of r.matches) {
      const b = bars.get(m.symbol)!;
      const i = b.ts.length - 1;
      expect([m.close, m.high]).toEqual([b.close[i], b.high[i]]);
      expect([m.open, m.low, m.volume].every(Number.isNaN)).toBe(true);
    }
  });
});

describe.skipIf(!cliBuilt)('barstream screen', () => {
  it('--json prints exactly the object of the issue, equal to engine.screen', async () => {
    const r = cli(['screen', '--data', data, '--formula', FORMULA, '--rank', 'r', '--top', '3', '--json', '--threads', '2']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines.length).toBe(1);
    const json = JSON.parse(lines[0]);
    expect(Object.keys(json)).toEqual(['matches', 'processed', 'matched', 'skipped', 'failed', 'warmup', 'barsRead', 'elapsedMs']);
    const api = await engine.screen({ formula: FORMULA, rank: 'r', top: 3 });
    expect(json.matches).toEqual(
      api.matches.map((m) => ({ symbol: m.symbol, ts: m.ts.toISOString(), open: m.open, high: m.high, low: m.low, close: m.close, volume: m.volume, values: m.values })),
    );
    expect(json.matches.length).toBe(Math.min(3, api.matched));
    const ranks = json.matches.map((m: { values: { r: number } }) => m.values.r);
    expect(ranks).toEqual([...ranks].sort((a, b) => b - a));
    expect(Object.keys(json.matches[0])).toEqual(['symbol', 'ts', 'open', 'high', 'low', 'close', 'volume', 'values']);
    expect([json.processed, json.matched, json.skipped, json.failed, json.warmup, json.barsRead]).toEqual([8, api.matched, [], [], api.warmup, api.barsRead]);
    expect(api.barsRead).toBe([...bars.values()].reduce((n, b) => n + b.ts.length, 0));
    expect(Number.isInteger(json.elapsedMs)).toBe(true);
  });

  it('prints a table with the named values, then the counts naming skipped symbols', () => {
    const short = [...bars.keys()][0];
    const sql = `SELECT * FROM bars WHERE NOT (symbol = '${short}' AND ts > '2005-01-20')`;
    const r = cli(['screen', '--data', data, '--formula', FORMULA, '--sql', sql, '--threads', '2']);
    expect(r.status).toBe(0);
    const header = r.stdout.split('\n').find((l) => l.startsWith('symbol'))!;
    expect(header.split(/\s+/)).toEqual(['symbol', 'as', 'of', 'close', 'volume', ...NAMES]);
    expect(r.stdout).toMatch(/^7 symbols processed: \d+ matched, \d+ did not; 1 skipped, 0 failed/m);
    expect(r.stdout).toContain(`  skipped ${short}: `);
  });

  it('a formula error is one line with its code, then the formula line and a caret under the place', () => {
    const r = cli(['screen', '--data', data, '--formula', 'x = close\nx > sma(clsoe, 5)']);
    expect(r.status).toBe(1);
    const lines = r.stderr.split('\n');
    expect(lines.length).toBe(4);
    expect(lines[0]).toMatch(/^barstream: formula: line 2, column 9: .*clsoe.* \(BARSTREAM_INVALID_FORMULA\)$/);
    expect(lines[1]).toBe('x > sma(clsoe, 5)');
    expect(lines[2]).toBe(' '.repeat(8) + '^');
    expect(lines[3]).toBe('');
    expect(r.stdout).toBe('');
  });

  it('refuses --formula with --formula-file, a bad --symbol-timeout, and a missing column before writing', () => {
    const both = cli(['screen', '--data', data, '--formula', 'close > 0', '--formula-file', 'x']);
    expect(both.stderr).toBe('barstream: give --formula or --formula-file, not both (BARSTREAM_INVALID_PARAM)\n');
    const t = cli(['screen', '--data', data, '--formula', 'close > 0', '--symbol-timeout', '10']);
    expect(t.stderr).toBe("barstream: --symbol-timeout must be a duration from 1ms to 24h such as 60s, 500ms or 2m, got '10' (BARSTREAM_INVALID_PARAM)\n");
    const out = join(tmp, 'nothing');
    const m = cli(['screen', '--data', data, '--sql', 'SELECT symbol, ts, close FROM bars', '--formula', 'volume > 0', '--out', out]);
    expect(m.status).toBe(1);
    expect(m.stderr).toContain('column volume');
    expect(existsSync(out)).toBe(false);
  });

  it('a symbol over --symbol-timeout fails with stage timeout, the counts add up, the run goes on', async () => {
    await withTempDir(async (dir) => {
      const big = join(dir, 'big');
      await generate({ out: big, symbols: 3, bars: 200_000, seed: 2, buckets: 1 });
      const r = cli(['screen', '--data', big, '--formula', 'a = atc(close, 28)\nk = kama(close, 50)\na > -2 and k > 0', '--symbol-timeout', '1ms', '--json']);
      expect(r.status).toBe(0);
      const json = JSON.parse(r.stdout);
      expect(json.failed.length).toBeGreaterThan(0);
      for (const f of json.failed) expect(f).toMatchObject({ stage: 'timeout', message: expect.stringMatching(/1 ?ms|0\.001 ?s|timeout|time/) });
      expect(json.processed + json.skipped.length + json.failed.length).toBe(3);
    });
  });

  it('without --out, more matches than BARSTREAM_MAX_MATCHES are refused with the way out; with --out every match is written', async () => {
    const all = await engine.screen({ formula: FORMULA, all: true });
    const limit = 10;
    expect(all.matchRows).toBeGreaterThan(limit);
    const env = { ...process.env, BARSTREAM_MAX_MATCHES: String(limit) };
    const args = ['screen', '--data', data, '--formula', FORMULA, '--all', '--json', '--threads', '2'];
    const refused = cli(args, { env });
    expect(refused.status).not.toBe(0);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toBe(
      `barstream: the screen matched more than ${limit} bars, the most a result in memory may hold: write them with --out DIR (out), or narrow the formula or --from/--to (BARSTREAM_INVALID_PARAM)\n`,
    );
    const out = join(tmp, 'over-limit');
    const written = cli([...args, '--out', out], { env });
    expect(written.stderr).toBe('');
    expect(written.status).toBe(0);
    const manifest = JSON.parse(await readFile(join(out, '_manifest.json'), 'utf8'));
    expect(manifest.counts.matchRows).toBe(all.matchRows);
    const rows = await query(`SELECT symbol, epoch_us(ts) AS ts FROM read_parquet('${join(out, 'matches', '*', '*.parquet')}') ORDER BY symbol, ts`);
    expect(rows).toEqual(all.matches.map((m) => ({ symbol: m.symbol, ts: m.ts.getTime() * 1000 })));
    // The result lists the first `limit` of them.
    expect(JSON.parse(written.stdout).matches.length).toBe(limit);
    expect(cli(args, { env: { ...process.env, BARSTREAM_MAX_MATCHES: '1e3' } }).stderr).toMatch(/BARSTREAM_MAX_MATCHES must be a positive integer, got '1e3'/);
  });

  it('--out writes matches, errors and a manifest (last) that barstream query reads; --overwrite replaces only a screen output', async () => {
    const out = join(tmp, 'hits');
    const short = [...bars.keys()][2];
    const sql = `SELECT * FROM bars WHERE NOT (symbol = '${short}' AND ts > '2005-01-20')`;
    const args = ['screen', '--data', data, '--formula', FORMULA, '--all', '--from', '2006-01-01', '--sql', sql, '--out', out, '--json', '--threads', '2'];
    const r = cli(args);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const json = JSON.parse(r.stdout);
    expect(folderKind(out)).toBe('screen');
    const manifest = JSON.parse(await readFile(join(out, '_manifest.json'), 'utf8'));
    expect(manifest).toMatchObject({
      format: 'barstream-screen/1',
      formula: FORMULA,
      names: NAMES,
      mode: 'all',
      from: '2006-01-01T00:00:00.000Z',
      to: null,
      counts: { symbols: 8, processed: 7, skipped: 1, failed: 0, matched: json.matched, matchRows: json.matches.length },
    });
    const matchFiles = manifest.files.filter((f: { path: string }) => f.path.startsWith('matches/'));
    expect(matchFiles.length).toBeGreaterThan(0);
    for (const f of manifest.files as { path: string; rows: number; bytes: number; sha256: string }[]) {
      expect(f.path).toMatch(/^(matches\/bucket=\d+\/part-0|_errors\/part-\d+)\.parquet$/);
      expect(await sha256File(join(out, f.path))).toBe(f.sha256);
      expect((await stat(join(out, f.path))).size).toBe(f.bytes);
      const [{ n }] = await query(`SELECT count(*) AS n FROM read_parquet('${join(out, f.path)}')`);
      expect(n).toBe(f.rows);
    }
    const cols = await query(`SELECT name FROM parquet_schema('${join(out, matchFiles[0].path)}') WHERE num_children IS NULL`);
    expect(cols.map((c) => c.name)).toEqual(['symbol', 'ts', 'open', 'high', 'low', 'close', 'volume', ...NAMES]);
    const errors = await query(`SELECT symbol, stage FROM read_parquet('${join(out, '_errors', '*.parquet')}')`);
    expect(errors).toEqual([{ symbol: short, stage: 'skipped' }]);
    // The matches view over the output holds what --json printed.
    const q = cli(['query', '--results', out, '--json', 'SELECT symbol, ts, close, fast, slow, r, v FROM matches ORDER BY symbol, ts']);
    expect(q.status).toBe(0);
    const viewed = q.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(viewed).toEqual(json.matches.map((m: { symbol: string; ts: string; close: number; values: Record<string, number> }) => ({ symbol: m.symbol, ts: m.ts, close: m.close, ...m.values })));
    const byDay = cli(['query', '--results', out, '--report', 'screen_hits_by_day', '--json']);
    expect(byDay.status).toBe(0);
    const days = byDay.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(days.reduce((n: number, d: { matches: number }) => n + d.matches, 0)).toBe(json.matches.length);
    // Again: refused without --overwrite, replaced with it; a foreign folder is never replaced.
    expect(cli(args).stderr).toMatch(/already exists \(a barstream screen output/);
    expect(cli([...args, '--overwrite']).status).toBe(0);
    const foreign = join(tmp, 'foreign');
    await writeFile(join(tmp, 'foreign.txt'), 'x');
    await import('node:fs/promises').then((fs) => fs.mkdir(foreign)).then(() => writeFile(join(foreign, 'notes.txt'), 'mine'));
    const f = cli(['screen', '--data', data, '--formula', 'close > 0', '--out', foreign, '--overwrite']);
    expect(f.stderr).toMatch(/refusing to write to .*files barstream did not write/);
    expect(await readFile(join(foreign, 'notes.txt'), 'utf8')).toBe('mine');
  });
});
