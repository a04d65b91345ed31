/** `barstream ingest`: CSV or Parquet into the canonical dataset layout. */
import { Command, Option } from 'commander';
import { isAbsolute, relative } from 'node:path';
import { noBarsMessage } from '../../datasets/dataset-info.js';
import { emptyFileNote, ingest, IngestOptions, IngestResult } from '../../datasets/ingest.js';
import { nameList } from '../../datasets/ingest-sources.js';
import { action, intOption, table } from './common.js';

/** The flags of {@link addReadOptions}. */
export interface ReadFlags {
  format?: 'csv' | 'parquet';
  map?: string;
  onBadRows: 'error' | 'skip' | 'quarantine';
  strict: boolean;
  threads?: number;
  symbolFromFilename?: boolean | string;
  tsFormat?: string;
  tsUnit?: 's' | 'ms' | 'us' | 'ns';
  tz?: string;
  closeOnly?: boolean;
  delimiter?: string;
  decimalComma?: boolean;
  prefer?: boolean | string[];
}

interface IngestCliOptions extends ReadFlags {
  in: string[];
  out: string;
  buckets?: number;
  overwrite: boolean;
  json: boolean;
  append: boolean;
}

/** Exit status of a `--strict` run that rejected rows (the data is still written). */
export const STRICT_EXIT_CODE = 2;

/**
 * The counts as printed by the command: one summary line, the files skipped in input folders
 * (`formatOption` is `--format` when given), then rejected rows by reason.
 */
export function formatIngest(r: IngestResult, elapsedMs: number, formatOption?: string): string {
  const n = (x: number) => x.toLocaleString('en-US');
  const where = r.rejectedPath ? `quarantined to ${r.rejectedPath}` : 'skipped';
  const lines = [
    `read ${n(r.read)} rows from ${r.files.length} ${r.format} file(s); wrote ${n(r.written)} rows of ${n(r.symbols)} symbols ` +
      `in ${r.buckets} bucket(s) to ${r.out}; rejected ${n(r.rejected)}${r.rejected > 0 ? ` (${where})` : ''}` +
      `${r.superseded > 0 ? `; superseded ${n(r.superseded)} (--prefer)` : ''} ` +
      `(${(elapsedMs / 1000).toFixed(1)} s)`,
  ];
  if (r.generation !== undefined) lines.push(`appended as generation ${r.generation}: ${n(r.symbolsAdded ?? 0)} new symbol(s)`);
  if (r.skippedFiles.length > 0) lines.push(skippedLine(r.skippedFiles, formatOption));
  const reasons = Object.entries(r.byReason);
  if (reasons.length > 0) lines.push('', table(['reason', 'rows'], reasons.map(([k, v]) => [k, v as number])));
  return lines.join('\n');
}

/** Shown relative to the working folder when under it, else absolute. */
function shown(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path;
}

/** `skipped 2 files not matching --format csv: a.parquet, b.parquet` (the first few, then `and N more`). */
export function skippedLine(skippedFiles: string[], formatOption: string | undefined): string {
  const n = skippedFiles.length;
  const why = formatOption ? `not matching --format ${formatOption}` : `that ${n === 1 ? 'is' : 'are'} neither CSV nor Parquet`;
  return `skipped ${n} file${n === 1 ? '' : 's'} ${why}: ${nameList(skippedFiles.map(shown))}`;
}

/** Warnings for stderr: inputs with no rows, and a dataset written without bars (every row rejected). */
export function ingestWarnings(r: IngestResult): string[] {
  const lines = r.emptyFiles.map((f) => emptyFileNote(f, r.format));
  if (r.written === 0) lines.push(noBarsMessage(r.out, r.metadata));
  if (r.metadata.closeOnly) lines.push('--close-only: open, high and low are copies of close (recorded in metadata.json)');
  if (!r.metadata.volume) lines.push('a source has no volume column: the dataset\'s volume is NULL (metadata.json volume: false)');
  return lines;
}

/** `--prefer a,b --prefer c` as `[a, b, c]`; `--prefer` alone as true (the --in order). */
export function preferList(v: boolean | string[] | undefined): boolean | string[] | undefined {
  return Array.isArray(v) ? v.flatMap((x) => x.split(',')).filter((x) => x !== '') : v;
}

/** The options of how input files are read and checked, shared by `ingest` and `update`. */
export function addReadOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--format <format>', 'input format (default: from the file extension)').choices(['csv', 'parquet']))
    .option('--map <pairs>', 'canonical=Source column names, e.g. symbol=Ticker,ts=Date,close=Adj_Close')
    .addOption(
      new Option('--on-bad-rows <policy>', 'error: stop; skip: drop; quarantine: write to <dataset>/_rejected/')
        .choices(['error', 'skip', 'quarantine'])
        .default('quarantine'),
    )
    .option('--strict', `exit with status ${STRICT_EXIT_CODE} if any row was rejected (after writing); an input file with no rows is an error`, false)
    .option('--threads <n>', 'DuckDB threads', intOption('--threads'))
    .option('--symbol-from-filename [regex]', "symbol from each file's base name, or the (?<symbol>...) group of REGEX")
    .option('--ts-format <strftime>', 'format of text timestamps, e.g. %m/%d/%Y')
    .addOption(new Option('--ts-unit <unit>', 'timestamps are epoch integers in this unit').choices(['s', 'ms', 'us', 'ns']))
    .option('--tz <zone>', 'zone of naive local times, e.g. America/New_York (converted to UTC)')
    .option('--close-only', 'sources have only a close: open = high = low = close')
    .option('--delimiter <char>', "CSV delimiter: , ; | or 'tab' (default: sniffed)", (v: string) => (v === 'tab' || v === '\\t' ? '\t' : v))
    .option('--decimal-comma', 'CSV numbers are written 1234,5 (default: sniffed)')
    .option(
      '--prefer [inputs...]',
      'inputs in order of precedence (a.csv,b.csv or repeated; unlisted --in inputs come after; alone: the --in order): a (symbol, ts) in several is taken from the first, the others are superseded',
    );
}

/** The flags {@link addReadOptions} defines, as `ingest` options. */
export function readOptions(o: ReadFlags): Omit<IngestOptions, 'input' | 'out'> {
  return {
    format: o.format,
    map: o.map,
    onBadRows: o.onBadRows,
    threads: o.threads,
    emptyFiles: o.strict ? 'error' : 'warn',
    symbolFromFilename: o.symbolFromFilename,
    tsFormat: o.tsFormat,
    tsUnit: o.tsUnit,
    tz: o.tz,
    closeOnly: o.closeOnly,
    delimiter: o.delimiter,
    decimalComma: o.decimalComma,
    prefer: preferList(o.prefer),
  };
}

/** `out` receives what the command prints (stdout by default). */
export function ingestCommand(out: { write(s: string): unknown } = process.stdout): Command {
  return addReadOptions(
    new Command('ingest')
      .description('convert CSV or Parquet files into the canonical dataset layout, checking every row')
      .requiredOption('--in <paths...>', 'input files, globs or folders (a folder: every .csv/.parquet under it)')
      .requiredOption('--out <dir>', 'dataset folder to create (with --append: to add to)'),
  )
    .option('--buckets <b>', 'number of buckets (default: sized to the memory budget)', intOption('--buckets'))
    .option('--overwrite', 'replace a non-empty output folder', false)
    .option('--json', 'print one JSON object with the counts', false)
    .option('--append', 'add the rows to the existing dataset --out: new symbols and bars after each symbol\'s last, as new part files', false)
    .action(
      action(async (o: IngestCliOptions) => {
        const t0 = performance.now();
        const r = await ingest({
          ...readOptions(o),
          input: o.in,
          out: o.out,
          buckets: o.buckets,
          overwrite: o.overwrite,
          append: o.append,
        });
        const { read, written, rejected, superseded, byReason, symbols, buckets, rejectedPath, skippedFiles, emptyFiles } = r;
        out.write(
          o.json
            ? `${JSON.stringify({ read, written, rejected, superseded, byReason, symbols, buckets, files: r.files.length, out: r.out, rejectedPath, skippedFiles, emptyFiles, generation: r.generation, symbolsAdded: r.symbolsAdded })}\n`
            : `${formatIngest(r, performance.now() - t0, o.format)}\n`,
        );
        for (const w of ingestWarnings(r)) process.stderr.write(`barstream: warning: ${w}\n`);
        if (o.strict && rejected > 0) {
          process.stderr.write(`barstream: --strict: ${rejected} row(s) rejected (BARSTREAM_BAD_INPUT)\n`);
          process.exitCode = STRICT_EXIT_CODE;
        }
      }),
    );
}
