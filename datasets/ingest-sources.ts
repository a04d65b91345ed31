/** `barstream ingest`: finding the input files, reading each into DuckDB with its row numbers, naming columns. */
import { DuckDBConnection } from '@duckdb/node-api';
import { existsSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import { BarstreamError, invalidParam } from '../engine/errors.js';
import { literal, sqlFile } from '../engine/sql.js';
import { globRoot, isPrivateBelow } from './dataset-info.js';
import { CanonicalColumn, CANONICAL_COLUMNS, IngestFormat } from './ingest-types.js';
import { CLOSE_CSV_SQL, openCsv } from './ingest-csv.js';
import { DECIMAL_COMMA_SQL, numberExpression, symbolFromFilename, tsExpression, TsOptions } from './ingest-formats.js';

export { DELIMITERS } from './ingest-csv.js';

export const EXTENSIONS: Record<IngestFormat, RegExp> = {
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

export function formatOf(file: string): IngestFormat | undefined {
  return (Object.keys(EXTENSIONS) as IngestFormat[]).find((f) => EXTENSIONS[f].test(file));
}

/** What a folder or glob input gave: the files to read and the visible files left out. */
export interface FoundInputs {
  files: string[];
  /** For each file, the index of the input that named it first. */
  inputOf: number[];
  /** Files in input folders that match neither `--format` nor (without it) CSV or Parquet. */
  skipped: string[];
}

/**
 * Files under `dir` with a known extension (or `format`'s), and the others (`skipped`),
 * leaving out `.hidden` and `_private` entries (the Hive/Spark rule) and anything under `out`.
 */
export async function listFolder(dir: string, format: IngestFormat | undefined, out?: string): Promise<FoundInputs> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  const visible = entries
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name))
    .filter((p) => !isPrivateBelow(dir, p) && !(out !== undefined && p.startsWith(out + sep)))
    .sort();
  const wanted = (p: string) => (format ? EXTENSIONS[format].test(p) : formatOf(p) !== undefined);
  const files = visible.filter(wanted);
  return { files, inputOf: files.map(() => 0), skipped: visible.filter((p) => !wanted(p)) };
}

/**
 * The files the inputs name, each once, in input order. Folders give every CSV/Parquet file
 * under them (or `format`'s) and report the rest as skipped; globs skip `_`/`.` entries below
 * the pattern's fixed part (so `DS/**\/*.parquet` never takes `DS/_rejected/`).
 */
export async function resolveInputs(db: Db, inputs: string[], format: IngestFormat | undefined, out: string): Promise<FoundInputs> {
  const files: string[] = [];
  const inputOf: number[] = [];
  const skipped: string[] = [];
  for (const [k, input] of inputs.entries()) {
    let found: string[];
    if (/[*?[]/.test(input)) {
      const all = (await db.rows(`SELECT file FROM glob(${literal(input)}) ORDER BY file`)).map((r) => resolve(String(r.file)));
      found = all.filter((f) => !isPrivateBelow(globRoot(input), f));
      if (found.length === 0) {
        const note = all.length > 0 ? ` (${all.length} file(s) under names starting with _ or . are not read)` : '';
        throw new BarstreamError('BARSTREAM_IO', `--in ${input} matches no files${note}`);
      }
    } else if (!existsSync(input)) {
      throw new BarstreamError('BARSTREAM_IO', `input ${input} does not exist`);
    } else if ((await stat(input)).isDirectory()) {
      // A rerun into a folder under the input must not read its own output.
      const listed = await listFolder(resolve(input), format, resolve(out));
      found = listed.files;
      for (const f of listed.skipped) if (!skipped.includes(f)) skipped.push(f);
      if (found.length === 0) {
        const others = listed.skipped.length > 0 ? ` (it holds ${listed.skipped.length} other file(s): ${nameList(listed.skipped)})` : '';
        throw new BarstreamError('BARSTREAM_IO', `input folder ${input} holds no ${format ?? 'csv or parquet'} files${others}`);
      }
    } else {
      found = [resolve(input)];
    }
    for (const f of found) {
      if (files.includes(f)) continue;
      files.push(f);
      inputOf.push(k);
    }
  }
  return { files, inputOf, skipped: skipped.filter((f) => !files.includes(f)) };
}

/** Up to `max` file names, then `and N more`. */
export function nameList(files: string[], max = 5): string {
  const shown = files.slice(0, max).join(', ');
  return files.length > max ? `${shown} and ${files.length - max} more` : shown;
}

export function detectFormat(files: string[]): IngestFormat {
  const first = files[0];
  const format = formatOf(first);
  if (!format) throw invalidParam(`cannot tell the format of ${first} from its extension; pass --format csv|parquet`);
  const other = files.find((f) => formatOf(f) !== format);
  if (other) throw invalidParam(`inputs mix formats (${first} and ${other}); pass --format or ingest them separately`);
  return format;
}

/** A thin wrapper over a `@duckdb/node-api` connection. */
export class Db {
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

export const ident = (name: string) => `"${name.replaceAll('"', '""')}"`;

export function firstLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split('\n')[0];
}

/**
 * Picks the source column for each canonical name: exact, else the one matching
 * case-insensitively. `optional` names may be absent (then they are left out).
 */
export function resolveColumns(
  file: string,
  columns: string[],
  mapping: Partial<Record<CanonicalColumn, string>>,
  optional: readonly CanonicalColumn[] = [],
): Partial<Record<CanonicalColumn, string>> {
  const out: Partial<Record<CanonicalColumn, string>> = {};
  for (const c of CANONICAL_COLUMNS) {
    const want = mapping[c] ?? c;
    const ci = columns.filter((s) => s.toLowerCase() === want.toLowerCase());
    const hit = columns.includes(want) ? want : ci.length === 1 ? ci[0] : undefined;
    if (hit === undefined) {
      if (ci.length === 0 && mapping[c] === undefined && optional.includes(c)) continue;
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

/** How source files are read: the column mapping and the options of `ingest-formats.ts`. */
export interface ReadOptions extends TsOptions {
  mapping: Partial<Record<CanonicalColumn, string>>;
  symbolFromFilename?: true | string;
  closeOnly?: boolean;
  delimiter?: string;
  decimalComma?: boolean;
}

/** Canonical columns a source may lack under `read`. */
function optionalColumns(read: ReadOptions): CanonicalColumn[] {
  const out: CanonicalColumn[] = ['volume'];
  if (read.symbolFromFilename !== undefined) out.push('symbol');
  if (read.closeOnly) out.push('open', 'high', 'low');
  return out;
}

/** One input file, its columns and the ones mapped to the canonical names. */
export interface Source {
  index: number;
  path: string;
  format: IngestFormat;
  types: Map<string, string>;
  /** Source column per canonical name; absent ones (volume, or under read options) are missing. */
  col: Partial<Record<CanonicalColumn, string>>;
  /** SQL for each canonical value as source text (a literal symbol from the file name, close for open/high/low under closeOnly). */
  text: Record<CanonicalColumn, string>;
  decimalComma: boolean;
  /** The CSV delimiter asked for (else the same one is sniffed again on a second read). */
  delimiter?: string;
}

export const HIVE = 'hive_partitioning = true, hive_types_autocast = false';

/**
 * Opens `file` as the view `ingest_src` with `ingest_row`, the 1-based data row; returns
 * its column types. Any DuckDB failure reading it is reported as this file's fault.
 */
export async function openSource(db: Db, file: string, format: IngestFormat, delimiter?: string): Promise<Map<string, string>> {
  await closeSource(db);
  try {
    if (format === 'csv') {
      await openCsv(db, file, delimiter);
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

export async function closeSource(db: Db): Promise<void> {
  await db.rows(`DROP VIEW IF EXISTS ingest_src; ${CLOSE_CSV_SQL}`);
}

export function readError(file: string, format: IngestFormat, e: unknown): BarstreamError {
  return new BarstreamError('BARSTREAM_BAD_INPUT', `cannot read ${file} as ${format}: ${firstLine(e)}`, { cause: e });
}

/** True where a source value is NULL or, for text, blank. */
export function blank(src: Source, c: CanonicalColumn): string {
  const name = src.col[c];
  if (name === undefined) return 'false';
  const q = ident(name);
  return src.types.get(name) === 'VARCHAR' ? `coalesce(trim(${q}), '') = ''` : `${q} IS NULL`;
}

/** Bytes of an uncompressed text file read to tell whether it holds only blank lines. */
const BLANK_PROBE_BYTES = 4096;

/**
 * Throws `BARSTREAM_BAD_INPUT` naming `path` when it is empty (0 bytes, or an uncompressed
 * CSV of blank lines only): it has no header to check, so it cannot be taken for bars.
 */
export async function refuseEmpty(path: string, format: IngestFormat): Promise<void> {
  const { size } = await stat(path);
  let empty = size === 0;
  if (!empty && format === 'csv' && size <= BLANK_PROBE_BYTES && /\.(csv|tsv)$/i.test(path)) empty = (await readFile(path, 'utf8')).trim() === '';
  if (!empty) return;
  const what = size === 0 ? '0 bytes' : 'blank lines only';
  throw new BarstreamError('BARSTREAM_BAD_INPUT', `${path} is empty (${what}): ${format === 'csv' ? 'no header, no rows' : 'not a Parquet file'}`);
}

/** The warning for an input file that holds no rows (a CSV with only its header, a Parquet file of 0 rows). */
export function emptyFileNote(path: string, format: IngestFormat): string {
  return format === 'csv' ? `${path} has a header and no rows` : `${path} holds no rows`;
}

/** Loads one source file into `ingest_rows`; returns its row count. */
export async function loadFile(db: Db, index: number, path: string, format: IngestFormat, read: ReadOptions): Promise<Source & { rows: number }> {
  await refuseEmpty(path, format);
  const types = await openSource(db, path, format, read.delimiter);
  const col = resolveColumns(path, [...types.keys()], read.mapping, optionalColumns(read));
  const symbol = read.symbolFromFilename !== undefined && col.symbol === undefined ? literal(symbolFromFilename(path, read.symbolFromFilename)) : undefined;
  const text = {} as Record<CanonicalColumn, string>;
  for (const c of CANONICAL_COLUMNS) text[c] = col[c] !== undefined ? ident(col[c]) : 'NULL';
  if (symbol !== undefined) text.symbol = symbol;
  if (read.closeOnly) for (const c of ['open', 'high', 'low'] as const) text[c] = text.close;
  let decimalComma = read.decimalComma ?? false;
  if (read.decimalComma === undefined && format === 'csv') {
    const [r] = await db.rows(DECIMAL_COMMA_SQL(text.close)).catch((e: unknown) => {
      throw readError(path, format, e);
    });
    decimalComma = Number(r.comma) > 0 && Number(r.dot) === 0;
  }
  const src: Source = { index, path, format, types, col, text, decimalComma, delimiter: read.delimiter };
  const typeOf = (c: CanonicalColumn) => types.get(src.col[c === 'open' || c === 'high' || c === 'low' ? (read.closeOnly ? 'close' : c) : c] ?? '') ?? 'VARCHAR';
  const num = (c: CanonicalColumn) => numberExpression(text[c], typeOf(c), decimalComma);
  const values: Record<string, string> = {
    file: String(index),
    symbol: text.symbol,
    ts_blank: blank(src, 'ts'),
    ts_parsed: tsExpression(text.ts, typeOf('ts'), read),
    price_blank: (['open', 'high', 'low', 'close'] as const).map((c) => blank(src, read.closeOnly ? 'close' : c)).join(' OR '),
    open: num('open'),
    high: num('high'),
    low: num('low'),
    close: num('close'),
    // NULL when the source has no volume column: then volume is not checked.
    volume_blank: src.col.volume === undefined ? 'NULL' : blank(src, 'volume'),
    volume: src.col.volume === undefined ? 'CAST(NULL AS DOUBLE)' : num('volume'),
  };
  let rows = await db.count(sqlFile('ingest_load', values)).catch((e: unknown) => {
    throw readError(path, format, e);
  });
  if (format === 'csv') rows += await loadMalformed(db, index);
  await closeSource(db);
  return { ...src, rows };
}

/** Adds the malformed lines of the CSV open as `ingest_src` as rows of file `index`; returns how many. */
async function loadMalformed(db: Db, index: number): Promise<number> {
  await db.rows(`INSERT INTO ingest_malformed SELECT ${index}, row, line, error, text FROM ingest_src_bad`);
  return db.count(`INSERT INTO ingest_rows (file, row, malformed) SELECT ${index}, row, true FROM ingest_src_bad`);
}

/**
 * Copies the rejected rows of `src` into `ingest_rejected` with their source text, reading
 * the file again (only files with rejected rows are read twice).
 */
export async function gatherRejected(db: Db, src: Source, expected: number): Promise<void> {
  const types = await openSource(db, src.path, src.format, src.delimiter);
  const names = [...types.keys()];
  const values: Record<string, string> = {
    file: String(src.index),
    path: literal(src.path),
    source: `map([${names.map(literal).join(', ')}], [${names.map((n) => `CAST(s.${ident(n)} AS VARCHAR)`).join(', ')}])`,
  };
  // text[c] is a quoted column (qualified here: ingest_checked has the same names), a literal or NULL.
  for (const c of CANONICAL_COLUMNS) values[c] = src.text[c].startsWith('"') ? `s.${src.text[c]}` : src.text[c];
  let n = await db.count(sqlFile('ingest_rejected', values)).catch((e: unknown) => {
    throw readError(src.path, src.format, e);
  });
  // A malformed line has no columns: its line number, DuckDB's error and its text instead.
  n += await db.count(
    `INSERT INTO ingest_rejected SELECT c.file, c.row, c.reason, ${values.path}, NULL, NULL, NULL, NULL, NULL, NULL, NULL, ` +
      `map(['line', 'error', 'text'], [CAST(m.line AS VARCHAR), m.error, m.text]) ` +
      `FROM ingest_checked c JOIN ingest_malformed m USING (file, row) WHERE c.file = ${src.index} AND c.reason = 'malformed_line'`,
  );
  await closeSource(db);
  if (n !== expected) throw new BarstreamError('BARSTREAM_BAD_INPUT', `${src.path} changed while it was being ingested`);
}

