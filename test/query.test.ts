/**
 * `barstream query`, `query()` / `QuerySession` and the SQL of `sql/` (views, macros,
 * reports) over a real backtest output, checked against the Parquet files read by a
 * separate DuckDB and arithmetic done here.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { promisify } from 'node:util';
import { DataType, TimeUnit, type Table } from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine, generate } from '../engine/index.js';
import { listReports, query, QuerySession, reportSql } from '../engine/query.js';
import { runQuery } from '../engine/cli/query.js';
import { packageRoot } from '../engine/native.js';
import { lit, query as duck } from './util/duck.js';

let tmp: string;
let data: string;
let out: string;
let counts: { bars: number; signalRows: number; processed: number; skipped: number; failed: number };
/** The raw per-bar rows, read straight from the Parquet files by another DuckDB. */
let raw: { symbol: string; ts: Date; strategy_return: number; position: number; equity: number }[];
let summary: Record<string, unknown>[];

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'barstream-query-'));
  data = join(tmp, 'data');
  out = join(tmp, 'out');
  await generate({ out: data, symbols: 10, bars: 300, seed: 9, buckets: 2 });
  await (await Engine.open({ dataset: data, threads: 2 })).backtest({ out, feeBps: 2 });
  counts = JSON.parse(await readFile(join(out, '_manifest.json'), 'utf8')).counts;
  raw = (await duck(`SELECT symbol, ts, strategy_return, position, equity FROM read_parquet(${lit(join(out, 'signals', '*', '*.parquet'))}) ORDER BY symbol, ts`)) as typeof raw;
  summary = await duck(`SELECT * FROM read_parquet(${lit(join(out, 'summary', '*.parquet'))}) ORDER BY symbol`);
});

afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

const col = (t: Table, name: string): unknown[] => {
  const v = t.getChild(name);
  if (!v) throw new Error(`no column ${name} in ${t.schema.fields.map((f) => f.name)}`);
  return Array.from({ length: t.numRows }, (_, i) => v.get(i));
};
const num = (t: Table, name: string): number[] => col(t, name).map((v) => (v === null ? NaN : Number(v)));
const close = (a: number, b: number, tol = 1e-12) => Math.abs(a - b) <= tol * Math.max(1, Math.abs(b));
const day = (d: Date) => d.toISOString().slice(0, 10);

/** Per symbol and UTC day, the compounded strategy return and the last position. */
function daily(): Map<string, Map<string, { ret: number; position: number }>> {
  const byDay = new Map<string, Map<string, { ret: number; position: number }>>();
  for (const r of raw) {
    const d = day(r.ts);
    const m = byDay.get(d) ?? new Map();
    const prev = m.get(r.symbol) ?? { ret: 0, position: 0 };
    m.set(r.symbol, { ret: (1 + prev.ret) * (1 + r.strategy_return) - 1, position: r.position });
    byDay.set(d, m);
  }
  return byDay;
}

describe('views', () => {
  it('defines bars, signals, summary and errors over the given folders, with the manifest counts', async () => {
    const s = await QuerySession.open({ data, results: out });
    try {
      expect(s.views).toEqual(['bars', 'signals', 'summary', 'errors', 'trades']);
      const t = await s.query(`
        SELECT (SELECT count(*) FROM bars) AS bars, (SELECT count(*) FROM signals) AS signals,
               (SELECT count(*) FROM summary) AS summary, (SELECT count(*) FROM errors) AS errors`);
      expect(num(t, 'bars')[0]).toBe(counts.bars);
      expect(num(t, 'signals')[0]).toBe(counts.signalRows);
      expect(num(t, 'summary')[0]).toBe(counts.processed);
      expect(num(t, 'errors')[0]).toBe(counts.skipped + counts.failed);
      expect(counts.signalRows).toBe(raw.length);
    } finally {
      s.close();
    }
  });

  it('defines only the views whose paths were given, and says which option a missing one needs', async () => {
    const s = await QuerySession.open({ data });
    try {
      expect(s.views).toEqual(['bars']);
      await expect(s.query('SELECT * FROM signals')).rejects.toThrow(/signals.*needs --results/);
    } finally {
      s.close();
    }
    await expect(query('SELECT * FROM bars', { results: out })).rejects.toThrow(/bars view needs --data/);
  });

  it('names a missing folder, or a folder that is no backtest output', async () => {
    await expect(query('SELECT 1', { results: join(tmp, 'nope') })).rejects.toThrow(/results folder .*nope does not exist/);
    await expect(query('SELECT 1', { results: data })).rejects.toThrow(/holds no signals\/, summary\/, trades\/, matches\/ or _errors\/ Parquet files \(is it a barstream backtest or screen output\?\)/);
    await expect(query('SELECT 1', { data: join(tmp, 'nope') })).rejects.toThrow(/data folder .*nope does not exist/);
  });
});

describe('query() returns apache-arrow tables', () => {
  it('with DuckDB types mapped to Arrow types and the values DuckDB reads', async () => {
    const t = await query('SELECT * FROM summary ORDER BY symbol', { results: out });
    const types = Object.fromEntries(t.schema.fields.map((f) => [f.name, f.type]));
    expect(DataType.isUtf8(types.symbol)).toBe(true);
    expect(DataType.isTimestamp(types.first_ts) && types.first_ts.unit).toBe(TimeUnit.MICROSECOND);
    expect(types.bars.toString()).toBe('Int64');
    expect(types.trades.toString()).toBe('Int64');
    expect(types.sharpe.toString()).toBe('Float64');
    expect(t.numRows).toBe(summary.length);
    expect(col(t, 'symbol')).toEqual(summary.map((r) => r.symbol));
    expect(col(t, 'bars')).toEqual(summary.map((r) => BigInt(r.bars as number)));
    expect(num(t, 'sharpe')).toEqual(summary.map((r) => r.sharpe));
    // TimestampMicrosecond keeps the microseconds; get() gives epoch milliseconds.
    expect(col(t, 'first_ts')).toEqual(summary.map((r) => (r.first_ts as Date).getTime()));
    const micros = t.getChild('first_ts')!.data[0].values as BigInt64Array;
    expect(micros[0]).toBe(BigInt((summary[0].first_ts as Date).getTime()) * 1000n);
  });

  it('maps the other common types, keeps NULLs and runs several statements', async () => {
    const t = await query(
      `CREATE TEMP TABLE x AS SELECT 1 AS a;
       SELECT a::INTEGER AS i, 2.5 AS dec, 1.5::FLOAT AS f, true AS b, DATE '2020-02-03' AS d,
              TIMESTAMP '2020-02-03 04:05:06.789012' AS ts, NULL::DOUBLE AS n, 'x' AS s, [1, 2] AS l,
              9007199254740993::BIGINT AS big
       FROM x`,
    );
    const types = Object.fromEntries(t.schema.fields.map((f) => [f.name, f.type.toString()]));
    expect(types).toEqual({
      i: 'Int32',
      dec: 'Float64',
      f: 'Float32',
      b: 'Bool',
      d: 'Date32<DAY>',
      ts: 'Timestamp<MICROSECOND>',
      n: 'Float64',
      s: 'Utf8',
      l: 'Utf8',
      big: 'Int64',
    });
    const row = t.get(0)!.toJSON();
    expect(row.i).toBe(1);
    expect(row.dec).toBe(2.5);
    expect(row.b).toBe(true);
    expect(row.d).toBe(Date.UTC(2020, 1, 3));
    expect((t.getChild('ts')!.data[0].values as BigInt64Array)[0]).toBe(BigInt(Date.UTC(2020, 1, 3, 4, 5, 6)) * 1000n + 789012n);
    expect(row.n).toBeNull();
    expect(t.getChild('n')!.nullCount).toBe(1);
    expect(row.s).toBe('x');
    expect(row.l).toBe('[1, 2]');
    expect(row.big).toBe(9007199254740993n);
  });

  it('a bad SQL gives one clear line naming the cause', async () => {
    await expect(query('SELEC 1')).rejects.toMatchObject({ code: 'BARSTREAM_DUCKDB', message: expect.stringMatching(/^Parser Error: syntax error at or near "SELEC"$/) });
    await expect(query('SELECT nope FROM summary', { results: out })).rejects.toMatchObject({
      code: 'BARSTREAM_DUCKDB',
      message: expect.stringMatching(/^Binder Error: Referenced column "nope" not found[^\n]*$/),
    });
  });
});

describe('reports (sql/reports)', () => {
  const report = async (name: string) => query(reportSql(name), { results: out });

  it('are the six documented ones, each backtest report runnable on the views and non-empty', async () => {
    expect(listReports()).toEqual(['portfolio_equity', 'screen_hits_by_day', 'signal_breadth', 'top_sharpe', 'trades_by_symbol', 'worst_drawdowns']);
    // screen_hits_by_day reads a screen output (test/screen.test.ts runs it).
    for (const name of listReports().filter((r) => r !== 'screen_hits_by_day')) expect((await report(name)).numRows, name).toBeGreaterThan(0);
  });

  it('top_sharpe: the summary sorted by Sharpe, descending', async () => {
    const t = await report('top_sharpe');
    const want = summary.filter((r) => Number.isFinite(r.sharpe)).sort((a, b) => (b.sharpe as number) - (a.sharpe as number));
    expect(col(t, 'symbol')).toEqual(want.slice(0, 20).map((r) => r.symbol));
    const s = num(t, 'sharpe');
    for (let i = 1; i < s.length; i++) expect(s[i]).toBeLessThanOrEqual(s[i - 1]);
  });

  it('portfolio_equity: one row per date, the daily mean return compounded', async () => {
    const t = await report('portfolio_equity');
    const byDay = daily();
    const dates = [...byDay.keys()].sort();
    expect(col(t, 'date').map((ms) => day(new Date(ms as number)))).toEqual(dates);
    let equity = 1;
    let peak = 1;
    const eq = num(t, 'equity');
    const dd = num(t, 'drawdown');
    const n = num(t, 'symbols');
    dates.forEach((d, i) => {
      const rets = [...byDay.get(d)!.values()].map((v) => v.ret);
      equity *= 1 + rets.reduce((a, b) => a + b, 0) / rets.length;
      peak = Math.max(peak, equity);
      expect(n[i]).toBe(rets.length);
      expect(close(eq[i], equity, 1e-9), `equity on ${d}: ${eq[i]} vs ${equity}`).toBe(true);
      expect(close(dd[i], equity / peak - 1, 1e-9)).toBe(true);
    });
  });

  it('signal_breadth: per date the shares long, short and flat', async () => {
    const t = await report('signal_breadth');
    const byDay = daily();
    expect(t.numRows).toBe(byDay.size);
    const [dates, long, short, flat] = [col(t, 'date'), num(t, 'long_share'), num(t, 'short_share'), num(t, 'flat_share')];
    expect(long.some((x) => x > 0) && short.some((x) => x > 0)).toBe(true);
    dates.forEach((ms, i) => {
      const pos = [...byDay.get(day(new Date(ms as number)))!.values()].map((v) => v.position);
      expect(close(long[i], pos.filter((p) => p > 0).length / pos.length)).toBe(true);
      expect(close(short[i], pos.filter((p) => p < 0).length / pos.length)).toBe(true);
      expect(close(long[i] + short[i] + flat[i], 1)).toBe(true);
    });
  });

  it("worst_drawdowns: each symbol's depth is the summary's max_drawdown, deepest first", async () => {
    const t = await report('worst_drawdowns');
    const maxDd = new Map(summary.map((r) => [r.symbol, r.max_drawdown as number]));
    const depth = num(t, 'depth');
    col(t, 'symbol').forEach((s, i) => {
      expect(close(depth[i], -maxDd.get(s)!, 1e-9), `${s}: ${depth[i]} vs ${-maxDd.get(s)!}`).toBe(true);
      if (i > 0) expect(depth[i]).toBeGreaterThanOrEqual(depth[i - 1]);
    });
    const [peak, trough, recovery] = [num(t, 'peak_ts'), num(t, 'trough_ts'), num(t, 'recovery_ts')];
    trough.forEach((tr, i) => {
      expect(peak[i]).toBeLessThan(tr);
      if (!Number.isNaN(recovery[i])) expect(recovery[i]).toBeGreaterThan(tr);
    });
  });
});

describe('macros (sql/macros.sql)', () => {
  it('equity_curve, drawdowns, annual_returns, sharpe and portfolio_equity agree with the data', async () => {
    const s = await QuerySession.open({ results: out });
    try {
      const sym = summary[0].symbol as string;
      const mine = raw.filter((r) => r.symbol === sym);
      const curve = await s.query(`SELECT * FROM equity_curve(${lit(sym)})`);
      expect(num(curve, 'equity')).toEqual(mine.map((r) => r.equity));
      expect(Math.min(...num(curve, 'drawdown'))).toBeCloseTo(-(summary[0].max_drawdown as number), 12);

      const dds = await s.query(`SELECT * FROM drawdowns(${lit(sym)})`);
      expect(num(dds, 'depth')[0]).toBeCloseTo(-(summary[0].max_drawdown as number), 12);
      expect(num(dds, 'depth').every((d) => d < 0)).toBe(true);

      // Compounding each symbol's years gives its total return.
      const years = await s.query(`SELECT symbol, product(1 + return) - 1 AS total FROM annual_returns() GROUP BY symbol ORDER BY symbol`);
      num(years, 'total').forEach((x, i) => expect(close(x, summary[i].total_return as number, 1e-9)).toBe(true));

      const sh = await s.query(`SELECT sharpe(strategy_return, 252) AS s, bars_per_year(ts) AS p FROM signals WHERE symbol = ${lit(sym)}`);
      const r = mine.map((x) => x.strategy_return);
      const mean = r.reduce((a, b) => a + b, 0) / r.length;
      const sd = Math.sqrt(r.reduce((a, b) => a + (b - mean) ** 2, 0) / (r.length - 1));
      expect(close(num(sh, 's')[0], (mean / sd) * Math.sqrt(252), 1e-9)).toBe(true);
      const years365 = (mine[mine.length - 1].ts.getTime() - mine[0].ts.getTime()) / (365.25 * 86_400_000);
      expect(close(num(sh, 'p')[0], (mine.length - 1) / years365, 1e-12)).toBe(true);

      const all = summary.map((x) => lit(x.symbol as string)).join(', ');
      const port = await s.query(`SELECT * FROM portfolio_equity([${all}])`);
      const rep = await s.query(reportSql('portfolio_equity'));
      expect(num(port, 'equity')).toEqual(num(rep, 'equity'));
    } finally {
      s.close();
    }
  });
});

/** What `runQuery` writes, collected. */
async function printed(sql: string | undefined, o: Parameters<typeof runQuery>[1]): Promise<string> {
  const chunks: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      chunks.push(chunk);
      done();
    },
  });
  await runQuery(sql, o, sink);
  return Buffer.concat(chunks).toString('utf8');
}

describe('barstream query', () => {
  it('--json prints JSON Lines (one object per row), --csv a header and one line per row', async () => {
    const sql = 'SELECT symbol, first_ts, bars, sharpe FROM summary ORDER BY symbol';
    const text = await printed(sql, { results: out, json: true });
    expect(text.endsWith('}\n')).toBe(true);
    const rows = text.trimEnd().split('\n').map((l) => JSON.parse(l));
    expect(rows).toHaveLength(summary.length);
    expect(rows[0]).toEqual({
      symbol: summary[0].symbol,
      first_ts: (summary[0].first_ts as Date).toISOString(),
      bars: summary[0].bars,
      sharpe: summary[0].sharpe,
    });
    const csv = (await printed(sql, { results: out, csv: true })).trimEnd().split('\n');
    expect(csv[0]).toBe('symbol,first_ts,bars,sharpe');
    expect(csv).toHaveLength(summary.length + 1);
    expect(csv[1]).toBe(`${summary[0].symbol},${(summary[0].first_ts as Date).toISOString()},${summary[0].bars},${summary[0].sharpe}`);
    const table = await printed(undefined, { results: out, report: 'top_sharpe', maxRows: 3 });
    expect(table.split('\n')[0]).toMatch(/^symbol\s+sharpe\s+total_return/);
    expect(table).toContain('first 3 rows shown, more follow');
    expect(table.trimEnd().split('\n')).toHaveLength(2 + 3 + 2);
    const all = await printed(undefined, { results: out, report: 'top_sharpe' });
    expect(all.trimEnd().endsWith(`${Math.min(20, summary.length)} rows`)).toBe(true);
  });

  it('runs from the built CLI; a bad SQL or a missing folder prints one line and exits 1', async () => {
    const cli = join(packageRoot(), 'dist', 'engine', 'cli', 'main.js');
    const run = (args: string[]) =>
      promisify(execFile)(process.execPath, [cli, 'query', ...args]).then(
        (r) => ({ code: 0, ...r }),
        (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
      );
    const ok = await run(['--results', out, '--report', 'portfolio_equity', '--json']);
    expect(ok.code).toBe(0);
    expect(ok.stdout.trimEnd().split('\n').map((l) => JSON.parse(l))).toHaveLength(daily().size);

    const bad = await run(['--results', out, 'SELECT * FROM summary WHERE']);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toBe('');
    expect(bad.stderr).toMatch(/^barstream: Parser Error: syntax error at end of input \(BARSTREAM_DUCKDB\)\n$/);

    const missing = await run(['--results', join(tmp, 'missing'), 'SELECT 1']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^barstream: results folder .*missing does not exist \(BARSTREAM_IO\)\n$/);

    const help = await run(['--help']);
    for (const name of listReports()) expect(help.stdout).toContain(name);
  });
});
