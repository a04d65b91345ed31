/** `barstream ingest`: CSV or Parquet into the canonical dataset layout. */
import { Command, Option } from 'commander';
import { ingest, IngestResult } from '../../datasets/ingest.js';
import { action, intOption, table } from './common.js';

interface IngestCliOptions {
  in: string[];
  out: string;
  format?: 'csv' | 'parquet';
  map?: string;
  onBadRows: 'error' | 'skip' | 'quarantine';
  strict: boolean;
  buckets?: number;
  threads?: number;
  overwrite: boolean;
  json: boolean;
}

/** Exit status of a `--strict` run that rejected rows (the data is still written). */
export const STRICT_EXIT_CODE = 2;

/** The counts as printed by the command: one summary line, then rejected rows by reason. */
export function formatIngest(r: IngestResult, elapsedMs: number): string {
  const n = (x: number) => x.toLocaleString('en-US');
  const where = r.rejectedPath ? `quarantined to ${r.rejectedPath}` : 'skipped';
  const lines = [
    `read ${n(r.read)} rows from ${r.files.length} ${r.format} file(s); wrote ${n(r.written)} rows of ${n(r.symbols)} symbols ` +
      `in ${r.buckets} bucket(s) to ${r.out}; rejected ${n(r.rejected)}${r.rejected > 0 ? ` (${where})` : ''} ` +
      `(${(elapsedMs / 1000).toFixed(1)} s)`,
  ];
  const reasons = Object.entries(r.byReason);
  if (reasons.length > 0) lines.push('', table(['reason', 'rows'], reasons.map(([k, v]) => [k, v as number])));
  return lines.join('\n');
}

/** `out` receives what the command prints (stdout by default). */
export function ingestCommand(out: { write(s: string): unknown } = process.stdout): Command {
  return new Command('ingest')
    .description('convert CSV or Parquet files into the canonical dataset layout, checking every row')
    .requiredOption('--in <paths...>', 'input files, globs or folders (a folder: every .csv/.parquet under it)')
    .requiredOption('--out <dir>', 'dataset folder to create')
    .addOption(new Option('--format <format>', 'input format (default: from the file extension)').choices(['csv', 'parquet']))
    .option('--map <pairs>', 'canonical=Source column names, e.g. symbol=Ticker,ts=Date,close=Adj_Close')
    .addOption(
      new Option('--on-bad-rows <policy>', 'error: stop; skip: drop; quarantine: write to <out>/_rejected/')
        .choices(['error', 'skip', 'quarantine'])
        .default('quarantine'),
    )
    .option('--strict', `exit with status ${STRICT_EXIT_CODE} if any row was rejected (after writing)`, false)
    .option('--buckets <b>', 'number of buckets (default: sized to the memory budget)', intOption('--buckets'))
    .option('--threads <n>', 'DuckDB threads', intOption('--threads'))
    .option('--overwrite', 'replace a non-empty output folder', false)
    .option('--json', 'print one JSON object with the counts', false)
    .action(
      action(async (o: IngestCliOptions) => {
        const t0 = performance.now();
        const r = await ingest({
          input: o.in,
          out: o.out,
          format: o.format,
          map: o.map,
          onBadRows: o.onBadRows,
          buckets: o.buckets,
          threads: o.threads,
          overwrite: o.overwrite,
        });
        const { read, written, rejected, byReason, symbols, buckets, rejectedPath } = r;
        out.write(
          o.json
            ? `${JSON.stringify({ read, written, rejected, byReason, symbols, buckets, files: r.files.length, out: r.out, rejectedPath })}\n`
            : `${formatIngest(r, performance.now() - t0)}\n`,
        );
        if (o.strict && rejected > 0) {
          process.stderr.write(`barstream: --strict: ${rejected} row(s) rejected\n`);
          process.exitCode = STRICT_EXIT_CODE;
        }
      }),
    );
}
