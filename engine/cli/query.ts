/** `barstream query`: SQL over a dataset and backtest results, printed as a table, JSON or CSV. */
import { Command } from 'commander';
import * as aq from 'arquero';
import { DataType, type Table } from 'apache-arrow';
import { invalidParam } from '../errors.js';
import { listReports, QuerySession, reportDescription, reportSql } from '../query.js';
import { action, intOption } from './common.js';

export type OutputFormat = 'table' | 'json' | 'csv';

interface QueryCliOptions {
  data?: string;
  results?: string;
  report?: string;
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
 * Formats a query result for stdout. `table` shows at most `maxRows` rows and says when the
 * result has more (read `maxRows + 1` rows to let it know).
 */
export function formatResult(table: Table, format: OutputFormat, maxRows = 50): string {
  if (format === 'json') {
    const { dt } = shape(table, 'json');
    const rows = dt.objects() as Record<string, Cell>[];
    return rows.length === 0 ? '[]\n' : `[\n${rows.map((r) => JSON.stringify(r)).join(',\n')}\n]\n`;
  }
  if (format === 'csv') {
    const { dt } = shape(table, 'csv');
    return dt.numCols() === 0 ? '' : dt.toCSV();
  }
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

/** Runs `sql` (or a report) with the views for `data`/`results`; returns what the CLI prints. */
export async function runQuery(sql: string | undefined, o: Partial<QueryCliOptions>): Promise<string> {
  if (o.json && o.csv) throw invalidParam('choose one of --json and --csv');
  if (sql !== undefined && o.report !== undefined) throw invalidParam('give either SQL or --report, not both');
  const text = o.report !== undefined ? reportSql(o.report) : sql;
  if (text === undefined || text.trim() === '') throw invalidParam(`give SQL to run or --report NAME (reports: ${listReports().join(', ')})`);
  const session = await QuerySession.open({ data: o.data, results: o.results });
  try {
    const format: OutputFormat = o.json ? 'json' : o.csv ? 'csv' : 'table';
    const maxRows = o.maxRows ?? 50;
    // A table shows maxRows rows: read one more to know whether there are others, no more.
    const table = await session.query(text, format === 'table' ? { maxRows: maxRows + 1 } : {});
    return formatResult(table, format, maxRows);
  } finally {
    session.close();
  }
}

export function queryCommand(): Command {
  const reports = listReports();
  const width = Math.max(...reports.map((r) => r.length));
  return new Command('query')
    .description('run SQL with DuckDB over a dataset (view bars) and backtest results (views signals, summary, errors; macros from sql/macros.sql)')
    .argument('[sql]', 'SQL to run; the last statement\'s result is printed')
    .option('--data <dir>', 'dataset folder: defines the bars view')
    .option('--results <dir>', 'backtest output folder: defines signals, summary, errors and the macros')
    .option('--report <name>', `run sql/reports/<name>.sql instead of SQL (${reports.join(', ')})`)
    .option('--json', 'print one JSON array of row objects', false)
    .option('--csv', 'print CSV with a header row', false)
    .option('--max-rows <n>', 'rows shown in the table (JSON and CSV print all)', intOption('--max-rows'), 50)
    .addHelpText(
      'after',
      [
        '',
        'Reports (--report NAME):',
        ...reports.map((r) => `  ${r.padEnd(width)}  ${reportDescription(r)}`),
        '',
        'Examples:',
        '  barstream query --results results/run1 "SELECT * FROM summary ORDER BY sharpe DESC LIMIT 10"',
        "  barstream query --results results/run1 \"SELECT * FROM drawdowns('AAPL')\" --csv",
        '  barstream query --results results/run1 --report portfolio_equity --json',
        '  barstream query --data datasets/demo "SELECT symbol, count(*) FROM bars GROUP BY symbol"',
      ].join('\n'),
    )
    .action(
      action(async (sql: string | undefined, o: QueryCliOptions) => {
        process.stdout.write(await runQuery(sql, o));
      }),
    );
}
