/**
 * `barstream report` opened in a real headless browser (Debian's `chromium`, driven by
 * puppeteer-core) with the network off: every request other than the report file itself and
 * data: URLs is aborted and recorded, and the test fails on any such request, any failed
 * request, console error or page error. Each chart must have drawn marks, the summary table
 * must show the numbers of the `summary` Parquet files (read here by a separate DuckDB), and
 * a screenshot is written under the test's temporary folder. Without chromium the tests are
 * skipped, saying why (`.ci/run` installs it).
 */
import { existsSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine, generate } from '../engine/index.js';
import { report } from '../engine/report/index.js';
import { lit, query as duck } from './util/duck.js';

const CANDIDATES = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'].filter((p): p is string => !!p);
const chromium = CANDIDATES.find((p) => existsSync(p));
const why = chromium ? undefined : `no chromium at ${CANDIDATES.join(', ')} (apt-get install chromium, or set CHROMIUM_PATH)`;

let tmp: string;
let browser: Browser;

beforeAll(async () => {
  if (why) return;
  tmp = await mkdtemp(join(tmpdir(), 'barstream-report-browser-'));
  browser = await puppeteer.launch({ executablePath: chromium, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
});

afterAll(async () => {
  await browser?.close();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

interface Opened {
  page: Page;
  /** Requests aborted (anything not the file or data:), failed requests, console errors, page errors. */
  problems: string[];
}

/** Opens `file` with every other request blocked, and waits until each chart is drawn. */
async function open(file: string): Promise<Opened> {
  const page = await browser.newPage();
  await page.setViewport({ width: 1200, height: 900 });
  const url = pathToFileURL(file).href;
  const problems: string[] = [];
  await page.setRequestInterception(true);
  page.on('request', (r) => {
    if (r.url() === url || r.url().startsWith('data:')) void r.continue();
    else {
      problems.push(`request attempted: ${r.url()}`);
      void r.abort();
    }
  });
  page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`));
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console error: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${(e as Error).message}`));
  await page.goto(url, { waitUntil: 'load', timeout: 30_000 });
  await page.evaluate(() => (window as unknown as { reportReady: Promise<unknown> }).reportReady);
  return { page, problems };
}

/** Per chart: how many marks (paths with a shape) its SVG drew, axes and legends not counted. */
async function marksPerChart(page: Page): Promise<Record<string, number>> {
  return page.evaluate(() =>
    Object.fromEntries(
      [...document.querySelectorAll('div.chart')].map((div) => [
        div.id,
        [...div.querySelectorAll('svg g.role-mark path, svg g.role-mark line')].filter((p) => (p.getAttribute('d') ?? '').length > 1 || p.tagName === 'line').length,
      ]),
    ),
  );
}

/** A table's header and cell texts. */
async function tableText(page: Page, id: string): Promise<{ head: string[]; rows: string[][] }> {
  return page.evaluate((id) => {
    const t = document.getElementById(id) as HTMLTableElement;
    return {
      head: [...t.tHead!.rows[0].cells].map((c) => c.textContent ?? ''),
      rows: [...t.tBodies[0].rows].map((r) => [...r.cells].map((c) => c.textContent ?? '')),
    };
  }, id);
}

const close = (shown: number, exact: number) => Math.abs(shown - exact) <= 5e-6 * Math.max(1e-300, Math.abs(exact)) + 1e-300;

describe.skipIf(why)(`the report in headless chromium, network off${why ? ` (skipped: ${why})` : ''}`, () => {
  it('a backtest report: no request leaves the file, every chart draws marks, the summary table shows the Parquet numbers, a screenshot', async () => {
    const data = join(tmp, 'data');
    const out = join(tmp, 'bt');
    await generate({ out: data, symbols: 12, bars: 500, seed: 21, buckets: 2 });
    await (await Engine.open({ dataset: data, threads: 2 })).backtest({ out, feeBps: 2 });
    const r = await report(out, { top: 4 });
    const { page, problems } = await open(r.html);
    try {
      expect(problems).toEqual([]);
      const marks = await marksPerChart(page);
      expect(Object.keys(marks).sort()).toEqual(r.charts.map((c) => `chart-${c}`).sort());
      expect(r.charts).toEqual(['equity', 'drawdown', 'positions', 'hist_total_return', 'hist_sharpe', 'scatter', 'best', 'worst']);
      for (const [id, n] of Object.entries(marks)) expect(n, id).toBeGreaterThan(0);
      // the scatter draws one point per symbol
      expect(marks['chart-scatter']).toBe(12);

      const summary = await duck(`SELECT * FROM read_parquet(${lit(join(out, 'summary', '*.parquet'))})`);
      const bySymbol = new Map(summary.map((s) => [s.symbol as string, s]));
      const { head, rows } = await tableText(page, 'table-summary');
      expect(rows).toHaveLength(summary.length);
      const numeric = head.filter((h) => typeof summary[0][h] === 'number');
      expect(numeric).toEqual(expect.arrayContaining(['total_return', 'sharpe', 'max_drawdown', 'trades', 'bars', 'cagr', 'volatility', 'win_rate', 'exposure']));
      let compared = 0;
      for (const row of rows) {
        const exact = bySymbol.get(row[head.indexOf('symbol')]);
        expect(exact, row[0]).toBeDefined();
        for (const h of numeric) {
          const want = exact![h] as number;
          const cell = row[head.indexOf(h)];
          if (!Number.isFinite(want)) expect(cell, `${row[0]} ${h}`).toBe('');
          else expect(close(Number(cell), want), `${row[0]} ${h}: shown ${cell}, Parquet ${want}`).toBe(true);
          compared++;
        }
      }
      expect(compared).toBe(12 * numeric.length);

      // hovering a point of the scatter names its symbol, with its total return
      const point = (await page.$('#chart-scatter svg g.role-mark path'))!;
      await point.scrollIntoView();
      const box = (await point.boundingBox())!;
      await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
      await page.waitForSelector('#vg-tooltip-element.visible', { timeout: 5000 });
      const tip = await page.$eval('#vg-tooltip-element', (t) => t.textContent ?? '');
      const hovered = /^symbol(\w+)total_return(\S+)%max_drawdown/.exec(tip.replace(/\s+/g, ''));
      expect(hovered, tip).not.toBeNull();
      const ret = bySymbol.get(hovered![1])?.total_return as number;
      expect(Number(hovered![2].replace('\u2212', '-'))).toBeCloseTo(ret * 100, 1);

      // a click on a header sorts the rows by that column
      await page.click(`#table-summary th:nth-child(${head.indexOf('sharpe') + 1})`);
      const sorted = (await tableText(page, 'table-summary')).rows.map((row) => Number(row[head.indexOf('sharpe')]));
      expect(sorted).toEqual([...sorted].sort((a, b) => a - b));

      const shot = join(tmp, 'backtest-report.png');
      await page.screenshot({ path: shot as `${string}.png`, fullPage: true });
      expect(statSync(shot).size).toBeGreaterThan(10_000);
      expect(problems).toEqual([]);
    } finally {
      await page.close();
    }
  });

  it('a screen report: no request leaves the file, both charts draw marks, the latest matches are those of the Parquet files', async () => {
    const data = join(tmp, 'sdata');
    const out = join(tmp, 'screen');
    await generate({ out: data, symbols: 15, bars: 400, seed: 5 });
    await (await Engine.open({ dataset: data, threads: 2 })).screen({ formula: 'r = rsi(close, 14); r > 60', all: true, out });
    const r = await report(out);
    const { page, problems } = await open(r.html);
    try {
      expect(problems).toEqual([]);
      const marks = await marksPerChart(page);
      expect(Object.keys(marks).sort()).toEqual(['chart-days', 'chart-often']);
      for (const [id, n] of Object.entries(marks)) expect(n, id).toBeGreaterThan(0);
      const latest = await duck(
        `SELECT symbol, max(ts) AS ts, arg_max(r, ts) AS r FROM read_parquet(${lit(join(out, 'matches', '*', '*.parquet'))}) GROUP BY symbol`,
      );
      const { head, rows } = await tableText(page, 'table-latest');
      expect(rows).toHaveLength(latest.length);
      for (const row of rows) {
        const want = latest.find((l) => l.symbol === row[head.indexOf('symbol')])!;
        expect(want).toBeDefined();
        expect(new Date(row[head.indexOf('ts')]).getTime()).toBe((want.ts as Date).getTime());
        expect(close(Number(row[head.indexOf('r')]), want.r as number)).toBe(true);
      }
      const shot = join(tmp, 'screen-report.png');
      await page.screenshot({ path: shot as `${string}.png`, fullPage: true });
      expect(statSync(shot).size).toBeGreaterThan(10_000);
    } finally {
      await page.close();
    }
  });
});
