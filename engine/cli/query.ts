/**
 * `barstream query`: SQL over a dataset and backtest results, printed as a table, JSON Lines
 * or CSV. JSON and CSV are streamed chunk by chunk (memory does not grow with the result),
 * waiting for a slow reader; a reader that goes away (`| head`) ends the query quietly.
 */
import type { Writable } from 'node:stream';
import { Command } from 'commander';
import * as aq from 'arquero';
import { DataType, type Schema, type Table } from 'apache-arrow';
import { BarstreamError, invalidParam } from '../errors.js';
import { listReports, QuerySession, reportDescription, reportSql } from '../query.js';
import { action, intOption } from './common.js';
import { readSqlFile } from './sqlfile.js';

export type OutputFormat = 'table' | 'json' | 'csv';

interface QueryCliOptions {
  data?: string;
  results?: string;
  report?: string;
  sqlFile?: string;
  allowIncomplete: boolean;
  json: boolean;
  csv: boolean;
  maxRows: number;
}

type Cell = string | number | boolean | null;

/** How one column's values are written: JSON keeps numbers and booleans, text is ISO for times. */
function cellWriter(type: DataType, format: OutputFormat, dateOnly: boolean): (v: unknown) => Cell {
  if (DataType.isTimestamp(type)) {
    return (v) => (v == null ? null : timestampText(v as number, format, dateOnly));
  }
  if (DataType.isDate(type)) return (v) => (v == null ? null : new Date(v as number).toISOString().slice(0, 10));
  if (DataType.isFloat(type)) {
    if (format === 'json') return (v) => (v == null || !Number.isFinite(v as number) ? null : (v as number));
    if (format === 'csv') return (v) => (v == null ? null : String(v));
    return (v) => (v == null ? null : shortNumber(v as number));
  }
  if (DataType.isInt(type)) {
    return (v) => {
      if (v == null) return null;
      const n = Number(v);
      return format === 'json' && Number.isSafeInteger(n) ? n : String(v);
    };
  }
  if (DataType.isBool(type)) return (v) => (v == null ? null : format === 'json' ? Boolean(v) : String(v));
  return (v) => (v == null ? null : String(v));
}

function timestampText(ms: number, format: OutputFormat, dateOnly: boolean): string {
  const iso = new Date(ms).toISOString();
  if (format !== 'table') return iso;
  return dateOnly ? iso.slice(0, 10) : iso.replace('T', ' ').replace(/\.000Z$/, '').replace(/Z$/, '');
}

/** Seven significant digits, exponent only for very large or very small magnitudes. */
function shortNumber(x: number): string {
  if (!Number.isFinite(x) || Number.isInteger(x)) return String(x);
  const a = Math.abs(x);
  if (a >= 1e15 || a < 1e-4) return x.toExponential(4);
  return String(Number(x.toPrecision(7)));
}

/** The result as rows of cells with arquero: every column converted for `format`. */
function shape(table: Table, format: OutputFormat, limit?: number): { names: string[]; dt: aq.ColumnTable } {
  // arquero reads apache-arrow tables as they are (its types only name IPC bytes and flechette tables)
  let dt = aq.fromArrow(table as unknown as Uint8Array);
  if (limit !== undefined) dt = dt.slice(0, limit);
  const names = dt.columnNames();
  const derived: Record<string, unknown> = {};
  for (const field of table.schema.fields) {
    const col = dt.array(field.name) as ArrayLike<unknown>;
    const midnight = DataType.isTimestamp(field.type) && Array.from(col).every((v) => v == null || (v as number) % 86_400_000 === 0);
    const write = cellWriter(field.type, format, midnight);
    derived[field.name] = aq.escape((row: Record<string, unknown>) => write(row[field.name]));
  }
  return { names, dt: Object.keys(derived).length ? dt.derive(derived as never) : dt };
}

/**
 * Writes rows as JSON Lines objects or CSV lines; the rows come as one array of values per
 * column, each value what the Arrow vector of its `schema` field returns from `get`.
 */
function rowWriter(schema: Schema, format: 'json' | 'csv'): (columns: ArrayLike<unknown>[], numRows: number) => string {
  const writers = schema.fields.map((f) => cellWriter(f.type, format, false));
  const keys = schema.fields.map((f) => `${JSON.stringify(f.name)}:`);
  return (columns, numRows) => {
    const lines: string[] = new Array(numRows);
    for (let r = 0; r < numRows; r++) {
      const cells = columns.map((c, i) => writers[i](c[r] ?? null));
      lines[r] = format === 'json' ? `{${cells.map((v, i) => keys[i] + JSON.stringify(v)).join(',')}}` : cells.map(csvField).join(',');
    }
    return numRows === 0 ? '' : `${lines.join('\n')}\n`;
  };
}

/** A table's columns as arrays of what their vectors' `get` returns. */
function tableColumns(table: Table): unknown[][] {
  return table.schema.fields.map((_, i) => {
    const v = table.getChildAt(i);
    return Array.from({ length: table.numRows }, (_, r) => v?.get(r) ?? null);
  });
}

/** A CSV field: quoted when it holds a comma, quote or line break; NULL is empty. */
function csvField(v: Cell): string {
  if (v === null) return '';
  const s = String(v);
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/** The CSV header line. */
function csvHeader(schema: Schema): string {
  return `${schema.fields.map((f) => csvField(f.name)).join(',')}\n`;
}

/**
 * Formats a query result for stdout: JSON Lines (one object per row), CSV with a header, or
 * a table of at most `maxRows` rows that says when the result has more (read `maxRows + 1`
 * rows to let it know).
 */
export function formatResult(table: Table, format: OutputFormat, maxRows = 50): string {
  if (format === 'json') return rowWriter(table.schema, 'json')(tableColumns(table), table.numRows);
  if (format === 'csv') return table.schema.fields.length === 0 ? '' : csvHeader(table.schema) + rowWriter(table.schema, 'csv')(tableColumns(table), table.numRows);
  const { names, dt } = shape(table, 'table', maxRows);
  const numeric = table.schema.fields.map((f) => DataType.isFloat(f.type) || DataType.isInt(f.type) || DataType.isDecimal(f.type));
  const rows = (dt.objects() as Record<string, Cell>[]).map((r) => names.map((n) => clip(r[n] === null ? 'NULL' : String(r[n]))));
  const widths = names.map((n, i) => Math.max(n.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (numeric[i] ? c.padStart(widths[i]) : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  const shown =
    rows.length < table.numRows
      ? `first ${rows.length} rows shown, more follow (--max-rows N, or --json/--csv for all)`
      : `${table.numRows} row${table.numRows === 1 ? '' : 's'}`;
  return [line(names), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line), '', shown, ''].join('\n');
}

function clip(s: string): string {
  return s.length > 60 ? `${s.slice(0, 59)}…` : s;
}

/**
 * A destination that is written only as fast as it reads (waits for `drain`), and notices
 * a reader that went away (EPIPE): `write` then returns false.
 */
class Output {
  private gone = false;
  private failure?: Error;
  private wake?: () => void;
  private readonly onError = (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE' || e.code === 'ERR_STREAM_DESTROYED') this.gone = true;
    else this.failure = e;
    this.wake?.();
  };

  constructor(private readonly out: Writable) {
    out.on('error', this.onError);
  }

  /** Writes `text`; false once the reader is gone. */
  async write(text: string): Promise<boolean> {
    if (!this.gone && !this.failure && text !== '' && !this.out.write(text)) {
      let resume = () => {};
      await new Promise<void>((resolve) => {
        resume = resolve;
        this.wake = resolve;
        this.out.on('drain', resolve).on('close', resolve);
      });
      this.wake = undefined;
      this.out.off('drain', resume).off('close', resume);
    }
    if (this.failure) throw new BarstreamError('BARSTREAM_IO', `cannot write the result: ${this.failure.message}`, { cause: this.failure });
    return !this.gone;
  }

  close(): void {
    this.out.off('error', this.onError);
  }
}

/** The SQL to run: the argument, `--sql-file` or `--report`, exactly one of them. */
async function sqlText(sql: string | undefined, o: Partial<QueryCliOptions>): Promise<string> {
  const given = [sql !== undefined && 'SQL as an argument', o.sqlFile !== undefined && `--sql-file ${o.sqlFile}`, o.report !== undefined && `--report ${o.report}`].filter(
    (g): g is string => typeof g === 'string',
  );
  if (given.length > 1) throw invalidParam(`give one of SQL as an argument, --sql-file PATH or --report NAME, not ${given.join(' and ')}`);
  if (o.report !== undefined) return reportSql(o.report);
  const text = o.sqlFile !== undefined ? await readSqlFile(o.sqlFile) : sql;
  if (text === undefined || text.trim() === '') {
    throw invalidParam(`give SQL to run: as an argument, with --sql-file PATH (- for stdin), or --report NAME (reports: ${listReports().join(', ')})`);
  }
  return text;
}

/**
 * Runs `sql` (or `--sql-file`, or a report) with the views for `data`/`results` and writes
 * the result to `out`: JSON Lines and CSV streamed, a table at most `maxRows` rows. A
 * warning about an incomplete `results` (with `allowIncomplete`) goes to `err`.
 */
export async function runQuery(sql: string | undefined, o: Partial<QueryCliOptions>, out: Writable = process.stdout, err: Writable = process.stderr): Promise<void> {
  if (o.json && o.csv) throw invalidParam('choose one of --json and --csv');
  const text = await sqlText(sql, o);
  const session = await QuerySession.open({ data: o.data, results: o.results, allowIncomplete: o.allowIncomplete });
  const output = new Output(out);
  try {
    if (session.incomplete) err.write(`barstream: warning: ${session.incomplete}; reading it anyway (--allow-incomplete)\n`);
    const format: OutputFormat = o.json ? 'json' : o.csv ? 'csv' : 'table';
    if (format === 'table') {
      const maxRows = o.maxRows ?? 50;
      // A table shows maxRows rows: read one more to know whether there are others, no more.
      await output.write(formatResult(await session.query(text, { maxRows: maxRows + 1 }), format, maxRows));
      return;
    }
    const result = await session.stream(text);
    const write = rowWriter(result.schema, format);
    if (format === 'csv' && result.schema.fields.length > 0 && !(await output.write(csvHeader(result.schema)))) {
      result.cancel();
      return;
    }
    for await (const columns of result.columns()) {
      if (!(await output.write(write(columns, columns[0]?.length ?? 0)))) break; // the reader is gone: leaving the loop stops the query
    }
  } finally {
    output.close();
    session.close();
  }
}

export function queryCommand(): Command {
  const reports = listReports();
  const width = Math.max(...reports.map((r) => r.length));
  return new Command('query')
    .description('run SQL with DuckDB over a dataset (view bars) and backtest or screen results (views signals, summary, trades, errors, matches; macros from sql/macros.sql)')
    .argument('[sql]', "SQL to run; the last statement's result is printed")
    .option('--sql-file <path>', 'read the SQL from a file (- for stdin) instead of the argument')
    .option('--data <dir>', 'dataset folder: defines the bars view')
    .option('--results <dir>', 'backtest or screen output folder: defines signals, summary, trades, errors, matches (each when present) and the macros')
    .option('--allow-incomplete', 'read --results even without its _manifest.json (an interrupted or running backtest), with a warning', false)
    .option('--report <name>', `run sql/reports/<name>.sql instead of SQL (${reports.join(', ')})`)
    .option('--json', 'print JSON Lines: one object per row, streamed', false)
    .option('--csv', 'print CSV with a header row, streamed', false)
    .option('--max-rows <n>', 'rows shown in the table (JSON and CSV print all)', intOption('--max-rows'), 50)
    .addHelpText(
      'after',
      [
        '',
        'Reports (--report NAME):',
        ...reports.map((r) => `  ${r.padEnd(width)}  ${reportDescription(r)}`),
        '',
        'The SQL runs as given, with all of DuckDB: it can write files (COPY ... TO), and nothing',
        'stops it from changing the result files that later queries read; write elsewhere.',
        'A --results folder without _manifest.json is refused unless --allow-incomplete.',
        '',
        'Examples:',
        '  barstream query --results results/run1 "SELECT * FROM summary ORDER BY sharpe DESC LIMIT 10"',
        "  barstream query --results results/run1 \"SELECT * FROM drawdowns('AAPL')\" --csv",
        '  barstream query --results results/run1 --report portfolio_equity --json',
        '  barstream query --data datasets/demo "SELECT symbol, count(*) FROM bars GROUP BY symbol"',
        '  barstream query --results results/run1 --sql-file queries/top.sql --csv > top.csv',
        '  barstream query --results results/run1 --report trades_by_symbol',
        '  barstream query --results results/breakouts "SELECT symbol, ts, close FROM matches ORDER BY ts DESC LIMIT 20"',
      ].join('\n'),
    )
    .action(
      action(async (sql: string | undefined, o: QueryCliOptions) => {
        await runQuery(sql, o);
      }),
    );
}
