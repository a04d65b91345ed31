/**
 * The report's data, computed by DuckDB over a results folder (`QuerySession`, views of
 * `sql/views.sql`) with the SQL of `sql/report/`: every chart's rows aggregated and
 * down-sampled there, so what reaches the page is small whatever the size of the run.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DataType, type Table } from 'apache-arrow';
import { BarstreamError, invalidParam } from '../errors.js';
import { QuerySession } from '../query.js';
import { literal, sqlFile } from '../sql.js';

/** One row of a chart's data or a table: plain JSON values (times as ISO text, NaN as null). */
export type Row = Record<string, string | number | boolean | null>;

export interface ReportTable {
  id: string;
  title: string;
  /** What the table shows of what (e.g. "1,000 of 52,311 trades: ..."). */
  caption: string;
  columns: string[];
  rows: Row[];
}

export interface ReportData {
  kind: 'backtest' | 'screen';
  /** The results folder the report reads. */
  results: string;
  /** `_manifest.json` as written, without its file list (only the number of files). */
  manifest: Record<string, unknown>;
  /** The symbols the report is restricted to (`symbols` option), or null for all. */
  symbols: string[] | null;
  /** Each chart's rows, by dataset name (see `specs.ts`). */
  datasets: Record<string, Row[]>;
  /** A sentence per dataset: how it was aggregated or sampled. */
  notes: Record<string, string>;
  tables: ReportTable[];
}

export interface DataOptions {
  /** Best and worst symbols whose equity curves are drawn; symbols matching most often (screen). */
  top: number;
  /** Restrict the report to these symbols. */
  symbols?: string[];
  /** Most points of one chart (default 2,000). */
  maxPoints: number;
  /** Most rows of one table (default 1,000). */
  maxRows: number;
}

/**
 * A time as short ISO text that browsers and Vega read as UTC: `2020-01-02` at midnight,
 * else without zero seconds and milliseconds (`2020-01-02T14:30Z`).
 */
export function timeText(ms: number): string {
  const iso = new Date(ms).toISOString();
  if (iso.endsWith('T00:00:00.000Z')) return iso.slice(0, 10);
  return iso.replace(/(:00)?\.000Z$/, 'Z');
}

/** A float as the report keeps it: 6 significant digits (a report shows, it does not store); NaN and infinities as null. */
export function shortFloat(x: number): number | null {
  return Number.isFinite(x) ? Number(x.toPrecision(6)) : null;
}

/** A table's rows as plain JSON objects (see {@link Row}, {@link timeText}, {@link shortFloat}). */
export function plainRows(t: Table): Row[] {
  const fields = t.schema.fields;
  const convert = fields.map((f) => {
    if (DataType.isTimestamp(f.type) || DataType.isDate(f.type)) return (v: unknown) => timeText(Number(v));
    if (DataType.isFloat(f.type)) return (v: unknown) => shortFloat(v as number);
    if (DataType.isInt(f.type)) return (v: unknown) => Number(v);
    if (DataType.isBool(f.type)) return (v: unknown) => Boolean(v);
    return (v: unknown) => String(v);
  });
  const vectors = fields.map((f) => t.getChild(f.name)!);
  const rows: Row[] = new Array(t.numRows);
  for (let r = 0; r < t.numRows; r++) {
    const row: Row = {};
    fields.forEach((f, i) => {
      const v = vectors[i].get(r);
      row[f.name] = v === null || v === undefined ? null : convert[i](v);
    });
    rows[r] = row;
  }
  return rows;
}

const fmt = (n: number) => n.toLocaleString('en-US');

/** Reads the manifest and says which kind of results folder `out` is. */
function readManifest(out: string): { kind: 'backtest' | 'screen'; manifest: Record<string, unknown> } {
  let manifest: Record<string, unknown>;
  try {
    manifest = JSON.parse(readFileSync(join(out, '_manifest.json'), 'utf8'));
  } catch (e) {
    throw new BarstreamError('BARSTREAM_BAD_INPUT', `results folder ${out} has no readable _manifest.json (${(e as Error).message.split('\n')[0]})`);
  }
  const format = String(manifest.format ?? '');
  const kind = format.startsWith('barstream-backtest/') ? 'backtest' : format.startsWith('barstream-screen/') ? 'screen' : undefined;
  if (!kind) throw new BarstreamError('BARSTREAM_BAD_INPUT', `results folder ${out} is no backtest or screen output (its _manifest.json has format '${format}')`);
  const { files, ...rest } = manifest;
  return { kind, manifest: { ...rest, files: Array.isArray(files) ? files.length : 0 } };
}

/** Computes everything the report shows; `out` must be a whole backtest or screen output. */
export async function reportData(out: string, opts: DataOptions): Promise<ReportData> {
  // The session first: it names a missing folder, one that is no output and an incomplete one
  const session = await QuerySession.open({ results: out }).catch((e: unknown) => {
    // query's hint names its own flag; a report is only made of a whole run
    if (e instanceof BarstreamError && e.message.includes('--allow-incomplete')) {
      throw new BarstreamError(e.code, e.message.replace(/; pass --allow-incomplete to read it anyway$/, '; a report needs the whole run (finish it with --resume, or rerun it)'));
    }
    throw e;
  });
  try {
    const { kind, manifest } = readManifest(out);
    const q = async (name: string, values: Record<string, string | number>) =>
      plainRows(await session.query(sqlFile(join('report', name), Object.fromEntries(Object.entries(values).map(([k, v]) => [k, String(v)])))));
    const main = kind === 'backtest' ? 'summary' : 'matches';
    const data: ReportData = { kind, results: out, manifest, symbols: opts.symbols ?? null, datasets: {}, notes: {}, tables: [] };
    // A run where every symbol failed or none matched has no summary/ or matches/ files: the
    // report then shows the manifest and the errors only.
    const has = session.views.includes(main);
    if (!has && opts.symbols !== undefined) throw invalidParam(`symbols: results folder ${out} holds no ${main}/ files to choose symbols from`);
    const only = has ? await symbolFilter(session, main, opts.symbols) : 'TRUE';
    const ctx = { q, only, opts, data, views: session.views };
    if (has && kind === 'backtest') await backtestData(ctx);
    if (has && kind === 'screen') await screenData(ctx);
    if (session.views.includes('errors')) {
      const [{ rows }] = await q('counts', { view: 'errors', only });
      const errs = await q('errors', { only, rows: opts.maxRows });
      data.tables.push({ id: 'errors', title: 'Failed and skipped symbols', caption: `${fmt(errs.length)} of ${fmt(Number(rows))} (by stage and symbol)`, columns: ['symbol', 'stage', 'message'], rows: errs });
    }
    return data;
  } finally {
    session.close();
  }
}

interface Ctx {
  q: (name: string, values: Record<string, string | number>) => Promise<Row[]>;
  only: string;
  opts: DataOptions;
  data: ReportData;
  views: string[];
}

/** The SQL condition restricting rows to `symbols` (TRUE for all); unknown symbols are refused, named. */
async function symbolFilter(session: QuerySession, view: string, symbols: string[] | undefined): Promise<string> {
  if (symbols === undefined) return 'TRUE';
  if (!Array.isArray(symbols) || symbols.length === 0 || symbols.some((s) => typeof s !== 'string' || s === '')) {
    throw invalidParam('symbols must be a non-empty list of symbol names');
  }
  const list = `(${[...new Set(symbols)].map(literal).join(', ')})`;
  const found = new Set(plainRows(await session.query(`SELECT DISTINCT symbol FROM ${view} WHERE symbol IN ${list}`)).map((r) => r.symbol));
  const missing = symbols.filter((s) => !found.has(s));
  if (missing.length > 0) {
    const shown = missing.slice(0, 10).join(', ') + (missing.length > 10 ? `, ... (${missing.length - 10} more)` : '');
    throw invalidParam(`symbols not in ${view} of the results: ${shown}`);
  }
  return `symbol IN ${list}`;
}

async function backtestData({ q, only, opts, data, views }: Ctx): Promise<void> {
  const { maxPoints, maxRows, top } = opts;
  const portfolio = await q('portfolio', { only, points: maxPoints });
  data.datasets.portfolio = portfolio;
  data.notes.portfolio = `${fmt(portfolio.length)} points; each the last day of a group of equal length (the drawdown the deepest within the group)`;

  const [summary] = await q('counts', { view: 'summary', only });
  const nSymbols = Number(summary.rows);
  const scatter = await q('symbols', { only, points: maxPoints });
  data.datasets.symbols = scatter;
  data.notes.symbols = scatter.length < nSymbols ? `${fmt(scatter.length)} of ${fmt(nSymbols)} symbols (a fixed sample; symbols with a non-finite return or drawdown are left out)` : `all ${fmt(nSymbols)} symbols`;
  for (const column of ['total_return', 'sharpe']) {
    data.datasets[`hist_${column}`] = await q('histogram', { column, only, bins: 40 });
    data.notes[`hist_${column}`] = `40 bins between the 1st and 99th percentiles; values beyond them count in the edge bins`;
  }

  const sides = await q('best_worst', { only, top });
  const names = [...new Set(sides.map((r) => r.symbol as string))];
  const perSymbol = Math.max(2, Math.floor(maxPoints / Math.max(1, Math.min(top, names.length))));
  const curves = names.length === 0 ? [] : await q('curves', { symbols: `(${names.map(literal).join(', ')})`, points: perSymbol });
  for (const side of ['best', 'worst']) {
    const chosen = new Map(sides.filter((r) => r.side === side).map((r, i) => [r.symbol as string, i + 1]));
    data.datasets[side] = curves.filter((r) => chosen.has(r.symbol as string)).map((r) => ({ ...r, rank: chosen.get(r.symbol as string)! }));
    data.notes[side] = `${chosen.size} symbols by total return, at most ${fmt(perSymbol)} points each; strategy equity and price both start at 1`;
  }

  const [trades] = views.includes('trades') ? await q('counts', { view: 'trades', only }) : [{ rows: 0 }];
  const half = Math.floor(maxRows / 2);
  const summaryRows = await q('extremes', { view: 'summary', only, column: 'total_return', key: 'symbol', rows: half });
  data.tables.push({
    id: 'summary', title: 'Summary per symbol',
    caption: summaryRows.length < nSymbols ? `${fmt(summaryRows.length)} of ${fmt(nSymbols)} symbols: the ${fmt(half)} best and ${fmt(half)} worst by total return` : `all ${fmt(nSymbols)} symbols`,
    columns: Object.keys(summaryRows[0] ?? {}), rows: summaryRows,
  });
  if (Number(trades.rows) > 0) {
    const tradeRows = await q('extremes', { view: 'trades', only, column: 'return', key: `symbol || ' ' || entry_ts::VARCHAR`, rows: half });
    data.tables.push({
      id: 'trades', title: 'Trades',
      caption: tradeRows.length < Number(trades.rows) ? `${fmt(tradeRows.length)} of ${fmt(Number(trades.rows))} trades: the ${fmt(half)} best and ${fmt(half)} worst by return` : `all ${fmt(Number(trades.rows))} trades`,
      columns: Object.keys(tradeRows[0] ?? {}), rows: tradeRows,
    });
  }
}

async function screenData({ q, only, opts, data }: Ctx): Promise<void> {
  const { maxPoints, maxRows, top } = opts;
  const days = await q('screen_days', { only, points: maxPoints });
  data.datasets.days = days;
  const grouped = days.some((d) => Number(d.days) > 1);
  data.notes.days = grouped ? `${fmt(days.length)} groups of days with a match; each bar sums its group` : `${fmt(days.length)} days with a match`;
  data.datasets.often = await q('screen_symbols', { only, top });
  data.notes.often = `the ${data.datasets.often.length} symbols matching on most bars`;
  const [counts] = await q('counts', { view: 'matches', only });
  const latest = await q('screen_latest', { only, rows: maxRows });
  data.tables.push({
    id: 'latest', title: 'Latest matches',
    caption: `${fmt(latest.length)} of ${fmt(Number(counts.symbols))} symbols (${fmt(Number(counts.rows))} matching bars): each symbol's latest match, latest first`,
    columns: Object.keys(latest[0] ?? {}), rows: latest,
  });
}
