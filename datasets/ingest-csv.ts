/**
 * `barstream ingest`: reading one CSV file strictly, line by line, without failing on a bad
 * line. The delimiter and the column names come from the header line (DuckDB's sniffer is
 * not used: on a file with a malformed line it can pick another delimiter, or fail); the
 * file is then read with those columns, all as text, and DuckDB's `store_rejects` sets aside
 * each line that is not a row of them (ragged, an unterminated quote, invalid UTF-8): these
 * become `malformed_line` bad rows naming their line, and the good rows keep their data-row
 * numbers. A well-formed file costs one extra empty-table check.
 */
import { BarstreamError } from '../engine/errors.js';
import { literal } from '../engine/sql.js';
import type { Db } from './ingest-sources.js';

/** Delimiters the sniffer may pick; anything else (a one-column file) reads as `,`. */
export const DELIMITERS = [',', ';', '\t', '|'];

/** The first line of `file` (decompressed), without a BOM or a trailing CR. */
async function headerLine(db: Db, file: string): Promise<string> {
  // The first line as one field: \x1f (unit separator) does not occur in text files.
  const [r] = await db.rows(
    `SELECT column0 AS line FROM read_csv(${literal(file)}, header = false, all_varchar = true, delim = E'\\x1f', quote = '', ` +
      `columns = {'column0': 'VARCHAR'}) LIMIT 1`,
  );
  return String(r?.line ?? '').replace(/^\uFEFF/, '').replace(/\r$/, '');
}

/**
 * The delimiter of a header line: the one of {@link DELIMITERS} it holds, `,` when it holds
 * none (a one-column file).
 * @throws BarstreamError `BARSTREAM_BAD_INPUT` when it holds several (ambiguous).
 */
function sniffDelimiter(file: string, header: string): string {
  const found = DELIMITERS.filter((d) => header.includes(d));
  if (found.length > 1) {
    const names = found.map((d) => (d === '\t' ? 'tab' : `'${d}'`)).join(', ');
    throw new BarstreamError('BARSTREAM_BAD_INPUT', `${file}: its header holds several possible delimiters (${names}); pass --delimiter`);
  }
  return found[0] ?? ',';
}

/**
 * The column names of a header line split on `delim` (double quotes quote, `""` is a quote);
 * an empty name becomes `column<i>` and a repeated one gets `_1`, `_2`, as DuckDB names them.
 */
export function headerNames(header: string, delim: string): string[] {
  const names: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < header.length; i++) {
    const ch = header[i];
    if (quoted) {
      if (ch === '"' && header[i + 1] === '"') (cur += '"'), i++;
      else if (ch === '"') quoted = false;
      else cur += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === delim) names.push(cur), (cur = '');
    else cur += ch;
  }
  names.push(cur);
  const seen = new Set<string>();
  return names.map((raw, i) => {
    let name = raw.trim() === '' ? `column${i}` : raw;
    for (let k = 1; seen.has(name.toLowerCase()); k++) name = `${raw}_${k}`;
    seen.add(name.toLowerCase());
    return name;
  });
}

/**
 * Opens the CSV `file` as the view `ingest_src` (all columns text, `ingest_row` the 1-based
 * data row) and its malformed lines as the table `ingest_src_bad (row, line, error, text)`.
 * The caller catches DuckDB failures (see `openSource`).
 */
export async function openCsv(db: Db, file: string, delimiter: string | undefined): Promise<void> {
  const header = await headerLine(db, file);
  const delim = delimiter ?? (/\.tsv(\.\w+)?$/i.test(file) ? '\t' : sniffDelimiter(file, header));
  const columns = headerNames(header, delim).map((n) => `${literal(n)}: 'VARCHAR'`).join(', ');
  await db.rows(
    `CREATE TEMP TABLE ingest_src_text AS SELECT * FROM read_csv(${literal(file)}, header = true, auto_detect = false, ` +
      `columns = {${columns}}, skip = 0, strict_mode = true, null_padding = false, delim = ${literal(delim)}, ` +
      `quote = '"', escape = '"', store_rejects = true, rejects_table = 'ingest_csv_rejects', rejects_scan = 'ingest_csv_scans', ` +
      `hive_partitioning = true, hive_types_autocast = false)`,
  );
  // One row per bad line (DuckDB lists a ragged line once per missing column). Its data row
  // is its line less the header's: exact for files of one line per row (blank lines and
  // quoted line breaks shift it; the line itself is kept as `line`).
  await db.rows(
    `CREATE TEMP TABLE ingest_src_bad AS SELECT line - 1 AS row, line, arg_min(error_message, column_idx) AS error, ` +
      `trim(any_value(csv_line), chr(13) || chr(10)) AS text, row_number() OVER (ORDER BY line) AS k FROM ingest_csv_rejects GROUP BY line`,
  );
  const [{ n }] = await db.rows('SELECT count(*) AS n FROM ingest_src_bad');
  if (Number(n) === 0) {
    // CREATE TABLE AS keeps insertion order, so rowid is the data row's position in the file.
    await db.rows('CREATE TEMP VIEW ingest_src AS SELECT *, rowid + 1 AS ingest_row FROM ingest_src_text');
    return;
  }
  // The good rows fill the data rows the bad lines leave: the (i+1)-th good row comes after
  // every bad row j with at most i good rows before it (row_j - k_j of them, nondecreasing in
  // j), so after the k_j of the last such j: an ASOF join, one pass over the good rows.
  await db.rows(
    'CREATE TEMP VIEW ingest_src AS SELECT t.*, t.rowid + 1 + coalesce(b.k, 0) AS ingest_row FROM ingest_src_text t ' +
      'ASOF LEFT JOIN (SELECT row - k AS before, max(k) AS k FROM ingest_src_bad GROUP BY ALL) b ON t.rowid >= b.before',
  );
}

/** Drops what {@link openCsv} made (also for a Parquet source: then nothing). */
export const CLOSE_CSV_SQL =
  'DROP TABLE IF EXISTS ingest_src_text; DROP TABLE IF EXISTS ingest_src_bad; ' +
  'DROP TABLE IF EXISTS ingest_csv_rejects; DROP TABLE IF EXISTS ingest_csv_scans';
