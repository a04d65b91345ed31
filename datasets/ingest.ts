/**
 * `barstream ingest`: CSV or any Parquet into the canonical layout
 * (`DIR/bucket=<k>/part-0.parquet`, see `layout.ts`). An in-memory DuckDB does the work in
 * SQL (`sql/ingest_*.sql`): each source file is loaded with its row numbers, every row is
 * checked, the good ones are bucketed and written sorted by `(symbol, ts)`, the bad ones
 * follow the bad-row policy. Nothing is written unless the whole run succeeds. With
 * `append`, the rows are also checked against the existing dataset and written as new part
 * files of it (`ingest-append.ts`).
 */
import { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { rmSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { BarstreamError, invalidParam } from '../engine/errors.js';
import { literal, sqlFile } from '../engine/sql.js';
import { DATASET_FORMAT } from './dataset-info.js';
import { checkOutput, chooseBuckets, describeFiles, dropStaging, publish, stagingDir, writeJson } from './layout.js';
import { assignBuckets, AppendTarget, commitAppend, markAgainstDataset, newSymbols, nextPart, openTarget } from './ingest-append.js';
import { checkNesting, withOutputLock } from '../engine/outputs.js';
import { onExit } from '../engine/cleanup.js';
import { BadRowPolicy, IngestCounts, IngestMetadata, IngestOptions, IngestResult, REJECT_REASONS, RejectReason } from './ingest-types.js';
import { Db, DELIMITERS, detectFormat, emptyFileNote, EXTENSIONS, loadFile, nameList, parseMapping, ReadOptions, resolveInputs, Source } from './ingest-sources.js';
import { checkSymbolRule, checkTsOptions, tsTried } from './ingest-formats.js';
import { firstBadRow, writeBuckets, writeRejected } from './ingest-write.js';

export * from './ingest-types.js';
export { emptyFileNote, parseMapping } from './ingest-sources.js';

function checkOptions(opts: IngestOptions): { inputs: string[]; policy: BadRowPolicy; emptyPolicy: 'warn' | 'error'; read: ReadOptions } {
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
  const emptyPolicy = opts.emptyFiles ?? 'warn';
  if (!['warn', 'error'].includes(emptyPolicy)) throw invalidParam(`emptyFiles must be warn or error, got '${emptyPolicy}'`);
  if (opts.append && opts.overwrite) throw invalidParam('append and overwrite exclude each other: append adds to the dataset, overwrite replaces it');
  checkTsOptions(opts);
  if (opts.delimiter !== undefined && !DELIMITERS.includes(opts.delimiter)) {
    throw invalidParam(`delimiter must be one of , ; | or a tab, got '${opts.delimiter}'`);
  }
  const ordered = opts.prefer === undefined || opts.prefer === false ? inputs : precedence(inputs, opts.prefer);
  const read: ReadOptions = {
    mapping: parseMapping(opts.map),
    symbolFromFilename: checkSymbolRule(opts.symbolFromFilename),
    tsFormat: opts.tsFormat,
    tsUnit: opts.tsUnit,
    tz: opts.tz,
    closeOnly: opts.closeOnly === true,
    delimiter: opts.delimiter,
    decimalComma: opts.decimalComma,
  };
  return { inputs: ordered, policy, emptyPolicy, read };
}

/**
 * The inputs in order of precedence: those `prefer` lists, in its order (each must name one
 * of the inputs, as given or as the same path), then the others in their order. `true` (the
 * older form) keeps the inputs' order.
 */
export function precedence(inputs: string[], prefer: true | string[]): string[] {
  if (prefer === true) return inputs;
  if (!Array.isArray(prefer) || prefer.length === 0 || prefer.some((p) => typeof p !== 'string' || p === '')) {
    throw invalidParam('prefer must list inputs in order of precedence, e.g. --prefer a.csv,b.csv');
  }
  const listed: string[] = [];
  for (const p of prefer) {
    const hit = inputs.find((i) => i === p) ?? inputs.find((i) => resolve(i) === resolve(p));
    if (hit === undefined) throw invalidParam(`--prefer ${p} is not one of the inputs (${inputs.join(', ')}): list inputs given with --in`);
    if (listed.includes(hit)) throw invalidParam(`--prefer names ${p} twice`);
    listed.push(hit);
  }
  return [...listed, ...inputs.filter((i) => !listed.includes(i))];
}

/**
 * Converts CSV or Parquet files into a canonical dataset at `out` and returns the counts
 * (also saved in `out/metadata.json`). Bad rows (see {@link REJECT_REASONS}) are rejected
 * per `onBadRows`; a missing column, an unreadable or empty (0-byte) file, an input matching
 * nothing, or inputs holding no row at all throw a `BarstreamError` naming them, and then
 * nothing is written. Files with a header and no rows are listed in `emptyFiles` (or refused,
 * per `emptyFiles`); files in input folders that are not read are listed in `skippedFiles`.
 * When every row is rejected the dataset is still written (metadata and quarantine, no
 * bars), and every reader of it then says that it holds no bars. Symbols are trimmed of
 * surrounding spaces and kept as text (hive `symbol=0700` folders too); timestamps with a
 * UTC offset are converted to UTC.
 * @example
 * const r = await ingest({ input: 'raw/*.csv', out: 'datasets/eod', map: 'symbol=Ticker,ts=Date,close=Adj_Close' });
 * console.log(`${r.read} read = ${r.written} written + ${r.rejected} rejected`, r.byReason);
 */
export async function ingest(opts: IngestOptions): Promise<IngestResult> {
  const { inputs } = checkOptions(opts);
  // Refused before the lock is taken (a folder of inputs, a foreign folder), checked again under it.
  if (opts.append) checkNesting(opts.out, inputs);
  else await checkOutput(opts.out, opts.overwrite ?? false, inputs);
  return withOutputLock(resolve(opts.out), 'ingest', () => ingestLocked(opts));
}

async function ingestLocked(opts: IngestOptions): Promise<IngestResult> {
  const { inputs, policy, emptyPolicy, read: how } = checkOptions(opts);
  const mapping = how.mapping;
  const overwrite = opts.overwrite ?? false;
  if (opts.append) checkNesting(opts.out, inputs);
  else await checkOutput(opts.out, overwrite, inputs);
  const target = opts.append ? await openTarget(opts.out) : undefined;

  const spill = await mkdtemp(join(tmpdir(), 'barstream-ingest-'));
  const forgetSpill = onExit(() => rmSync(spill, { recursive: true, force: true }));
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
    // Naive times are read in this zone (see tsExpression); offsets and TIMESTAMPTZ sources become UTC.
    await db.rows(`SET TimeZone = ${literal(opts.tz ?? 'UTC')}`).catch((e: unknown) => {
      throw invalidParam(`--tz ${opts.tz}: not a time zone DuckDB knows (${(e as Error).message})`);
    });
    const { files, inputOf, skipped: skippedFiles } = await resolveInputs(db, inputs, opts.format, opts.out);
    const format = opts.format ?? detectFormat(files);

    await db.rows(sqlFile('ingest_rows', {}));
    await db.rows(`INSERT INTO ingest_files VALUES ${inputOf.map((k, i) => `(${i}, ${k})`).join(', ')}`);
    const sources: (Source & { rows: number })[] = [];
    for (const [i, f] of files.entries()) {
      const src = await loadFile(db, i, f, format, how);
      if (src.rows === 0 && emptyPolicy === 'error') {
        throw new BarstreamError('BARSTREAM_BAD_INPUT', `${emptyFileNote(f, format)} (an empty input is an error under --strict)`);
      }
      sources.push(src);
    }
    const perFile = sources.map((s) => ({ path: s.path, rows: s.rows }));
    const emptyFiles = perFile.filter((f) => f.rows === 0).map((f) => f.path);
    const read = perFile.reduce((s, f) => s + f.rows, 0);
    if (read === 0) {
      const why = files.length === 1 ? emptyFileNote(files[0], format) : `none of the ${files.length} input files holds a row (${nameList(files)})`;
      throw new BarstreamError('BARSTREAM_BAD_INPUT', `no rows to ingest: ${why}`);
    }
    await db.rows(sqlFile('ingest_check', { prefer: opts.prefer === undefined || opts.prefer === false ? 'false' : 'true' }));
    if (target) await markAgainstDataset(db, target);

    const byReason: Partial<Record<RejectReason, number>> = {};
    for (const r of await db.rows('SELECT reason, count(*) AS n FROM ingest_checked WHERE reason IS NOT NULL GROUP BY reason ORDER BY reason')) {
      byReason[r.reason as RejectReason] = Number(r.n);
    }
    // Superseded rows are not bad rows: counted apart, never an error, quarantined like them.
    const superseded = byReason.superseded ?? 0;
    const rejectedRows = Object.values(byReason).reduce((s, n) => s + n, 0) - superseded;
    if (policy === 'error' && rejectedRows > 0) throw await firstBadRow(db, sources, tsTried(how));

    const [{ n: validRows, symbols: symbolCount }] = await db.rows(
      'SELECT count(*) AS n, count(DISTINCT symbol) AS symbols FROM ingest_checked WHERE reason IS NULL',
    );
    const symbols = Number(symbolCount);
    const buckets = target ? appendBuckets(target, opts.buckets) : (opts.buckets ?? chooseBuckets(Number(validRows), symbols));
    await db.rows(sqlFile('ingest_valid', { buckets: String(buckets) }));
    if (target) await assignBuckets(db);

    staging = await stagingDir(opts.out);
    const written = await writeBuckets(db, staging, target && ((b) => nextPart(target, b)));
    let quarantined = rejectedRows + superseded;
    let rejectedFile: string | null = null;
    if (policy === 'quarantine' && rejectedRows + superseded > 0) {
      await mkdir(join(staging, '_rejected'));
      rejectedFile = join(staging, '_rejected', 'part-0.parquet');
      quarantined = await writeRejected(db, sources, rejectedFile);
    }
    const writtenRows = written.reduce((s, f) => s + f.rows, 0);
    if (read !== writtenRows + quarantined || quarantined !== rejectedRows + superseded) {
      throw new BarstreamError(
        'BARSTREAM_INTERNAL',
        `ingest lost rows: read ${read}, wrote ${writtenRows}, set aside ${quarantined} (${rejectedRows} rejected + ${superseded} superseded counted)`,
      );
    }
    const rejected = rejectedRows;

    const counts: IngestCounts = { read, written: writtenRows, rejected, byReason, superseded };
    // Without a volume column in every source, the dataset's volume is NULL (somewhere): say so.
    const volume = sources.every((s) => s.col.volume !== undefined);
    const source = {
      tool: 'barstream ingest', input: inputs, files: perFile, skippedFiles, format, mapping, onBadRows: policy,
      timestamps: tsTried(how), symbolFromFilename: how.symbolFromFilename ?? false,
      prefer: opts.prefer === undefined || opts.prefer === false ? false : inputs,
    };
    const out = resolve(opts.out);
    if (target) {
      const symbolsAdded = await newSymbols(db);
      const metadata = await commitAppend(target, staging, written, { counts, symbolsAdded, source, rejectedFile, volume });
      const rejectedPath = rejectedFile && metadata.rejected ? join(out, metadata.rejected.path) : null;
      return { ...counts, out, files, skippedFiles, emptyFiles, format, symbols: metadata.symbols, buckets, rejectedPath, metadata, generation: metadata.generation, symbolsAdded };
    }
    const metadata: IngestMetadata = {
      format: DATASET_FORMAT,
      source,
      volume,
      closeOnly: how.closeOnly === true,
      symbols,
      rows: writtenRows,
      buckets,
      bucketRule: 'hash(symbol) % buckets',
      generation: 0,
      files: (await describeFiles(staging, written)).map((f) => ({ ...f, generation: 0 })),
      createdAt: new Date().toISOString(),
      counts,
      rejected: rejectedFile ? (await describeFiles(staging, [{ path: rejectedFile, rows: quarantined }]))[0] : null,
    };
    await writeJson(join(staging, 'metadata.json'), metadata);
    await publish(staging, resolve(opts.out), overwrite);
    staging = undefined;
    return {
      ...counts,
      out,
      files,
      skippedFiles,
      emptyFiles,
      format,
      symbols,
      buckets,
      rejectedPath: rejectedFile ? join(out, '_rejected', 'part-0.parquet') : null,
      metadata,
    };
  } finally {
    conn?.closeSync();
    instance?.closeSync();
    if (staging) await dropStaging(staging);
    await rm(spill, { recursive: true, force: true });
    forgetSpill();
  }
}

/** An append keeps the dataset's bucket count: `buckets`, when given, must be it. */
function appendBuckets(target: AppendTarget, buckets: number | undefined): number {
  const have = Number(target.meta.buckets);
  if (buckets !== undefined && buckets !== have) throw invalidParam(`buckets must be the dataset's ${have} when appending to ${target.dir}, got ${buckets}`);
  return have;
}
