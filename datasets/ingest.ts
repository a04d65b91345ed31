/**
 * `barstream ingest`: CSV or any Parquet into the canonical layout
 * (`DIR/bucket=<k>/part-0.parquet`, see `layout.ts`). An in-memory DuckDB does the work in
 * SQL (`sql/ingest_*.sql`): each source file is loaded with its row numbers, every row is
 * checked, the good ones are bucketed and written sorted by `(symbol, ts)`, the bad ones
 * follow the bad-row policy. Nothing is written unless the whole run succeeds.
 */
import { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { BarstreamError, invalidParam } from '../engine/errors.js';
import { sqlFile } from '../engine/sql.js';
import { checkOutput, chooseBuckets, describeFiles, publish, stagingDir, writeJson } from './layout.js';
import { BadRowPolicy, IngestCounts, IngestMetadata, IngestOptions, IngestResult, REJECT_REASONS, RejectReason } from './ingest-types.js';
import { Db, detectFormat, EXTENSIONS, loadFile, parseMapping, resolveInputs, Source } from './ingest-sources.js';
import { firstBadRow, writeBuckets, writeRejected } from './ingest-write.js';

export * from './ingest-types.js';
export { parseMapping } from './ingest-sources.js';

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
