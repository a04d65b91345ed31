/** `barstream ingest`: writing the checked rows as buckets, the rejected rows, and the first bad row for `error`. */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { BarstreamError } from '../engine/errors.js';
import { literal } from '../engine/sql.js';
import { CANONICAL_COLUMNS, REJECT_REASONS, RejectReason } from './ingest-types.js';
import { Db, gatherRejected, Source } from './ingest-sources.js';

/**
 * Writes `staging/bucket=<k>/part-<n>.parquet` for each non-empty bucket of `ingest_valid`,
 * sorted by `(symbol, ts)`; n is `part(k)` (0 for a new dataset, after the last for an append).
 */
export async function writeBuckets(db: Db, staging: string, part: (bucket: number) => number = () => 0): Promise<{ path: string; rows: number }[]> {
  const written: { path: string; rows: number }[] = [];
  for (const { bucket } of await db.rows('SELECT DISTINCT bucket FROM ingest_valid ORDER BY bucket')) {
    await mkdir(join(staging, `bucket=${bucket}`));
    const path = join(staging, `bucket=${bucket}`, `part-${part(Number(bucket))}.parquet`);
    const rows = await db.count(
      `COPY (SELECT symbol, ts, open, high, low, close, volume FROM ingest_valid WHERE bucket = ${bucket} ` +
        `ORDER BY symbol, ts) TO ${literal(path)} (FORMAT parquet, COMPRESSION zstd)`,
    );
    written.push({ path, rows });
  }
  return written;
}

/** Rejected rows per source file index. */
export async function rejectsByFile(db: Db): Promise<Map<number, number>> {
  const rows = await db.rows('SELECT file, count(*) AS n FROM ingest_checked WHERE reason IS NOT NULL GROUP BY file');
  return new Map(rows.map((r) => [Number(r.file), Number(r.n)]));
}

/** Writes every rejected row, in source order, to `path`; returns how many. */
export async function writeRejected(db: Db, sources: Source[], path: string): Promise<number> {
  for (const [file, n] of await rejectsByFile(db)) await gatherRejected(db, sources[file], n);
  return db.count(
    'COPY (SELECT reason, source_file, row, symbol, ts, open, high, low, close, volume, source FROM ingest_rejected ' +
      `ORDER BY file, row) TO ${literal(path)} (FORMAT parquet, COMPRESSION zstd)`,
  );
}

/** The error for `onBadRows: 'error'`: the first bad row in source order, with its source text. */
export async function firstBadRow(db: Db, sources: Source[], tsTried?: string): Promise<BarstreamError> {
  // Superseded rows are set aside, not bad: the first file with a bad row is wanted.
  const bad = await db.rows("SELECT file, count(*) AS n FROM ingest_checked WHERE reason IS NOT NULL AND reason <> 'superseded' GROUP BY file ORDER BY file LIMIT 1");
  const first = Number(bad[0].file);
  await gatherRejected(db, sources[first], (await rejectsByFile(db)).get(first) ?? 0);
  const [r] = await db.rows("SELECT * FROM ingest_rejected WHERE reason <> 'superseded' ORDER BY file, row LIMIT 1");
  const reason = r.reason as RejectReason;
  if (reason === 'malformed_line') {
    const [m] = await db.rows(`SELECT line, error, text FROM ingest_malformed WHERE file = ${first} AND row = ${r.row}`);
    return new BarstreamError(
      'BARSTREAM_BAD_INPUT',
      `bad row in ${r.source_file} line ${m.line}: malformed_line (${m.error}; ${JSON.stringify(m.text)})`,
    );
  }
  const values = CANONICAL_COLUMNS.map((c) => `${c}=${r[c] ?? 'NULL'}`).join(', ');
  const tried = reason === 'bad_ts' && tsTried ? ` as ${tsTried}` : '';
  return new BarstreamError('BARSTREAM_BAD_INPUT', `bad row in ${r.source_file} row ${r.row}: ${reason} (${REJECT_REASONS[reason]}${tried}; ${values})`);
}
