/**
 * `barstream ingest --append`: adds checked rows to an existing canonical dataset without
 * rewriting any of its files. Rows at or before a symbol's last bar are refused
 * (`not_after_last`, or `duplicate` when the dataset holds that timestamp); the rest go to a
 * new `bucket=<k>/part-<n>.parquet` per bucket (n after the bucket's highest listed part), in
 * the bucket the symbol already has (new symbols: `hash(symbol) % buckets`). The new files
 * are moved into place first and `metadata.json` (with `generation` + 1 and the new files)
 * is replaced last, by rename: until then readers, which read only the listed files, see the
 * previous dataset whole. A rerun after a kill first removes the unlisted files it left.
 */
import { existsSync } from 'node:fs';
import { mkdir, readdir, rename, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { BarstreamError } from '../engine/errors.js';
import { pauseAt } from '../engine/test-points.js';
import { literalList } from '../engine/sql.js';
import { readDatasetMeta } from './dataset-info.js';
import { Db } from './ingest-sources.js';
import type { IngestCounts, IngestMetadata, RejectReason } from './ingest-types.js';
import { describeFiles, FileEntry, listDataFiles, writeJson } from './layout.js';

/** What an append needs of the dataset it extends. */
export interface AppendTarget {
  dir: string;
  meta: IngestMetadata;
  /** Highest listed part number per bucket. */
  lastPart: Map<number, number>;
}

/**
 * Opens the dataset to append to (refusing, by name, a folder that is not a barstream
 * dataset) and removes what a killed append left in it: part files `metadata.json` does not list.
 */
export async function openTarget(out: string): Promise<AppendTarget> {
  const dir = resolve(out);
  const meta = readDatasetMeta(dir) as AppendTarget['meta'] | undefined;
  if (!meta || !Array.isArray(meta.files) || !(Number(meta.buckets) > 0)) {
    throw new BarstreamError('BARSTREAM_IO', `cannot append to ${out}: it is not a barstream dataset (no readable metadata.json with its buckets and files)`);
  }
  const listed = new Set(meta.files.map((f) => f.path));
  for (const entry of existsSync(dir) ? await readdir(dir, { withFileTypes: true }) : []) {
    if (!entry.isDirectory() || !/^bucket=\d+$/.test(entry.name)) continue;
    for (const f of await readdir(join(dir, entry.name))) {
      if (/^part-\d+\.parquet$/.test(f) && !listed.has(join(entry.name, f))) await rm(join(dir, entry.name, f), { force: true });
    }
  }
  const lastPart = new Map<number, number>();
  if (Number(meta.rows) > 0) {
    for (const f of await listDataFiles(dir)) lastPart.set(f.bucket, Math.max(f.part, lastPart.get(f.bucket) ?? -1));
  }
  return { dir, meta, lastPart };
}

/**
 * Marks the checked rows (`ingest_checked`) that the dataset refuses: a row at or before its
 * symbol's last bar is `duplicate` when the dataset holds its timestamp, else `not_after_last`.
 * Leaves `dataset_last (symbol, bucket, last_ts)` for {@link assignBuckets}.
 */
export async function markAgainstDataset(db: Db, target: AppendTarget): Promise<void> {
  const files = Number(target.meta.rows) > 0 ? (await listDataFiles(target.dir)).map((f) => f.path) : [];
  if (files.length === 0) {
    await db.rows('CREATE TABLE dataset_last (symbol VARCHAR, bucket INTEGER, last_ts TIMESTAMP)');
    return;
  }
  await db.rows(
    `CREATE VIEW dataset_bars AS SELECT symbol, ts, ` +
      `regexp_extract(filename, 'bucket=(\\d+)[/\\\\]part-\\d+\\.parquet$', 1)::INTEGER AS bucket ` +
      `FROM read_parquet(${literalList(files)}, hive_partitioning = false, filename = true)`,
  );
  await db.rows('CREATE TABLE dataset_last AS SELECT symbol, any_value(bucket) AS bucket, max(ts) AS last_ts FROM dataset_bars GROUP BY symbol');
  await db.rows(
    `UPDATE ingest_checked SET reason = CASE WHEN EXISTS (SELECT 1 FROM dataset_bars d WHERE d.symbol = ingest_checked.symbol AND d.ts = ingest_checked.ts) ` +
      `THEN 'duplicate' ELSE 'not_after_last' END ` +
      `WHERE reason IS NULL AND ts <= (SELECT last_ts FROM dataset_last l WHERE l.symbol = ingest_checked.symbol)`,
  );
}

/** Puts each row of an existing symbol in the bucket the dataset already keeps it in. */
export async function assignBuckets(db: Db): Promise<void> {
  await db.rows('UPDATE ingest_valid SET bucket = l.bucket FROM dataset_last l WHERE ingest_valid.symbol = l.symbol');
}

/** Symbols the append adds (not yet in the dataset). */
export async function newSymbols(db: Db): Promise<number> {
  const [{ n }] = await db.rows('SELECT count(DISTINCT symbol) AS n FROM ingest_valid WHERE symbol NOT IN (SELECT symbol FROM dataset_last)');
  return Number(n);
}

/** The part number the append writes in `bucket`. */
export function nextPart(target: AppendTarget, bucket: number): number {
  return (target.lastPart.get(bucket) ?? -1) + 1;
}

function addReasons(a: IngestCounts['byReason'], b: IngestCounts['byReason']): IngestCounts['byReason'] {
  const sum: IngestCounts['byReason'] = { ...a };
  for (const [k, v] of Object.entries(b)) sum[k as RejectReason] = (sum[k as RejectReason] ?? 0) + (v ?? 0);
  return sum;
}

/**
 * Moves the new part files from `staging` into the dataset, then replaces `metadata.json`
 * (temp name + rename): generation + 1, the new files listed with that generation, rows and
 * symbols grown, `counts` summed over every run (so read = written + rejected still holds for
 * the dataset), and this run in `appends`. Returns the new metadata.
 */
export async function commitAppend(
  target: AppendTarget,
  staging: string,
  written: { path: string; rows: number }[],
  run: { counts: IngestCounts; symbolsAdded: number; source: Record<string, unknown>; rejectedFile: string | null; volume: boolean },
): Promise<AppendTarget['meta']> {
  const generation = (Number(target.meta.generation) || 0) + 1;
  const staged = await describeFiles(staging, written);
  await pauseAt('append-staged');
  for (const f of staged) {
    await mkdir(join(target.dir, f.path, '..'), { recursive: true });
    await rename(join(staging, f.path), join(target.dir, f.path));
  }
  let rejected: FileEntry | null = null;
  if (run.rejectedFile) {
    const name = join('_rejected', `part-${generation}.parquet`);
    await mkdir(join(target.dir, '_rejected'), { recursive: true });
    await rename(run.rejectedFile, join(target.dir, name));
    rejected = (await describeFiles(target.dir, [{ path: join(target.dir, name), rows: run.counts.rejected + run.counts.superseded }]))[0];
  }
  await pauseAt('append-moved');
  const old = target.meta;
  const oldCounts = old.counts ?? { read: Number(old.rows) || 0, written: Number(old.rows) || 0, rejected: 0, byReason: {}, superseded: 0 };
  const meta: AppendTarget['meta'] = {
    ...old,
    generation,
    symbols: (Number(old.symbols) || 0) + run.symbolsAdded,
    rows: (Number(old.rows) || 0) + run.counts.written,
    files: [...old.files.map((f) => ({ ...f, generation: f.generation ?? 0 })), ...staged.map((f) => ({ ...f, generation }))],
    counts: {
      read: oldCounts.read + run.counts.read,
      written: oldCounts.written + run.counts.written,
      rejected: oldCounts.rejected + run.counts.rejected,
      byReason: addReasons(oldCounts.byReason ?? {}, run.counts.byReason),
      superseded: (oldCounts.superseded ?? 0) + run.counts.superseded,
    },
    // Rows appended from a source without volume make the dataset's volume NULL there.
    volume: old.volume !== false && run.volume,
    rejected: rejected ?? old.rejected ?? null,
    appends: [
      ...((old as { appends?: unknown[] }).appends ?? []),
      { generation, createdAt: new Date().toISOString(), source: run.source, counts: run.counts, symbolsAdded: run.symbolsAdded, files: staged.map((f) => f.path), rejected },
    ],
  } as AppendTarget['meta'];
  const tmp = join(target.dir, `.metadata.json.${process.pid}.tmp`);
  await writeJson(tmp, meta);
  await rename(tmp, join(target.dir, 'metadata.json'));
  return meta;
}
