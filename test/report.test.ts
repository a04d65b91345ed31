/**
 * `report()` and `barstream report` over real backtest and screen outputs: the data the page
 * embeds checked against the Parquet files read by a separate DuckDB and arithmetic done
 * here, the PNGs decoded and found not blank, `query` still accepting the folder after a
 * report, bad input refused on one line, and a 10,000-symbol backtest's report under 5 MB.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine, generate, QuerySession, report } from '../engine/index.js';
import { cli, cliBuilt } from './util/cli.js';
import { lit, query as duck } from './util/duck.js';
import { decodePng, inkStats } from './util/png.js';

type Row = Record<string, string | number | null>;
interface Embedded {
  datasets: Record<string, Row[]>;
  charts: { id: string; dataset: string }[];
}

let tmp: string;
let data: string;
let bt: string;

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'barstream-report-'));
  data = join(tmp, 'data');
  bt = join(tmp, 'bt');
  await generate({ out: data, symbols: 12, bars: 500, seed: 21, buckets: 2 });
  await (await Engine.open({ dataset: data, threads: 2 })).backtest({ out: bt, feeBps: 2 });
});

afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

/** The JSON the page embeds (datasets and chart specs). */
function embedded(html: string): Embedded {
  const m = /<script type="application\/json" id="report-data">([\s\S]*?)<\/script>/.exec(readFileSync(html, 'utf8'));
  if (!m) throw new Error(`no report data in ${html}`);
  return JSON.parse(m[1]);
}

const near = (a: number, b: number, rel = 1e-5) => Math.abs(a - b) <= rel * Math.max(1, Math.abs(b));

/**
 * The equal-weight portfolio and buy-and-hold computed here from the signals Parquet: per
 * symbol and day the compounded strategy return and the last close; per day their means.
 */
async function portfolioHere(out: string) {
  const raw = (await duck(`SELECT symbol, ts, close, strategy_return FROM read_parquet(${lit(join(out, 'signals', '*', '*.parquet'))}) ORDER BY symbol, ts`)) as {
    symbol: string; ts: Date; close: number; strategy_return: number;
  }[];
  const days = new Map<string, Map<string, { ret: number; close: number }>>();
  for (const r of raw) {
    const d = r.ts.toISOString().slice(0, 10);
    const m = days.get(d) ?? new Map();
    const prev = m.get(r.symbol);
    m.set(r.symbol, { ret: (1 + (prev?.ret ?? 0)) * (1 + r.strategy_return) - 1, close: r.close });
    days.set(d, m);
  }
  const lastClose = new Map<string, number>();
  let equity = 1;
  let hold = 1;
  let peak = 1;
  let worst = 0;
  for (const d of [...days.keys()].sort()) {
    const m = days.get(d)!;
    let sr = 0;
    let sh = 0;
    for (const [sym, v] of m) {
      sr += v.ret;
      sh += lastClose.has(sym) ? v.close / lastClose.get(sym)! - 1 : 0;
      lastClose.set(sym, v.close);
    }
    equity *= 1 + sr / m.size;
    hold *= 1 + sh / m.size;
    peak = Math.max(peak, equity);
    worst = Math.min(worst, equity / peak - 1);
  }
  return { equity, hold, worst, days: days.size };
}

describe('report of a backtest', () => {
  it('embeds the portfolio, buy and hold and drawdown computed from the Parquet, down-sampled without losing the trough', async () => {
    const r = await report(bt, { html: join(tmp, 'small.html'), maxPoints: 40 });
    const here = await portfolioHere(bt);
    const p = embedded(r.html).datasets.portfolio;
    expect(here.days).toBe(500);
    expect(p.length).toBeLessThanOrEqual(40);
    expect(p.length).toBeGreaterThan(20);
    const last = p[p.length - 1];
    expect(near(last.equity as number, here.equity), `${last.equity} vs ${here.equity}`).toBe(true);
    expect(near(last.hold_equity as number, here.hold), `${last.hold_equity} vs ${here.hold}`).toBe(true);
    expect(near(Math.min(...p.map((x) => x.drawdown as number)), here.worst)).toBe(true);
    // long + short + flat = the symbols with a bar that day
    for (const x of p) expect((x.long as number) + (x.short as number) + (x.flat as number)).toBe(x.symbols);
  });

  it('embeds histograms that count every symbol, a scatter sampled to the limit, and the best and worst curves', async () => {
    const summary = await duck(`SELECT symbol, total_return, sharpe FROM read_parquet(${lit(join(bt, 'summary', '*.parquet'))})`);
    const r = await report(bt, { html: join(tmp, 'sampled.html'), maxPoints: 10, top: 3 });
    const d = embedded(r.html).datasets;
    const finite = (k: string) => summary.filter((s) => Number.isFinite(s[k] as number)).length;
    expect(d.hist_total_return.reduce((a, b) => a + (b.count as number), 0)).toBe(finite('total_return'));
    expect(d.hist_sharpe.reduce((a, b) => a + (b.count as number), 0)).toBe(finite('sharpe'));
    expect(d.symbols).toHaveLength(10);
    const bySymbol = new Map(summary.map((s) => [s.symbol, s]));
    for (const s of d.symbols) expect(near(s.total_return as number, bySymbol.get(s.symbol)!.total_return as number)).toBe(true);
    const ranked = [...summary].sort((a, b) => (b.total_return as number) - (a.total_return as number)).map((s) => s.symbol);
    expect([...new Set(d.best.map((x) => x.symbol))].sort()).toEqual(ranked.slice(0, 3).sort());
    expect([...new Set(d.worst.map((x) => x.symbol))].sort()).toEqual(ranked.slice(-3).sort());
    // each curve ends at the symbol's last equity over its first, and its price likewise
    const ends = await duck(
      `SELECT symbol, arg_max(equity, ts) / arg_min(equity, ts) AS e, arg_max(close, ts) / arg_min(close, ts) AS c FROM read_parquet(${lit(join(bt, 'signals', '*', '*.parquet'))}) GROUP BY symbol`,
    );
    for (const side of [d.best, d.worst]) {
      for (const sym of new Set(side.map((x) => x.symbol))) {
        const rows = side.filter((x) => x.symbol === sym);
        const end = ends.find((e) => e.symbol === sym)!;
        expect(rows.length).toBeLessThanOrEqual(Math.floor(10 / 3));
        expect(near(rows[rows.length - 1].strategy as number, end.e as number)).toBe(true);
        expect(near(rows[rows.length - 1].price as number, end.c as number)).toBe(true);
      }
    }
  });

  it('writes one PNG per chart that is not blank, and query still opens the folder afterwards', async () => {
    const png = join(tmp, 'png');
    const r = await report(bt, { png });
    expect(r.html).toBe(join(bt, 'report.html'));
    expect(statSync(r.html).size).toBe(r.bytes);
    expect((await readdir(png)).sort()).toEqual(r.charts.map((c) => `${c}.png`).sort());
    expect(r.charts).toHaveLength(8);
    for (const file of r.pngs) {
      const px = decodePng(readFileSync(file));
      const { ink, colors } = inkStats(px);
      expect(px.width, file).toBeGreaterThan(300);
      // lines, text and axes: a few percent of the pixels at least, in many shades (anti-aliasing)
      expect(ink / (px.width * px.height), file).toBeGreaterThan(0.01);
      expect(colors, file).toBeGreaterThan(20);
    }
    // no temporary file left beside them
    expect((await readdir(png)).filter((f) => f.startsWith('.'))).toEqual([]);
    expect((await readdir(bt)).filter((f) => f.startsWith('.'))).toEqual([]);
    const s = await QuerySession.open({ results: bt });
    try {
      expect(s.incomplete).toBeUndefined();
      expect(Number((await s.query('SELECT count(*) AS n FROM summary')).get(0)!.n)).toBe(12);
    } finally {
      s.close();
    }
  });

  it('restricts everything to --symbols, and refuses unknown symbols, a bad --top and a folder that is no output, naming them', async () => {
    const summary = await duck(`SELECT symbol FROM read_parquet(${lit(join(bt, 'summary', '*.parquet'))}) ORDER BY symbol`);
    const two = [summary[0].symbol as string, summary[5].symbol as string];
    const r = await report(bt, { html: join(tmp, 'two.html'), symbols: two });
    const d = embedded(r.html).datasets;
    expect(new Set(d.symbols.map((x) => x.symbol))).toEqual(new Set(two));
    expect(d.portfolio[d.portfolio.length - 1].symbols).toBe(2);
    const html = readFileSync(r.html, 'utf8');
    const tableRows = /<table id="table-summary"[\s\S]*?<tbody>([\s\S]*?)<\/tbody>/.exec(html)![1].match(/<tr>/g);
    expect(tableRows).toHaveLength(2);

    await expect(report(bt, { symbols: [two[0], 'NOPE'] })).rejects.toMatchObject({ code: 'BARSTREAM_INVALID_PARAM', message: expect.stringContaining('NOPE') });
    await expect(report(bt, { top: 0 })).rejects.toMatchObject({ code: 'BARSTREAM_INVALID_PARAM', message: expect.stringContaining('top') });
    await expect(report(data)).rejects.toMatchObject({ code: 'BARSTREAM_IO' });
    await expect(report(join(tmp, 'missing'))).rejects.toMatchObject({ code: 'BARSTREAM_IO', message: expect.stringContaining('missing') });
    const partial = join(tmp, 'partial');
    await cp(join(bt, 'summary'), join(partial, 'summary'), { recursive: true });
    await mkdir(join(partial, '_state'));
    await expect(report(partial)).rejects.toMatchObject({ code: 'BARSTREAM_BAD_INPUT', message: expect.stringMatching(/incomplete.*a report needs the whole run/) });
    await expect(report(bt, { html: join(tmp, 'no', 'such', 'dir', 'r.html') })).rejects.toMatchObject({ code: 'BARSTREAM_IO', message: expect.stringContaining('r.html') });
  });

  it('reports a formula backtest (its signals have no ATC columns)', async () => {
    const out = join(tmp, 'rules');
    await (await Engine.open({ dataset: data, threads: 2 })).backtest({ out, strategy: { formula: 'entry = crosses_above(sma(close, 5), sma(close, 20))\nexit = crosses_below(sma(close, 5), sma(close, 20))' } });
    const r = await report(out);
    expect(r.charts).toEqual(['equity', 'drawdown', 'positions', 'hist_total_return', 'hist_sharpe', 'scatter', 'best', 'worst']);
    const trades = await duck(`SELECT count(*) AS n FROM read_parquet(${lit(join(out, 'trades', '*.parquet'))})`);
    expect(readFileSync(r.html, 'utf8')).toContain(`all ${(trades[0].n as number).toLocaleString('en-US')} trades`);
  });
});

describe('report of a screen', () => {
  it('counts matches per day and per symbol as the Parquet files hold them', async () => {
    const out = join(tmp, 'screen');
    await (await Engine.open({ dataset: data, threads: 2 })).screen({ formula: 'r = rsi(close, 14); r > 65', all: true, out });
    const r = await report(out, { maxPoints: 30, top: 5, png: join(tmp, 'screen-png') });
    expect(r.kind).toBe('screen');
    expect(r.charts).toEqual(['days', 'often']);
    const d = embedded(r.html).datasets;
    const matches = join(out, 'matches', '*', '*.parquet');
    const [{ n }] = await duck(`SELECT count(*) AS n FROM read_parquet(${lit(matches)})`);
    expect(d.days.length).toBeLessThanOrEqual(30);
    expect(d.days.reduce((a, b) => a + (b.matches as number), 0)).toBe(n);
    const often = await duck(`SELECT symbol, count(*) AS matches FROM read_parquet(${lit(matches)}) GROUP BY symbol ORDER BY matches DESC, symbol LIMIT 5`);
    expect(d.often.map((x) => [x.symbol, x.matches])).toEqual(often.map((x) => [x.symbol, x.matches]));
    for (const file of r.pngs) expect(inkStats(decodePng(readFileSync(file))).ink).toBeGreaterThan(1000);
  });
});

describe('a large backtest', () => {
  it('a 10,000-symbol backtest gives a report under 5 MB with at most 2,000 points per chart', async () => {
    const big = join(tmp, 'big');
    const out = join(tmp, 'big-bt');
    await generate({ out: big, symbols: 10_000, bars: 60, seed: 1 });
    const m = await (await Engine.open({ dataset: big, threads: 2 })).backtest({ out, strategy: { length: 10 } });
    expect(m.manifest.counts.processed).toBe(10_000);
    const r = await report(out);
    expect(r.bytes).toBeLessThan(5 * 1024 * 1024);
    const e = embedded(r.html);
    for (const c of e.charts) expect(e.datasets[c.dataset].length, c.id).toBeLessThanOrEqual(2000);
    expect(e.datasets.symbols).toHaveLength(2000);
    const html = readFileSync(r.html, 'utf8');
    expect(html).toContain('2,000 of 10,000 symbols');
    expect(html).toContain('1,000 of 10,000 symbols: the 500 best and 500 worst by total return');
  });
});

describe.skipIf(!cliBuilt)('barstream report (built CLI)', () => {
  it('writes the report and prints its path; bad input is one line with a code and exit 1', () => {
    const ok = cli(['report', '--results', bt, '--html', join(tmp, 'cli.html'), '--top', '2', '--json']);
    expect(ok.status, ok.stderr).toBe(0);
    const j = JSON.parse(ok.stdout);
    expect(j.html).toBe(join(tmp, 'cli.html'));
    expect(existsSync(j.html)).toBe(true);
    const bad = cli(['report', '--results', join(tmp, 'nowhere')]);
    expect(bad.status).toBe(1);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(bad.stderr).toMatch(/nowhere.*BARSTREAM_IO/);
    const top = cli(['report', '--results', bt, '--top', '500']);
    expect(top.status).toBe(1);
    expect(top.stderr).toMatch(/top.*BARSTREAM_INVALID_PARAM/);
  });
});
