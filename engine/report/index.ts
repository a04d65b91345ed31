/**
 * `report(out)`: a self-contained HTML report of a backtest or screen output (default
 * `OUT/report.html`), and with `png` the same charts as PNG files. The report files sit
 * beside the results without disturbing them: `query` compares only the Parquet files of
 * the result folders with the manifest.
 */
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { BarstreamError } from '../errors.js';
import { checkRange, type Range } from '../limits.js';
import { reportData } from './data.js';
import { reportHtml } from './html.js';
import { reportCharts } from './specs.js';

export interface ReportOptions {
  /** The HTML file to write (default `OUT/report.html`). */
  html?: string;
  /** Also write each chart as `<chart>.png` into this folder (made when missing). */
  png?: string;
  /** Best and worst symbols whose equity curves are drawn; symbols listed as matching most often (10). */
  top?: number;
  /** Restrict the report to these symbols (each must be in the results). */
  symbols?: string[];
  /** Most points of one chart (2,000): curves are down-sampled, the scatter sampled, in DuckDB. */
  maxPoints?: number;
  /** Most rows of one table (1,000). */
  maxRows?: number;
}

export interface ReportResult {
  kind: 'backtest' | 'screen';
  /** The HTML file written. */
  html: string;
  bytes: number;
  /** The chart ids, in page order. */
  charts: string[];
  /** The PNG files written (with `png`). */
  pngs: string[];
  elapsedMs: number;
}

/** The report's own bounds: more curves than this are no longer readable on one page. */
export const REPORT_RANGES: Record<'top' | 'maxPoints' | 'maxRows', Range> = {
  top: { min: 1, max: 100, integer: true },
  maxPoints: { min: 10, max: 100_000, integer: true },
  maxRows: { min: 2, max: 100_000, integer: true },
};

/** Writes `data` to `path` under a temporary name first, so no reader sees half a file. */
async function writeAtomic(path: string, data: string | Buffer): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.tmp-${process.pid}`);
  try {
    await writeFile(tmp, data);
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw new BarstreamError('BARSTREAM_IO', `cannot write ${path}: ${(e as Error).message}`, { cause: e });
  }
}

/**
 * Writes the report of the backtest or screen output `out`.
 * @example
 * const r = await report('results/run1', { png: 'results/run1/png' });
 * console.log(r.html); // results/run1/report.html
 */
export async function report(out: string, options: ReportOptions = {}): Promise<ReportResult> {
  const t0 = performance.now();
  if (typeof out !== 'string' || out === '') throw new BarstreamError('BARSTREAM_INVALID_PARAM', 'report needs a results folder');
  const top = checkRange('top', options.top ?? 10, REPORT_RANGES.top);
  const maxPoints = checkRange('maxPoints', options.maxPoints ?? 2000, REPORT_RANGES.maxPoints);
  const maxRows = checkRange('maxRows', options.maxRows ?? 1000, REPORT_RANGES.maxRows);
  const data = await reportData(resolve(out), { top, symbols: options.symbols, maxPoints, maxRows });
  data.results = out;
  const charts = reportCharts(data);
  const html = resolve(options.html ?? join(out, 'report.html'));
  const text = reportHtml(data, charts);
  await writeAtomic(html, text);
  const pngs: string[] = [];
  if (options.png !== undefined) {
    const dir = resolve(options.png);
    await mkdir(dir, { recursive: true }).catch((e) => {
      throw new BarstreamError('BARSTREAM_IO', `cannot make the PNG folder ${options.png}: ${(e as Error).message}`);
    });
    // Vega and resvg load only when PNGs are asked for: every other command starts faster
    const { chartPng } = await import('./png.js');
    for (const c of charts) {
      const file = join(dir, `${c.id}.png`);
      await writeAtomic(file, await chartPng(c, data.datasets));
      pngs.push(file);
    }
  }
  return { kind: data.kind, html, bytes: Buffer.byteLength(text), charts: charts.map((c) => c.id), pngs, elapsedMs: performance.now() - t0 };
}
