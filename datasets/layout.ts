/**
 * The canonical dataset layout: `DIR/bucket=<k>/part-<n>.parquet`, rows sorted by
 * `(symbol, ts)` inside each file, each symbol in exactly one bucket
 * (`bucket = hash(symbol) % buckets`, DuckDB's `hash`), and a `metadata.json`.
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, rmSync } from 'node:fs';
import { mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { onExit } from '../engine/cleanup.js';
import { BarstreamError } from '../engine/errors.js';
import { checkNesting, checkReplace } from '../engine/outputs.js';
import { noBarsMessage, readDatasetMeta } from './dataset-info.js';

/** Bytes one bar takes in memory as columns (ts + 5 doubles + a symbol reference). */
export const BYTES_PER_BAR = 56;
/** One bucket's raw bars may take at most this fraction of the memory budget. */
export const BUCKET_BUDGET_FRACTION = 1 / 64;
export const DEFAULT_MEMORY_BUDGET = 2 * 1024 ** 3;

/**
 * How many buckets a dataset of `totalBars` bars over `symbols` symbols gets: enough that
 * one bucket's bars take at most 1/64 of the memory budget (2 GiB by default, so about
 * 600k bars per bucket). Per-bar ATC outputs are ~8x the input, and the engine keeps a
 * bucket being read, one being computed and one being written, so a bucket's whole
 * footprint stays well under the budget. At least 1, at most one bucket per symbol.
 */
export function chooseBuckets(totalBars: number, symbols: number, memoryBudget = DEFAULT_MEMORY_BUDGET): number {
  const perBucket = Math.max(1, Math.floor((memoryBudget * BUCKET_BUDGET_FRACTION) / BYTES_PER_BAR));
  return Math.min(Math.max(1, symbols), Math.max(1, Math.ceil(totalBars / perBucket)));
}

export interface DataFile {
  path: string;
  bucket: number;
  part: number;
}

const BUCKET_DIR = /^bucket=(\d+)$/;
const PART_FILE = /^part-(\d+)\.parquet$/;

/**
 * The Parquet files of a canonical dataset, ordered by bucket then part number (parts of a
 * bucket are appended in time order, so this order delivers each symbol's bars in time order).
 * Only `bucket=<k>/part-<n>.parquet` files are bars (never `_rejected/`), and only those its
 * `metadata.json` lists when it has one (files a killed append left are not). A dataset with none
 * throws: `BARSTREAM_BAD_INPUT` saying it holds no bars (and why, from its `metadata.json`)
 * when its metadata counts no rows, else `BARSTREAM_IO`.
 */
export async function listDataFiles(dataset: string): Promise<DataFile[]> {
  const root = resolve(dataset);
  if (!existsSync(root)) throw new BarstreamError('BARSTREAM_IO', `dataset ${dataset} does not exist`);
  if (!(await stat(root)).isDirectory()) throw new BarstreamError('BARSTREAM_IO', `dataset ${dataset} is not a folder`);
  const files: DataFile[] = [];
  // A killed append leaves part files its metadata.json does not list yet: they are not data.
  const listedFiles = readDatasetMeta(root)?.files;
  const listed = Array.isArray(listedFiles) ? new Set(listedFiles.map((f) => f.path)) : undefined;
  for (const entry of await readdir(root, { withFileTypes: true })) {
    const b = BUCKET_DIR.exec(entry.name);
    if (!entry.isDirectory() || !b) continue;
    for (const f of await readdir(join(root, entry.name))) {
      const p = PART_FILE.exec(f);
      if (p && (!listed || listed.has(join(entry.name, f)))) files.push({ path: join(root, entry.name, f), bucket: Number(b[1]), part: Number(p[1]) });
    }
  }
  if (files.length === 0) {
    const meta = readDatasetMeta(root);
    if (meta && !(Number(meta.rows) > 0)) throw new BarstreamError('BARSTREAM_BAD_INPUT', noBarsMessage(dataset, meta));
    const counted = meta ? ` although its metadata.json counts ${meta.rows} rows` : '';
    throw new BarstreamError('BARSTREAM_IO', `dataset ${dataset} holds no bucket=<k>/part-<n>.parquet files${counted}`);
  }
  return files.sort((a, b) => a.bucket - b.bucket || a.part - b.part);
}

export async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

export interface FileEntry {
  path: string;
  rows: number;
  bytes: number;
  sha256: string;
  /** The dataset generation that wrote the file (0: the first ingest, +1 per append; absent: 0). */
  generation?: number;
}

export async function describeFiles(root: string, files: { path: string; rows: number }[]): Promise<FileEntry[]> {
  const out: FileEntry[] = [];
  for (const f of files) {
    out.push({
      path: relative(root, f.path),
      rows: f.rows,
      bytes: (await stat(f.path)).size,
      sha256: await sha256File(f.path),
    });
  }
  return out;
}

/**
 * Removes a folder synchronously even while worker threads (the Rust generator, DuckDB) may
 * still be writing into it as the process stops: retried until it is gone.
 */
function removeNow(dir: string): void {
  for (let i = 0; i < 20 && existsSync(dir); i++) rmSync(dir, { recursive: true, force: true, maxRetries: 3, retryDelay: 5 });
}

/** Cleanups of staging folders not yet published, by folder (see `engine/cleanup.ts`). */
const unpublished = new Map<string, () => void>();

/**
 * A sibling folder to build a dataset in before it is moved into place. It is removed if the
 * process exits or is stopped (SIGINT, SIGTERM) before {@link publish}.
 */
export async function stagingDir(out: string): Promise<string> {
  const dir = join(dirname(resolve(out)), `.${basename(out)}.partial-${process.pid}-${Date.now()}`);
  // registered before it exists: a signal handled right after the mkdir still removes it
  unpublished.set(dir, onExit(() => removeNow(dir)));
  await mkdir(dir, { recursive: true });
  return dir;
}

/**
 * Checks before any work that `out` may receive a dataset: missing, empty, or (with
 * `overwrite`) a barstream dataset, and neither inside nor holding any of `inputs`.
 *
 * @throws BarstreamError naming the folder and what it holds.
 */
export async function checkOutput(out: string, overwrite: boolean, inputs: string[] = []): Promise<void> {
  checkNesting(out, inputs);
  checkReplace(resolve(out), 'dataset', overwrite);
}

/**
 * Moves a finished staging folder to `out` with renames only, so readers see either the
 * old dataset or the new one, never a half-written one. An existing `out` is replaced only
 * when it is a barstream dataset and `overwrite` is set.
 */
export async function publish(staging: string, out: string, overwrite: boolean): Promise<void> {
  const target = resolve(out);
  const mode = checkReplace(target, 'dataset', overwrite);
  await mkdir(dirname(target), { recursive: true });
  if (mode === 'replace' || existsSync(target)) {
    const old = `${staging}.old`;
    await rename(target, old);
    await rename(staging, target);
    await rm(old, { recursive: true, force: true });
  } else {
    await rename(staging, target);
  }
  unpublished.get(staging)?.();
  unpublished.delete(staging);
}

/** Removes a staging folder that will not be published (an append moves its files out instead). */
export async function dropStaging(staging: string): Promise<void> {
  await rm(staging, { recursive: true, force: true });
  unpublished.get(staging)?.();
  unpublished.delete(staging);
}

export async function writeJson(path: string, value: unknown): Promise<void> {
  await writeFile(path, `${JSON.stringify(value, null, 2)}\n`);
}
