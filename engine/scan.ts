/**
 * The ATC scan: for every symbol, the latest `Average_Signal`; the strong ones listed as
 * long or short, sorted by strength.
 */
import { readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { sha256File } from '../datasets/layout.js';
import type { Engine } from './engine.js';
import { invalidParam } from './errors.js';
import { JobControl, noBars, runJob } from './jobs.js';
import { checkRange, checkStrategy, LIMITS } from './limits.js';
import { addon } from './native.js';
import { checkNesting, checkReplace, checkShardFolder, folderKind, withOutputLock, writtenBy } from './outputs.js';
import { inputChecksums, ofShard, resolveShard, Shard, ShardRecord, ShardRun } from './shard.js';
import type { AtcParams } from './kernels.js';
import { writeParquet } from './parquet.js';
import { checkSource } from './partitions.js';
import { InputRecord, inputRecord, UpdateSummaryBase } from './update.js';
import { updateScan } from './scan-update.js';

export interface ScanOptions extends JobControl {
  /** SQL over `bars` (run per bucket); default every bar. */
  sql?: string;
  /** ATC parameters (spec defaults). */
  strategy?: AtcParams;
  /** `|signal|` at least this to be listed (0.1). */
  minSignal?: number;
  /** List at most this many on each side (default all). */
  top?: number;
  /**
   * Also write every symbol's result to `out/scan.parquet`, then `out/_manifest.json` (last,
   * atomically: the sign that the output is whole).
   */
  out?: string;
  /** Replace an existing barstream scan output in `out` (with `shard`: run the shard again in an output already merged). */
  overwrite?: boolean;
  /**
   * With `out`: scan only shard `index` of `count` (the buckets with `bucket % count == index`)
   * into `out/scan-<i>-of-<N>.parquet` and `out/_shards/`, or `'auto'` (from the scheduler's
   * environment); `merge` then writes the manifest (see `docs/scale-out.md`).
   */
  shard?: Shard | 'auto';
  /**
   * Continue the finished scan in `out` over only the dataset files it did not read, from
   * each symbol's saved state (see `scan-update.ts`); options left out are the previous run's.
   */
  update?: boolean;
}

export interface ScanEntry {
  symbol: string;
  signal: number;
  close: number;
  ts: Date;
  bars: number;
}

export interface ScanResult {
  long: ScanEntry[];
  short: ScanEntry[];
  processed: number;
  skipped: { symbol: string; reason: string }[];
  failed: { symbol: string; /** `input`: its rows (a duplicate timestamp, a NULL); `kernel`: its prices. */ stage: 'input' | 'kernel'; message: string }[];
  /** Rows the dataset's ingest rejected (from its metadata). */
  rejectedRows: number;
  elapsedMs: number;
  /** Every processed symbol, in dataset order. */
  symbols: ScanEntry[];
  /** How many symbols qualify on each side before `top` cuts the lists. */
  qualifying: { long: number; short: number };
  /** True when the source was not in (symbol, ts) order and DuckDB sorted it. */
  sorted: boolean;
  /** For a shard: the record written in `_shards/`. */
  shard?: ShardRecord;
  /** Bars read from the dataset by this call: every bar for a full run, only the new ones for an update. */
  barsRead: number;
  /** What an update changed (with `update`). */
  update?: ScanUpdateSummary;
}

/** What `scan({ update: true })` changed. */
export interface ScanUpdateSummary extends UpdateSummaryBase {
  /** Symbols listed (long and short, before `top`) after the update. */
  matches: number;
}

/** @internal */
export interface NativeScan {
  barsRead: number;
  processed: { symbol: string; bars: number; signal: number; close: number; ts: number }[];
  skipped: { symbol: string; reason: string }[];
  failed: { symbol: string; /** `input`: its rows (a duplicate timestamp, a NULL); `kernel`: its prices. */ stage: 'input' | 'kernel'; message: string }[];
}

/** Runs the scan; see `Engine.scan`. */
export async function scan(engine: Engine, opts: ScanOptions = {}): Promise<ScanResult> {
  if (opts.update) return updateScan(engine, opts);
  const minSignal = checkRange('minSignal', opts.minSignal ?? 0.1, LIMITS.minSignal);
  if (opts.top !== undefined) checkRange('top', opts.top, LIMITS.top);
  checkStrategy(opts.strategy);
  if (opts.shard !== undefined) return scanShard(engine, opts, minSignal);
  if (opts.out === undefined) return compute(engine, opts, minSignal);
  if (typeof opts.out !== 'string' || opts.out === '') throw invalidParam('out must be a folder path');
  const out = resolve(opts.out);
  checkNesting(out, engine.inputs, engine.files);
  folderKind(out);
  return withOutputLock(out, 'scan', async () => {
    const replace = checkReplace(out, 'scan', opts.overwrite ?? false) === 'replace';
    // Each symbol's state (for `--update`) is written aside first: the previous output
    // stays whole until this scan has succeeded.
    const states = join(out, `.scan-states.tmp-${process.pid}`);
    try {
      const result = await compute(engine, opts, minSignal, undefined, { stateOut: states });
      if (replace) for (const f of await readdir(out)) if (writtenBy('scan', f)) await rm(join(out, f), { recursive: true, force: true });
      await rename(join(states, '_state'), join(out, '_state'));
      await writeScanOutput(out, result, opts, minSignal, engine);
      return result;
    } finally {
      await rm(states, { recursive: true, force: true });
    }
  });
}

/** A shard of a scan: its buckets' symbols into `out/scan-<i>-of-<N>.parquet`, then its record. */
async function scanShard(engine: Engine, opts: ScanOptions, minSignal: number): Promise<ScanResult> {
  if (typeof opts.out !== 'string' || opts.out === '') throw invalidParam('a scan shard writes its part of the result: give out (--out) with shard');
  const { shard, scheduler } = resolveShard(opts.shard!);
  const out = resolve(opts.out);
  checkNesting(out, engine.inputs, engine.files);
  checkShardFolder(out, 'scan');
  const run = await ShardRun.start(out, shard, scheduler);
  try {
    const all = engine.partitions({ sql: opts.sql, columns: ['close'], sorted: false });
    checkSource(engine.db, opts.sql, all[0], ['close']);
    await run.begin(opts.overwrite ?? false);
    const name = `scan-${shard.index}-of-${shard.count}.parquet`;
    await rm(join(out, name), { force: true });
    const r = await compute(engine, opts, minSignal, shard);
    const path = join(out, name);
    await writeScan(path, r);
    const rows = r.symbols.length + r.skipped.length + r.failed.length;
    r.shard = await run.finish({
      kind: 'scan',
      parameters: { strategy: { name: 'atc', params: opts.strategy ?? {} }, sql: opts.sql ?? null },
      dataset: engine.dataset,
      inputs: await inputChecksums(engine),
      allBuckets: all.map((p) => p.bucket),
      buckets: ofShard(all, shard).map((p) => p.bucket),
      counts: { symbols: rows, processed: r.processed, skipped: r.skipped.length, failed: r.failed.length },
      rejectedRows: r.rejectedRows,
      sorted: r.sorted,
      files: [{ path: name, rows, bytes: (await stat(path)).size, sha256: await sha256File(path) }],
    });
    return r;
  } finally {
    run.release();
  }
}

async function compute(engine: Engine, opts: ScanOptions, minSignal: number, shard?: Shard, states?: { stateOut: string }): Promise<ScanResult> {
  const t0 = performance.now();
  if (shard === undefined) checkSource(engine.db, opts.sql, engine.partitions({ sql: opts.sql, columns: ['close'], sorted: false })[0], ['close']);
  const { result: r, sorted } = await engine.orderFallback(async (order) => {
    if (states) await rm(states.stateOut, { recursive: true, force: true });
    return runJob<NativeScan>(
      (job) =>
        engine.db.scan(
          { partitions: ofShard(engine.partitions({ sql: opts.sql, columns: ['close'], sorted: order }), shard), params: opts.strategy, workers: engine.threads, ...states },
          job,
        ),
      engine.metadata?.symbols ?? 0,
      opts,
    );
  });
  // A shard may hold no symbols (more shards than buckets): `merge` checks the whole.
  if (shard === undefined && r.processed.length + r.skipped.length + r.failed.length === 0) throw noBars(opts.sql, 'scan');
  const symbols: ScanEntry[] = r.processed.map((s) => ({ symbol: s.symbol, signal: s.signal, close: s.close, ts: new Date(s.ts / 1000), bars: s.bars }));
  return { ...listing(symbols, r.skipped, r.failed, minSignal, opts.top), rejectedRows: engine.metadata?.rejectedRows ?? 0, elapsedMs: performance.now() - t0, sorted, barsRead: r.barsRead };
}

/** The scan's lists from every symbol's outcome: the strong ones long and short, by strength. */
export function listing(symbols: ScanEntry[], skipped: ScanResult['skipped'], failed: ScanResult['failed'], minSignal: number, top: number | undefined) {
  const qualify = (side: 1 | -1) =>
    symbols
      .filter((s) => Math.sign(s.signal) === side && Math.abs(s.signal) >= minSignal)
      .sort((a, b) => Math.abs(b.signal) - Math.abs(a.signal) || a.symbol.localeCompare(b.symbol));
  const [long, short] = [qualify(1), qualify(-1)];
  return {
    long: long.slice(0, top),
    short: short.slice(0, top),
    qualifying: { long: long.length, short: short.length },
    processed: symbols.length,
    skipped,
    failed,
    symbols,
  };
}

/** The manifest of a scan whose `scan.parquet` lies in `dir` (`generation` 0: a full run). */
export async function scanManifest(dir: string, r: ScanResult, opts: ScanOptions, minSignal: number, input: InputRecord | undefined, generation: number, sorted: boolean) {
  const path = join(dir, 'scan.parquet');
  const rows = r.symbols.length + r.skipped.length + r.failed.length;
  const v = addon.version();
  return {
    format: 'barstream-scan/1',
    barstream: v.barstream,
    duckdb: v.duckdb,
    strategy: { name: 'atc', params: opts.strategy ?? {} },
    parameters: { minSignal, top: opts.top ?? null },
    source: { sql: opts.sql ?? null, sorted },
    counts: { symbols: rows, processed: r.processed, skipped: r.skipped.length, failed: r.failed.length },
    files: [{ path: 'scan.parquet', rows, bytes: (await stat(path)).size, sha256: await sha256File(path) }],
    ...(input ? { input } : {}),
    generation,
    elapsedMs: r.elapsedMs,
    createdAt: new Date().toISOString(),
  };
}

/** `scan.parquet`, then `_manifest.json` naming it with its rows, size and sha256. */
async function writeScanOutput(out: string, r: ScanResult, opts: ScanOptions, minSignal: number, engine: Engine): Promise<void> {
  await writeScan(join(out, 'scan.parquet'), r);
  const manifest = await scanManifest(out, r, opts, minSignal, inputRecord(engine), 0, r.sorted);
  const tmp = join(out, `._manifest.json.tmp-${process.pid}`);
  await writeFile(tmp, `${JSON.stringify(manifest, null, 2)}\n`);
  await rename(tmp, join(out, '_manifest.json'));
}

export async function writeScan(path: string, r: ScanResult): Promise<void> {
  const side = (s: number) => (s > 0 ? 'long' : s < 0 ? 'short' : 'flat');
  await writeParquet(
    path,
    [['symbol', 'VARCHAR'], ['status', 'VARCHAR'], ['stage', 'VARCHAR'], ['side', 'VARCHAR'], ['signal', 'DOUBLE'], ['close', 'DOUBLE'], ['ts', 'TIMESTAMP'], ['bars', 'BIGINT'], ['message', 'VARCHAR']],
    [
      ...r.symbols.map((s) => ({ ...s, status: 'processed', stage: null, side: side(s.signal), message: null })),
      ...r.skipped.map((s) => ({ symbol: s.symbol, status: 'skipped', stage: 'skipped', message: s.reason })),
      ...r.failed.map((s) => ({ symbol: s.symbol, status: 'failed', stage: s.stage, message: s.message })),
    ],
  );
}
