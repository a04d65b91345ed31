/**
 * The backtest, Parquet in and Parquet out, of the ATC (default) or of a strategy formula
 * (`strategy: { formula }`, see `docs/formulas.md`):
 *
 * - `OUT/signals/bucket=<k>/part-0.parquet` (`part-<g>` for update g): per bar `symbol, ts, close, average_signal,
 *   <type>_signal x6, <type>_s x6, event, position, strategy_return, equity` (ATC), or
 *   `symbol, ts, close, <named values...>, position, strategy_return, equity` (formula);
 * - `OUT/summary/part-<k>.parquet`: per symbol performance;
 * - `OUT/trades/part-<k>.parquet`: per closed trade `symbol, side, entry_ts, exit_ts,
 *   entry_price, exit_price, bars, return`; `OUT/trades/open-<k>.parquet`: the trades still
 *   open at the last bar, `exit_ts` NULL (both read by the `trades` view);
 * - `OUT/_errors/part-<k>.parquet`: `symbol, stage, message` for failed (`kernel`) and
 *   `skipped` symbols;
 * - `OUT/_state/`: the job's parameters and one marker per finished bucket (for `resume`);
 * - `OUT/_state/symbols/bucket=<k>/part-0.parquet`: per symbol `symbol, last_ts, bars, state`
 *   (BLOB): everything needed to continue the symbol bit for bit (for `--update`);
 * - `OUT/_manifest.json`: parameters, source, counts, files with sizes and sha256, elapsed.
 *
 * With `shard` the run writes only the buckets of that shard (see `shard.ts`), its job in
 * `_state/job-<i>-of-<N>.json` and, instead of the manifest, `_shards/shard-<i>-of-<N>.json`;
 * `merge` writes the manifest once every shard is there.
 *
 * Buckets are written as they finish, each file under a temporary name renamed into place.
 *
 * With `update` (see `backtest-update.ts`) the run continues a finished output over only the
 * dataset files it did not read: generation g's signals are `signals/bucket=<k>/part-<g>.parquet`,
 * the trades it closed `trades/part-<k>-<g>.parquet`, and the small tables of the buckets with
 * new bars are rewritten whole.
 */
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { FileEntry } from '../datasets/layout.js';
import type { Engine } from './engine.js';
import { compileFor, FIELDS } from './formula-use.js';
import { checkFormulaFields } from './screen.js';
import { BarstreamError, invalidParam, native } from './errors.js';
import { JobControl, noBars, runJob } from './jobs.js';
import type { AtcParams } from './kernels.js';
import { addon } from './native.js';
import { checkSource, Partition } from './partitions.js';
import { fingerprint, InputFingerprint, inputChange } from './fingerprint.js';
import { checkRange, checkStrategy, LIMITS } from './limits.js';
import { BACKTEST_FILES, checkNesting, checkReplace, checkShardFolder, folderKind, lockOutput } from './outputs.js';
import { inputChecksums, ofShard, resolveShard, Shard, ShardRecord, ShardRun } from './shard.js';
import { InputRecord, inputRecord, UpdateSummaryBase } from './update.js';
import { updateBacktest } from './backtest-update.js';

/** A strategy formula: `entry` and optionally `exit`, `short_entry`, `short_exit` (see `docs/formulas.md`). */
export interface FormulaStrategy {
  formula: string;
}

export interface BacktestOptions extends JobControl {
  /** Output folder. */
  out: string;
  /** SQL over `bars` (run per bucket); default every bar. */
  sql?: string;
  /** ATC parameters (spec defaults), or `{ formula }` for a strategy formula. */
  strategy?: AtcParams | FormulaStrategy;
  /** The time budget of one symbol, in ms (60,000); a symbol over it fails with stage `timeout`. */
  symbolTimeoutMs?: number;
  /** Cost per unit of position change, in basis points (0). */
  feeBps?: number;
  /** Short events go flat instead of short. */
  longOnly?: boolean;
  /** Finish only the buckets a previous run with the same parameters left undone. */
  resume?: boolean;
  /** Replace an existing barstream output in `out` (with `shard`: run the shard again in an output already merged). */
  overwrite?: boolean;
  /**
   * Continue the finished backtest in `out` over only the dataset files it did not read
   * (see `backtest-update.ts`); options left out are the previous run's.
   */
  update?: boolean;
  /**
   * Run only shard `index` of `count` (the buckets with `bucket % count == index`), or
   * `'auto'`: the shard the scheduler's environment names (see `docs/scale-out.md`).
   */
  shard?: Shard | 'auto';
}

export interface BacktestCounts {
  buckets: number;
  bars: number;
  symbols: number;
  processed: number;
  skipped: number;
  failed: number;
  signalRows: number;
  /** Rows of `trades/` (trades of every symbol, open ones included). */
  tradeRows: number;
  rejectedRows: number;
}

export interface Manifest {
  format: 'barstream-backtest/1';
  barstream: string;
  duckdb: string;
  strategy: { name: 'atc'; params: AtcParams; feeBps: number; longOnly: boolean } | { name: 'formula'; formula: string; feeBps: number; longOnly: boolean };
  source: { dataset: string; sql: string | null; sorted: boolean };
  /** The dataset files read (absent when the input is not one canonical dataset: such a run cannot be updated); see `update.ts`. */
  input?: InputRecord;
  /** 0 for a full run, + 1 per update that read new files. */
  generation: number;
  counts: BacktestCounts;
  files: FileEntry[];
  elapsedMs: number;
  createdAt: string;
}

export interface BacktestResult {
  out: string;
  /** The manifest written; for a shard, the manifest of its part (not written: `merge` writes the job's). */
  manifest: Manifest;
  /** For a shard: the record written in `_shards/`. */
  shard?: ShardRecord;
  /** Buckets computed by this call (the rest were already complete, with `resume`). */
  bucketsRun: number;
  /** Bars read from the dataset by this call: every bar of the buckets run, only the new ones for an update. */
  barsRead: number;
  /** What an update changed (with `update`). */
  update?: UpdateSummary;
  elapsedMs: number;
}

/** What `backtest({ update: true })` changed. */
export interface UpdateSummary extends UpdateSummaryBase {
  /** Trades this update closed, or opened and left open. */
  tradesAdded: number;
}

export interface JobFile {
  params: AtcParams;
  /** The strategy formula (absent for the ATC). */
  formula?: string;
  sql: string | null;
  feeBps: number;
  longOnly: boolean;
  files: string[];
  /** How many buckets the job has (`query` names the unfinished ones of an interrupted run). */
  buckets: number;
  /** Each input file's size and modification time when the job started (see `fingerprint.ts`). */
  inputs: InputFingerprint[];
}

export interface BucketMarker {
  bucket: number;
  bars: number;
  symbols: number;
  skipped: number;
  failed: number;
  /** Of this run of the bucket: symbols started afresh, continued with new bars, trades closed or opened. */
  added?: number;
  updated?: number;
  tradesAdded?: number;
  /** Written by the Rust writer, which hashes each file as it writes it. */
  files: FileEntry[];
}

const STATE = '_state';

export async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, `${JSON.stringify(value, null, 2)}\n`);
  await rename(tmp, path);
}

export async function markers(out: string): Promise<Map<number, BucketMarker>> {
  const dir = join(out, STATE);
  const found = new Map<number, BucketMarker>();
  if (!existsSync(dir)) return found;
  for (const f of await readdir(dir)) {
    if (!/^bucket-\d+\.json$/.test(f)) continue;
    const m = JSON.parse(await readFile(join(dir, f), 'utf8')) as BucketMarker;
    found.set(m.bucket, m);
  }
  return found;
}

/** Removes hidden temporary files a killed run left (`.<name>.tmp-<pid>`): they are never read. */
async function removeTemporaries(out: string): Promise<void> {
  for (const dir of ['signals', 'summary', 'trades', '_errors', STATE]) {
    const root = join(out, dir);
    if (!existsSync(root)) continue;
    for (const entry of await readdir(root, { recursive: true })) {
      const name = entry.split('/').pop() ?? '';
      if (/\.tmp-\d+$/.test(name)) await rm(join(root, entry), { force: true });
    }
  }
}

/** Removes what a backtest wrote in `out` (and `out` itself when nothing else is left). */
async function removeOwn(out: string): Promise<void> {
  for (const d of BACKTEST_FILES) await rm(join(out, d), { recursive: true, force: true });
  if (existsSync(out) && (await readdir(out)).length === 0) await rm(out, { recursive: true, force: true });
}

const sameJob = (a: JobFile, b: JobFile) =>
  JSON.stringify({ ...a, inputs: undefined }) === JSON.stringify({ ...b, inputs: undefined });

/**
 * Decides what to do with an existing `out`; returns the finished buckets to keep and
 * whether this run starts the output afresh (so a failure may remove it again).
 */
async function prepareOut(out: string, job: JobFile, opts: BacktestOptions): Promise<{ done: Map<number, BucketMarker>; fresh: boolean }> {
  const jobPath = join(out, STATE, 'job.json');
  const kind = folderKind(out);
  if (opts.resume && kind !== 'missing' && kind !== 'empty') {
    if (kind !== 'backtest' || !existsSync(jobPath)) {
      throw new BarstreamError('BARSTREAM_IO', `cannot resume: ${out} holds no unfinished barstream backtest (${jobPath} is missing)`);
    }
    const previous = JSON.parse(await readFile(jobPath, 'utf8')) as JobFile;
    if (!sameJob(previous, job)) {
      throw invalidParam(`cannot resume: ${out} was written with other parameters, SQL or input files; pass --overwrite to start again`);
    }
    if (!Array.isArray(previous.inputs)) {
      throw invalidParam(`cannot resume: ${out} records no input fingerprints (written by an older barstream); pass --overwrite to start again`);
    }
    const change = inputChange(previous.inputs, job.inputs);
    if (change) throw invalidParam(`cannot resume: ${change} since ${out} was started; pass --overwrite to start again`);
    await removeTemporaries(out);
    return { done: await markers(out), fresh: false };
  }
  if (checkReplace(out, 'backtest', opts.overwrite ?? false, 'pass --resume to finish it or --overwrite to replace it') === 'replace') await removeOwn(out);
  await mkdir(join(out, STATE), { recursive: true });
  await writeJsonAtomic(jobPath, job);
  return { done: new Map(), fresh: true };
}

/**
 * Prepares shard `run` in `out`: with `resume` and this shard's job file there (the same job,
 * inputs unchanged), keeps its finished buckets; otherwise removes whatever an earlier attempt
 * of this shard left in its buckets (files, temporaries, markers) and records the job.
 * Files of other buckets (other shards, maybe running now) are not touched.
 */
async function prepareShard(out: string, job: JobFile, opts: BacktestOptions, run: ShardRun, mine: number[]): Promise<Map<number, BucketMarker>> {
  await run.begin(opts.overwrite ?? false);
  const jobPath = join(out, STATE, `job-${run.shard.index}-of-${run.shard.count}.json`);
  const own = new Set(mine);
  if (opts.resume && existsSync(jobPath)) {
    const previous = JSON.parse(await readFile(jobPath, 'utf8')) as JobFile;
    if (!sameJob(previous, job)) throw invalidParam(`cannot resume shard ${run.shard.index}/${run.shard.count}: ${out} was written with other parameters, SQL or input files; run it without --resume to replace its buckets`);
    const change = inputChange(previous.inputs, job.inputs);
    if (change) throw invalidParam(`cannot resume shard ${run.shard.index}/${run.shard.count}: ${change} since it was started; run it without --resume to replace its buckets`);
    await removeBucketFiles(out, mine, true);
    return new Map([...(await markers(out))].filter(([k]) => own.has(k)));
  }
  await removeBucketFiles(out, mine, false);
  await mkdir(join(out, STATE), { recursive: true });
  await writeJsonAtomic(jobPath, job);
  return new Map();
}

/**
 * Removes the files of `buckets` (or, with `onlyTemporaries`, the temporary files a killed
 * writer left for them): markers first, so no bucket is ever marked finished without its files.
 */
async function removeBucketFiles(out: string, buckets: number[], onlyTemporaries: boolean): Promise<void> {
  // The Rust writer's temporary name of `<name>` is `.<name>.tmp-<pid>`.
  const isTemp = (f: string, name: string) => f.startsWith(`.${name}.tmp-`);
  const listing = new Map<string, string[]>();
  const list = async (dir: string) => {
    if (!listing.has(dir)) listing.set(dir, existsSync(join(out, dir)) ? await readdir(join(out, dir)) : []);
    return listing.get(dir)!;
  };
  for (const k of buckets) {
    if (!onlyTemporaries) await rm(join(out, STATE, `bucket-${k}.json`), { force: true });
    const name = `part-${k}.parquet`;
    for (const dir of ['summary', 'trades', '_errors']) {
      // A bucket's trades: `part-<k>` (closed), `open-<k>` (still open), `part-<k>-<g>` (closed by update g).
      const own = (f: string) => f === name || (dir === 'trades' && (f === `open-${k}.parquet` || new RegExp(`^part-${k}-\\d+\\.parquet$`).test(f)));
      for (const f of await list(dir)) if (isTemp(f, name) || (dir === 'trades' && isTemp(f, `open-${k}.parquet`)) || (!onlyTemporaries && own(f))) await rm(join(out, dir, f), { force: true });
    }
    // The bucket's folders of signals and of per-symbol states (`--update`).
    for (const folder of [join(out, 'signals', `bucket=${k}`), join(out, STATE, 'symbols', `bucket=${k}`)]) {
      if (!onlyTemporaries) await rm(folder, { recursive: true, force: true });
      else if (existsSync(folder)) for (const f of await readdir(folder)) if (isTemp(f, 'part-0.parquet')) await rm(join(folder, f), { force: true });
    }
  }
}

/** Runs the backtest; see `Engine.backtest`. */
export async function backtest(engine: Engine, opts: BacktestOptions): Promise<BacktestResult> {
  const t0 = performance.now();
  if (!opts || typeof opts.out !== 'string' || opts.out === '') throw invalidParam('out must be a folder path');
  if (opts.update) return updateBacktest(engine, opts, t0);
  const feeBps = checkRange('feeBps', opts.feeBps ?? 0, LIMITS.feeBps);
  const symbolTimeoutMs = checkRange('symbolTimeoutMs', opts.symbolTimeoutMs ?? 60_000, LIMITS.symbolTimeoutMs);
  const formula = formulaOf(opts.strategy);
  const params = formula === undefined ? (opts.strategy as AtcParams | undefined) : undefined;
  if (formula === undefined) checkStrategy(params);
  const info = formula === undefined ? undefined : compileFor(formula, 'backtest');
  // A formula backtest reads the formula's fields and the close its returns come from.
  const columns = info === undefined ? ['close'] : FIELDS.filter((f) => f === 'close' || info.fields.includes(f));
  const sharding = opts.shard === undefined ? undefined : resolveShard(opts.shard);
  const out = resolve(opts.out);
  checkNesting(out, engine.inputs, engine.files);
  if (sharding) checkShardFolder(out, 'backtest');
  else folderKind(out);
  const shardRun = sharding && (await ShardRun.start(out, sharding.shard, sharding.scheduler));
  const lock = shardRun ?? (await lockOutput(out, 'backtest'));
  try {
    const plan = (sorted: boolean) => engine.partitions({ sql: opts.sql, columns, sorted });
    // A bad SQL, a missing column or bad parameters stop here, before anything is written.
    const parts = plan(false);
    if (formula === undefined) {
      checkSource(engine.db, opts.sql, parts[0], columns);
      await native(() => addon.atc(new Float64Array(0), params));
    } else {
      checkFormulaFields(engine, opts.sql, columns, 'formula (with the close its returns need)');
    }
    const job: JobFile = {
      params: params ?? {}, formula, sql: opts.sql ?? null, feeBps, longOnly: opts.longOnly ?? false, files: engine.files, buckets: parts.length, inputs: fingerprint(engine.files),
    };
    const shard = shardRun && { run: shardRun, all: parts.map((p) => p.bucket), mine: ofShard(parts, shardRun.shard).map((p) => p.bucket) };
    const { done, fresh } = shard ? { done: await prepareShard(out, job, opts, shard.run, shard.mine), fresh: false } : await prepareOut(out, job, opts);
    try {
      return await run(engine, opts, out, job, done, t0, columns, symbolTimeoutMs, shard);
    } catch (e) {
      // A run that fails as a whole leaves nothing that blocks its rerun; a stopped run keeps
      // its finished buckets for --resume, and so does a failed resume. A shard's rerun
      // replaces its own buckets anyway: they stay for --resume.
      const cancelled = e instanceof BarstreamError && e.code === 'BARSTREAM_CANCELLED';
      if (fresh && !cancelled) await removeOwn(out);
      throw e;
    }
  } finally {
    lock.release();
  }
}

/**
 * The formula of a `{ formula }` strategy, or undefined for ATC parameters; a formula
 * together with ATC parameters is refused, naming them.
 */
export function formulaOf(strategy: BacktestOptions['strategy']): string | undefined {
  if (strategy === null || typeof strategy !== 'object' || !('formula' in strategy)) return undefined;
  const others = Object.keys(strategy).filter((k) => k !== 'formula' && (strategy as unknown as Record<string, unknown>)[k] !== undefined);
  if (others.length > 0) {
    throw invalidParam(`strategy.formula replaces the ATC: ATC parameters (${others.map((k) => `strategy.${k}`).join(', ')}) cannot be given with it`);
  }
  if (typeof strategy.formula !== 'string' || strategy.formula.trim() === '') throw invalidParam('strategy.formula must be non-empty text');
  return strategy.formula;
}

async function run(
  engine: Engine,
  opts: BacktestOptions,
  out: string,
  job: JobFile,
  done: Map<number, BucketMarker>,
  t0: number,
  columns: string[],
  symbolTimeoutMs: number,
  shard?: { run: ShardRun; all: number[]; mine: number[] },
): Promise<BacktestResult> {
  const plan = (sorted: boolean) => ofShard(engine.partitions({ sql: opts.sql, columns, sorted }), shard?.run.shard);
  const own = (found: Map<number, BucketMarker>) => (shard ? new Map([...found].filter(([k]) => shard.mine.includes(k))) : found);
  const todo = (parts: Partition[]) => parts.filter((p) => !done.has(p.bucket));
  let bucketsRun = 0;
  const before = new Set(done.keys());
  const readNow = (found: Map<number, BucketMarker>) => [...found.values()].filter((m) => !before.has(m.bucket)).reduce((s, m) => s + m.bars, 0);
  const { sorted } = await engine.orderFallback(async (order) => {
    const finished = own(await markers(out));
    for (const [k, m] of finished) done.set(k, m);
    const parts = todo(plan(order));
    bucketsRun += parts.length;
    if (parts.length === 0) return;
    await runJob(
      (j) =>
        engine.db.backtest(
          {
            partitions: parts, params: job.formula === undefined ? job.params : undefined, workers: engine.threads, out, feeBps: job.feeBps, longOnly: job.longOnly,
            ...(job.formula !== undefined ? { formula: job.formula } : {}), symbolTimeoutMs,
          } as Parameters<typeof engine.db.backtest>[0],
          j,
        ),
      engine.metadata?.symbols ?? 0,
      opts,
    );
  });
  if (shard) {
    const manifest = makeManifest(engine, job, own(await markers(out)), sorted, performance.now() - t0);
    const record = await shard.run.finish({
      kind: 'backtest',
      parameters: { strategy: manifest.strategy, sql: job.sql },
      dataset: engine.dataset,
      inputs: await inputChecksums(engine),
      allBuckets: shard.all,
      buckets: shard.mine,
      counts: { ...manifest.counts },
      rejectedRows: manifest.counts.rejectedRows,
      sorted,
      files: manifest.files,
    });
    return { out, manifest, shard: record, bucketsRun, barsRead: readNow(own(await markers(out))), elapsedMs: performance.now() - t0 };
  }
  const found = await markers(out);
  const manifest = makeManifest(engine, job, found, sorted, performance.now() - t0);
  if (manifest.counts.bars === 0) throw noBars(job.sql, 'backtest');
  await writeJsonAtomic(join(out, '_manifest.json'), manifest);
  return { out, manifest, bucketsRun, barsRead: readNow(found), elapsedMs: performance.now() - t0 };
}

/** The manifest of the finished buckets `found` (a shard's part may have no bars: `merge` checks the whole). */
export function makeManifest(engine: Engine, job: JobFile, found: Map<number, BucketMarker>, sorted: boolean, elapsedMs: number, generation = 0): Manifest {
  const all = [...found.values()].sort((a, b) => a.bucket - b.bucket);
  const counts: BacktestCounts = { buckets: all.length, bars: 0, symbols: 0, processed: 0, skipped: 0, failed: 0, signalRows: 0, tradeRows: 0, rejectedRows: engine.metadata?.rejectedRows ?? 0 };
  const files: FileEntry[] = [];
  for (const m of all) {
    counts.bars += m.bars;
    counts.symbols += m.symbols;
    counts.skipped += m.skipped;
    counts.failed += m.failed;
    for (const f of m.files) {
      files.push(f);
      if (f.path.startsWith('signals/')) counts.signalRows += f.rows;
      if (f.path.startsWith('summary/')) counts.processed += f.rows;
      if (f.path.startsWith('trades/')) counts.tradeRows += f.rows;
    }
  }
  if (counts.processed + counts.skipped + counts.failed !== counts.symbols) {
    throw new BarstreamError('BARSTREAM_INTERNAL', `symbol counts do not add up: ${JSON.stringify(counts)}`);
  }
  const v = addon.version();
  const input = inputRecord(engine);
  const manifest: Manifest = {
    format: 'barstream-backtest/1',
    barstream: v.barstream,
    duckdb: v.duckdb,
    strategy:
      job.formula === undefined
        ? { name: 'atc', params: job.params, feeBps: job.feeBps, longOnly: job.longOnly }
        : { name: 'formula', formula: job.formula, feeBps: job.feeBps, longOnly: job.longOnly },
    source: { dataset: engine.dataset, sql: job.sql, sorted },
    ...(input ? { input } : {}),
    generation,
    counts,
    files,
    elapsedMs,
    createdAt: new Date().toISOString(),
  };
  return manifest;
}

