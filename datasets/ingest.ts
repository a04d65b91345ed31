/**
 * `barstream ingest`: CSV or any Parquet into the canonical layout
 * (`DIR/bucket=<k>/part-0.parquet`, see `layout.ts`). An in-memory DuckDB does the work in
 * SQL (`sql/ingest_*.sql`): each source file is loaded with its row numbers, every row is
 * checked, the good ones are bucketed and written sorted by `(symbol, ts)`, the bad ones
 * follow the bad-row policy. Nothing is written unless the whole run succeeds.
 */
import { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve, sep } from 'node:path';
import { BarstreamError, invalidParam } from '../engine/errors.js';
import { literal, sqlFile } from '../engine/sql.js';
import { DatasetMetadata } from './generate.js';
import { checkOutput, chooseBuckets, describeFiles, FileEntry, publish, stagingDir, writeJson } from './layout.js';

export const CANONICAL_COLUMNS = ['symbol', 'ts', 'open', 'high', 'low', 'close', 'volume'] as const;
export type CanonicalColumn = (typeof CANONICAL_COLUMNS)[number];
export type IngestFormat = 'csv' | 'parquet';
export type BadRowPolicy = 'error' | 'skip' | 'quarantine';

/** Why a row was rejected; a row gets the first reason that applies, in this order. */
export const REJECT_REASONS = {
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
  duplicate: 'duplicate (symbol, ts): an earlier row has it',
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
  /** Replace a non-empty `out`. */
  overwrite?: boolean;
  /** DuckDB threads (default: DuckDB's, all cores). */
  threads?: number;
  /** DuckDB memory limit, e.g. `4GB` (default: DuckDB's). */
  memoryLimit?: string;
}

export interface IngestCounts {
  /** Rows read from the sources; always `written + rejected`. */
  read: number;
  written: number;
  rejected: number;
  byReason: Partial<Record<RejectReason, number>>;
}

export interface IngestMetadata extends DatasetMetadata {
  counts: IngestCounts;
  /** The quarantine file, when rows were quarantined. */
  rejected: FileEntry | null;
}

export interface IngestResult extends IngestCounts {
  out: string;
  /** Source files read. */
  files: string[];
  format: IngestFormat;
  symbols: number;
  buckets: number;
  /** `out/_rejected/part-0.parquet` when rows were quarantined, else null. */
  rejectedPath: string | null;
  metadata: IngestMetadata;
}

const EXTENSIONS: Record<IngestFormat, RegExp> = {
  csv: /\.(csv|tsv)(\.(gz|zst))?$/i,
  parquet: /\.(parquet|pq|parq)$/i,
};

/** Parses `symbol=Ticker,ts=Date` into a mapping; keys must be canonical column names. */
export function parseMapping(spec: string | Partial<Record<CanonicalColumn, string>> | undefined): Partial<Record<CanonicalColumn, string>> {
  const pairs: [string, string][] =
    typeof spec === 'string'
      ? spec.split(',').filter((p) => p.trim() !== '').map((p) => {
          const i = p.indexOf('=');
          if (i < 0) throw invalidParam(`--map entry '${p}' is not canonical=Source`);
          return [p.slice(0, i).trim(), p.slice(i + 1).trim()];
        })
      : Object.entries(spec ?? {}).map(([k, v]) => [k, String(v)]);
  const out: Partial<Record<CanonicalColumn, string>> = {};
  for (const [k, v] of pairs) {
    if (!(CANONICAL_COLUMNS as readonly string[]).includes(k)) {
      throw invalidParam(`--map key '${k}' is not one of ${CANONICAL_COLUMNS.join(', ')}`);
    }
    if (v === '') throw invalidParam(`--map ${k}= names no source column`);
    if (out[k as CanonicalColumn] !== undefined) throw invalidParam(`--map gives ${k} twice`);
    out[k as CanonicalColumn] = v;
  }
  return out;
}

function formatOf(file: string): IngestFormat | undefined {
  return (Object.keys(EXTENSIONS) as IngestFormat[]).find((f) => EXTENSIONS[f].test(file));
}

/** Files under `dir` with a known extension (or `format`'s), skipping `.hidden` and `_private` entries. */
async function listFolder(dir: string, format: IngestFormat | undefined): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name))
    .filter((p) => !p.slice(dir.length + 1).split(sep).some((s) => s.startsWith('.') || s.startsWith('_')))
    .filter((p) => (format ? EXTENSIONS[format].test(p) : formatOf(p) !== undefined))
    .sort();
}

async function resolveInputs(db: Db, inputs: string[], format: IngestFormat | undefined, out: string): Promise<string[]> {
  const files: string[] = [];
  for (const input of inputs) {
    let found: string[];
    if (/[*?[]/.test(input)) {
      found = (await db.rows(`SELECT file FROM glob(${literal(input)}) ORDER BY file`)).map((r) => resolve(String(r.file)));
      if (found.length === 0) throw new BarstreamError('BARSTREAM_IO', `--in ${input} matches no files`);
    } else if (!existsSync(input)) {
      throw new BarstreamError('BARSTREAM_IO', `input ${input} does not exist`);
    } else if ((await stat(input)).isDirectory()) {
      // A rerun into a folder under the input must not read its own output.
      found = (await listFolder(resolve(input), format)).filter((f) => !f.startsWith(resolve(out) + sep));
      if (found.length === 0) throw new BarstreamError('BARSTREAM_IO', `input folder ${input} holds no ${format ?? 'csv or parquet'} files`);
    } else {
      found = [resolve(input)];
    }
    for (const f of found) if (!files.includes(f)) files.push(f);
  }
  return files;
}

function detectFormat(files: string[]): IngestFormat {
  const first = files[0];
  const format = formatOf(first);
  if (!format) throw invalidParam(`cannot tell the format of ${first} from its extension; pass --format csv|parquet`);
  const other = files.find((f) => formatOf(f) !== format);
  if (other) throw invalidParam(`inputs mix formats (${first} and ${other}); pass --format or ingest them separately`);
  return format;
}

/** A thin wrapper over a `@duckdb/node-api` connection. */
class Db {
  constructor(readonly conn: DuckDBConnection) {}

  async rows(sql: string): Promise<Record<string, unknown>[]> {
    try {
      return (await this.conn.runAndReadAll(sql)).getRowObjectsJS() as Record<string, unknown>[];
    } catch (e) {
      throw new BarstreamError('BARSTREAM_DUCKDB', firstLine(e), { cause: e });
    }
  }

  /** Runs a statement that returns a count (INSERT, COPY, CREATE TABLE AS). */
  async count(sql: string): Promise<number> {
    const rows = await this.rows(sql);
    return Number(Object.values(rows[0] ?? { n: 0 })[0]);
  }
}

const ident = (name: string) => `"${name.replaceAll('"', '""')}"`;

function firstLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split('\n')[0];
}

/** Picks the source column for each canonical name: exact, else the one matching case-insensitively. */
function resolveColumns(file: string, columns: string[], mapping: Partial<Record<CanonicalColumn, string>>): Record<CanonicalColumn, string> {
  const out = {} as Record<CanonicalColumn, string>;
  for (const c of CANONICAL_COLUMNS) {
    const want = mapping[c] ?? c;
    const ci = columns.filter((s) => s.toLowerCase() === want.toLowerCase());
    const hit = columns.includes(want) ? want : ci.length === 1 ? ci[0] : undefined;
    if (hit === undefined) {
      const why = ci.length > 1 ? `matches several columns (${ci.join(', ')})` : 'is missing';
      throw new BarstreamError(
        'BARSTREAM_BAD_INPUT',
        `${file}: column '${want}' (for ${c}${mapping[c] ? ', from --map' : ''}) ${why}; its columns are: ${columns.join(', ')}`,
      );
    }
    out[c] = hit;
  }
  return out;
}

/** One input file, its columns and the ones mapped to the canonical names. */
interface Source {
  index: number;
  path: string;
  format: IngestFormat;
  types: Map<string, string>;
  col: Record<CanonicalColumn, string>;
}

const HIVE = 'hive_partitioning = true, hive_types_autocast = false';

/**
 * Opens `file` as the view `ingest_src` with `ingest_row`, the 1-based data row; returns
 * its column types. Any DuckDB failure reading it is reported as this file's fault.
 */
async function openSource(db: Db, file: string, format: IngestFormat): Promise<Map<string, string>> {
  await closeSource(db);
  try {
    if (format === 'csv') {
      // Strict: a fixed delimiter and skip = 0, so the sniffer cannot skip or merge malformed lines.
      const delim = /\.tsv(\.\w+)?$/i.test(file) ? '\t' : ',';
      await db.rows(
        `CREATE TEMP TABLE ingest_src_text AS SELECT * FROM read_csv(${literal(file)}, header = true, ` +
          `all_varchar = true, skip = 0, strict_mode = true, null_padding = false, delim = ${literal(delim)}, ` +
          `quote = '"', escape = '"', ${HIVE})`,
      );
      // CREATE TABLE AS keeps insertion order, so rowid is the data row's position in the file.
      await db.rows('CREATE TEMP VIEW ingest_src AS SELECT *, rowid + 1 AS ingest_row FROM ingest_src_text');
    } else {
      await db.rows(
        `CREATE TEMP VIEW ingest_src AS SELECT * EXCLUDE (file_row_number), file_row_number + 1 AS ingest_row ` +
          `FROM read_parquet(${literal(file)}, ${HIVE}, file_row_number = true)`,
      );
    }
    const described = await db.rows('DESCRIBE SELECT * EXCLUDE (ingest_row) FROM ingest_src');
    return new Map(described.map((r) => [String(r.column_name), String(r.column_type)]));
  } catch (e) {
    throw readError(file, format, e);
  }
}

async function closeSource(db: Db): Promise<void> {
  await db.rows('DROP VIEW IF EXISTS ingest_src; DROP TABLE IF EXISTS ingest_src_text');
}

function readError(file: string, format: IngestFormat, e: unknown): BarstreamError {
  return new BarstreamError('BARSTREAM_BAD_INPUT', `cannot read ${file} as ${format}: ${firstLine(e)}`, { cause: e });
}

/** True where a source value is NULL or, for text, blank. */
function blank(src: Source, c: CanonicalColumn): string {
  const q = ident(src.col[c]);
  return src.types.get(src.col[c]) === 'VARCHAR' ? `coalesce(trim(${q}), '') = ''` : `${q} IS NULL`;
}

/** Loads one source file into `ingest_rows`; returns its row count. */
async function loadFile(db: Db, index: number, path: string, format: IngestFormat, mapping: Partial<Record<CanonicalColumn, string>>): Promise<Source & { rows: number }> {
  const types = await openSource(db, path, format);
  const src: Source = { index, path, format, types, col: resolveColumns(path, [...types.keys()], mapping) };
  const ts = ident(src.col.ts);
  const values: Record<string, string> = {
    file: String(index),
    ts_blank: blank(src, 'ts'),
    // Text goes through TIMESTAMPTZ so a UTC offset is applied (the session is in UTC).
    ts_parsed: types.get(src.col.ts) === 'VARCHAR' ? `TRY_CAST(TRY_CAST(${ts} AS TIMESTAMPTZ) AS TIMESTAMP)` : `TRY_CAST(${ts} AS TIMESTAMP)`,
    price_blank: (['open', 'high', 'low', 'close'] as const).map((c) => blank(src, c)).join(' OR '),
    volume_blank: blank(src, 'volume'),
  };
  for (const c of CANONICAL_COLUMNS) values[c] = ident(src.col[c]);
  const rows = await db.count(sqlFile('ingest_load', values)).catch((e: unknown) => {
    throw readError(path, format, e);
  });
  await closeSource(db);
  return { ...src, rows };
}

/**
 * Copies the rejected rows of `src` into `ingest_rejected` with their source text, reading
 * the file again (only files with rejected rows are read twice).
 */
async function gatherRejected(db: Db, src: Source, expected: number): Promise<void> {
  const types = await openSource(db, src.path, src.format);
  const names = [...types.keys()];
  const values: Record<string, string> = {
    file: String(src.index),
    path: literal(src.path),
    source: `map([${names.map(literal).join(', ')}], [${names.map((n) => `CAST(s.${ident(n)} AS VARCHAR)`).join(', ')}])`,
  };
  for (const c of CANONICAL_COLUMNS) values[c] = `s.${ident(src.col[c])}`;
  const n = await db.count(sqlFile('ingest_rejected', values)).catch((e: unknown) => {
    throw readError(src.path, src.format, e);
  });
  await closeSource(db);
  if (n !== expected) throw new BarstreamError('BARSTREAM_BAD_INPUT', `${src.path} changed while it was being ingested`);
}

function checkOptions(opts: IngestOptions): { inputs: string[]; policy: BadRowPolicy } {
  if (!opts || typeof opts.out !== 'string' || opts.out === '') throw invalidParam('out must be a folder path');
  const inputs = typeof opts.input === 'string' ? [opts.input] : opts.input;
  if (!Array.isArray(inputs) || inputs.length === 0 || inputs.some((i) => typeof i !== 'string' || i === '')) {
    throw invalidParam('input must be one or more file paths, globs or folders');
  }
  if (opts.format !== undefined && !(opts.format in EXTENSIONS)) throw invalidParam(`format must be csv or parquet, got '${opts.format}'`);
  const policy = opts.onBadRows ?? 'quarantine';
  if (!['error', 'skip', 'quarantine'].includes(policy)) throw invalidParam(`onBadRows must be error, skip or quarantine, got '${policy}'`);
  for (const [name, v] of [['buckets', opts.buckets], ['threads', opts.threads]] as const) {
    if (v !== undefined && (!Number.isInteger(v) || v < 1 || v > 2 ** 31 - 1)) throw invalidParam(`${name} must be a positive integer, got ${v}`);
  }
  return { inputs, policy };
}

/**
 * Converts CSV or Parquet files into a canonical dataset at `out` and returns the counts
 * (also saved in `out/metadata.json`). Bad rows (see {@link REJECT_REASONS}) are rejected
 * per `onBadRows`; a missing column, an unreadable file or an input matching nothing throws
 * a `BarstreamError` naming it, and then nothing is written. Symbols are trimmed of
 * surrounding spaces and kept as text (hive `symbol=0700` folders too); timestamps with a
 * UTC offset are converted to UTC.
 * @example
 * const r = await ingest({ input: 'raw/*.csv', out: 'datasets/eod', map: 'symbol=Ticker,ts=Date,close=Adj_Close' });
 * console.log(`${r.read} read = ${r.written} written + ${r.rejected} rejected`, r.byReason);
 */
export async function ingest(opts: IngestOptions): Promise<IngestResult> {
  const { inputs, policy } = checkOptions(opts);
  const mapping = parseMapping(opts.map);
  const overwrite = opts.overwrite ?? false;
  await checkOutput(opts.out, overwrite);

  const spill = await mkdtemp(join(tmpdir(), 'barstream-ingest-'));
  const config: Record<string, string> = { temp_directory: spill };
  if (opts.threads !== undefined) config.threads = String(opts.threads);
  if (opts.memoryLimit !== undefined) config.memory_limit = opts.memoryLimit;
  let instance: DuckDBInstance | undefined;
  let conn: DuckDBConnection | undefined;
  let staging: string | undefined;
  try {
    instance = await DuckDBInstance.create(':memory:', config);
    conn = await instance.connect();
    const db = new Db(conn);
    await db.rows(`SET TimeZone = 'UTC'`); // TIMESTAMPTZ sources and offsets in text become UTC
    const files = await resolveInputs(db, inputs, opts.format, opts.out);
    const format = opts.format ?? detectFormat(files);

    await db.rows(sqlFile('ingest_rows', {}));
    const sources: (Source & { rows: number })[] = [];
    for (const [i, f] of files.entries()) sources.push(await loadFile(db, i, f, format, mapping));
    const perFile = sources.map((s) => ({ path: s.path, rows: s.rows }));
    await db.rows(sqlFile('ingest_check', {}));

    const read = perFile.reduce((s, f) => s + f.rows, 0);
    const byReason: Partial<Record<RejectReason, number>> = {};
    for (const r of await db.rows('SELECT reason, count(*) AS n FROM ingest_checked WHERE reason IS NOT NULL GROUP BY reason ORDER BY reason')) {
      byReason[r.reason as RejectReason] = Number(r.n);
    }
    const rejectedRows = Object.values(byReason).reduce((s, n) => s + n, 0);
    if (policy === 'error' && rejectedRows > 0) throw await firstBadRow(db, sources);

    const [{ n: validRows, symbols: symbolCount }] = await db.rows(
      'SELECT count(*) AS n, count(DISTINCT symbol) AS symbols FROM ingest_checked WHERE reason IS NULL',
    );
    const symbols = Number(symbolCount);
    const buckets = opts.buckets ?? chooseBuckets(Number(validRows), symbols);
    await db.rows(sqlFile('ingest_valid', { buckets: String(buckets) }));

    staging = await stagingDir(opts.out);
    const written = await writeBuckets(db, staging);
    let rejected = rejectedRows;
    let rejectedFile: string | null = null;
    if (policy === 'quarantine' && rejectedRows > 0) {
      await mkdir(join(staging, '_rejected'));
      rejectedFile = join(staging, '_rejected', 'part-0.parquet');
      rejected = await writeRejected(db, sources, rejectedFile);
    }
    const writtenRows = written.reduce((s, f) => s + f.rows, 0);
    if (read !== writtenRows + rejected || rejected !== rejectedRows) {
      throw new BarstreamError('BARSTREAM_INTERNAL', `ingest lost rows: read ${read}, wrote ${writtenRows}, rejected ${rejected} (${rejectedRows} counted)`);
    }

    const counts: IngestCounts = { read, written: writtenRows, rejected, byReason };
    const metadata: IngestMetadata = {
      format: 'barstream-dataset/1',
      source: { tool: 'barstream ingest', input: inputs, files: perFile, format, mapping, onBadRows: policy },
      symbols,
      rows: writtenRows,
      buckets,
      bucketRule: 'hash(symbol) % buckets',
      files: await describeFiles(staging, written),
      createdAt: new Date().toISOString(),
      counts,
      rejected: rejectedFile ? (await describeFiles(staging, [{ path: rejectedFile, rows: rejected }]))[0] : null,
    };
    await writeJson(join(staging, 'metadata.json'), metadata);
    await publish(staging, resolve(opts.out), overwrite);
    staging = undefined;
    const out = resolve(opts.out);
    return {
      ...counts,
      out,
      files,
      format,
      symbols,
      buckets,
      rejectedPath: rejectedFile ? join(out, '_rejected', 'part-0.parquet') : null,
      metadata,
    };
  } finally {
    conn?.closeSync();
    instance?.closeSync();
    if (staging) await rm(staging, { recursive: true, force: true });
    await rm(spill, { recursive: true, force: true });
  }
}

/** Writes `staging/bucket=<k>/part-0.parquet` for each non-empty bucket of `ingest_valid`. */
async function writeBuckets(db: Db, staging: string): Promise<{ path: string; rows: number }[]> {
  const written: { path: string; rows: number }[] = [];
  for (const { bucket } of await db.rows('SELECT DISTINCT bucket FROM ingest_valid ORDER BY bucket')) {
    await mkdir(join(staging, `bucket=${bucket}`));
    const path = join(staging, `bucket=${bucket}`, 'part-0.parquet');
    const rows = await db.count(
      `COPY (SELECT symbol, ts, open, high, low, close, volume FROM ingest_valid WHERE bucket = ${bucket} ` +
        `ORDER BY symbol, ts) TO ${literal(path)} (FORMAT parquet, COMPRESSION zstd)`,
    );
    written.push({ path, rows });
  }
  return written;
}

/** Rejected rows per source file index. */
async function rejectsByFile(db: Db): Promise<Map<number, number>> {
  const rows = await db.rows('SELECT file, count(*) AS n FROM ingest_checked WHERE reason IS NOT NULL GROUP BY file');
  return new Map(rows.map((r) => [Number(r.file), Number(r.n)]));
}

/** Writes every rejected row, in source order, to `path`; returns how many. */
async function writeRejected(db: Db, sources: Source[], path: string): Promise<number> {
  for (const [file, n] of await rejectsByFile(db)) await gatherRejected(db, sources[file], n);
  return db.count(
    'COPY (SELECT reason, source_file, row, symbol, ts, open, high, low, close, volume, source FROM ingest_rejected ' +
      `ORDER BY file, row) TO ${literal(path)} (FORMAT parquet, COMPRESSION zstd)`,
  );
}

/** The error for `onBadRows: 'error'`: the first bad row in source order, with its source text. */
async function firstBadRow(db: Db, sources: Source[]): Promise<BarstreamError> {
  const [first, n] = [...(await rejectsByFile(db))].sort((a, b) => a[0] - b[0])[0];
  await gatherRejected(db, sources[first], n);
  const [r] = await db.rows('SELECT * FROM ingest_rejected ORDER BY file, row LIMIT 1');
  const values = CANONICAL_COLUMNS.map((c) => `${c}=${r[c] ?? 'NULL'}`).join(', ');
  const reason = r.reason as RejectReason;
  return new BarstreamError('BARSTREAM_BAD_INPUT', `bad row in ${r.source_file} row ${r.row}: ${reason} (${REJECT_REASONS[reason]}; ${values})`);
}
