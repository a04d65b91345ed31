/** `barstream ingest`: options, results and the bad-row reasons. */
import type { DatasetMetadata } from './generate.js';
import type { FileEntry } from './layout.js';

export const CANONICAL_COLUMNS = ['symbol', 'ts', 'open', 'high', 'low', 'close', 'volume'] as const;
export type CanonicalColumn = (typeof CANONICAL_COLUMNS)[number];
export type IngestFormat = 'csv' | 'parquet';
export type BadRowPolicy = 'error' | 'skip' | 'quarantine';
export type TsUnit = 's' | 'ms' | 'us' | 'ns';

/** Why a row was rejected; a row gets the first reason that applies, in this order. */
export const REJECT_REASONS = {
  malformed_line: "the CSV line is not a row of the header's columns (ragged, an unterminated quote, invalid text)",
  missing_symbol: 'symbol is missing or empty',
  missing_ts: 'timestamp is missing or empty',
  bad_ts: 'timestamp does not parse',
  missing_price: 'a price (open/high/low/close) is missing',
  bad_price: 'a price is not a number',
  nonfinite_price: 'a price is not finite',
  nonpositive_price: 'a price is zero or negative',
  high_below_low: 'high < low',
  open_outside_range: 'open outside [low, high]',
  close_outside_range: 'close outside [low, high]',
  missing_volume: 'volume is missing',
  bad_volume: 'volume is not a number',
  nonfinite_volume: 'volume is not finite',
  negative_volume: 'volume is negative',
  duplicate: 'duplicate (symbol, ts): an earlier row, or the dataset appended to, has it',
  not_after_last: "at or before the symbol's last bar in the dataset appended to",
  superseded: '(symbol, ts) taken from an input of higher precedence (--prefer)',
} as const;
export type RejectReason = keyof typeof REJECT_REASONS;

export interface IngestOptions {
  /** Files, globs (DuckDB `glob` syntax, `**` included) or folders (every `.csv`/`.parquet` under them). */
  input: string | string[];
  /** Dataset folder to create. */
  out: string;
  /** Default: from the file extensions (`.csv`, `.tsv`, `.csv.gz`; `.parquet`, `.pq`). */
  format?: IngestFormat;
  /** Canonical name -> source column, or `symbol=Ticker,ts=Date,...`. Others are matched case-insensitively. */
  map?: Partial<Record<CanonicalColumn, string>> | string;
  /**
   * What to do with bad rows: `error` stops at the first (naming file, row and reason) and
   * writes nothing; `skip` drops them; `quarantine` (default) writes them, in source order, to
   * `out/_rejected/part-0.parquet` with `reason`, `source_file`, `row` (1-based data row in
   * its file), the source text of the seven canonical columns and `source`, a MAP of every
   * source column to its text. All three count them by reason.
   */
  onBadRows?: BadRowPolicy;
  /** Buckets; default from {@link chooseBuckets} over the rows written. */
  buckets?: number;
  /**
   * An input file that holds no rows (a CSV with only its header, a Parquet file of 0 rows):
   * `warn` (default) lists it in `emptyFiles` and goes on; `error` stops, naming it, and
   * writes nothing (the CLI's `--strict`). When no input holds any row, ingest always stops.
   */
  emptyFiles?: 'warn' | 'error';
  /** Replace a non-empty `out`. */
  overwrite?: boolean;
  /** DuckDB threads (default: DuckDB's, all cores). */
  threads?: number;
  /** DuckDB memory limit, e.g. `4GB` (default: DuckDB's). */
  memoryLimit?: string;
  /**
   * Add the rows to the existing dataset `out` instead of creating it: new symbols, and bars
   * strictly after a symbol's last bar (others are bad rows: `not_after_last`, `duplicate`),
   * written as new part files; existing files are never rewritten (see `ingest-append.ts`).
   */
  append?: boolean;
  /**
   * Files without a symbol column: `true` takes the symbol from the base name without its
   * extensions (`AAPL.csv` -> `AAPL`); a string is a regular expression whose named group
   * `symbol` gives it (`(?<symbol>[A-Z.]+)_1d\.csv`). A name that does not match is an error.
   */
  symbolFromFilename?: boolean | string;
  /** strftime format of text timestamps (DuckDB `strptime`), e.g. `%m/%d/%Y`. */
  tsFormat?: string;
  /** Timestamps are epoch integers in this unit. */
  tsUnit?: TsUnit;
  /** Zone of naive local times (IANA name, e.g. `America/New_York`); they are converted to UTC. */
  tz?: string;
  /** Only a close column: open = high = low = close (recorded in metadata.json as `closeOnly`). */
  closeOnly?: boolean;
  /** CSV field delimiter (`,` `;` tab `|`); default: `\t` for .tsv, else sniffed. */
  delimiter?: string;
  /** CSV numbers written `1234,5`; default: sniffed from the close column. */
  decimalComma?: boolean;
  /**
   * Inputs in order of precedence (each one of `input`, as given or as the same path; inputs
   * not listed come after, in their order; `true`: the order of `input`): a `(symbol, ts)` in
   * several inputs is taken from the first, the others are `superseded` (counted apart from
   * `rejected`; quarantined with that reason and their source file under `onBadRows: 'quarantine'`).
   */
  prefer?: boolean | string[];
}

export interface IngestCounts {
  /** Rows read from the sources; always `written + rejected + superseded`. */
  read: number;
  written: number;
  /** Bad rows (every reason but `superseded`). */
  rejected: number;
  byReason: Partial<Record<RejectReason, number>>;
  /** Rows left for the same `(symbol, ts)` of a preferred input (`prefer`); 0 without it. */
  superseded: number;
}

export interface IngestMetadata extends DatasetMetadata {
  /** 0 for a fresh ingest, + 1 per append (absent in older datasets: 0). */
  generation?: number;
  counts: IngestCounts;
  /** The quarantine file, when rows were quarantined. */
  rejected: FileEntry | null;
  /** False when a source had no volume column: the dataset's volume is NULL there. */
  volume: boolean;
  /** True under `closeOnly`: open, high and low are copies of close. */
  closeOnly: boolean;
}

export interface IngestResult extends IngestCounts {
  out: string;
  /** Source files read. */
  files: string[];
  /** Files in input folders not read: not matching `format`, or (without it) neither CSV nor Parquet. */
  skippedFiles: string[];
  /** Source files read that held no rows (see {@link IngestOptions.emptyFiles}). */
  emptyFiles: string[];
  format: IngestFormat;
  symbols: number;
  buckets: number;
  /** `out/_rejected/part-0.parquet` when rows were quarantined, else null. */
  rejectedPath: string | null;
  metadata: IngestMetadata;
  /** With `append`: the dataset's new generation and how many symbols it gained. */
  generation?: number;
  symbolsAdded?: number;
}

