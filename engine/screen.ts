/**
 * Screens: a condition formula (see `docs/formulas.md`) evaluated over every symbol of the
 * source, on the Rust pipeline (`engine.db.screen`), reading only the fields the formula
 * names. `latest` lists the symbols whose value is true at their last bar; `all` every bar
 * where it is true, within `from`/`to`. Each match carries its bar and every named value.
 *
 * With `out`, the matches are written as Parquet:
 *
 * - `OUT/matches/bucket=<k>/part-0.parquet`: `symbol, ts, open, high, low, close, volume`,
 *   then one DOUBLE column per named value, named as assigned;
 * - `OUT/_errors/part-<k>.parquet`: `symbol, stage, message` for failed and skipped symbols;
 * - `OUT/_state/symbols/bucket=<k>/part-0.parquet`: each symbol's state (not for a shard),
 *   which `update` continues from (see `screen-update.ts`);
 * - `OUT/_manifest.json` (`barstream-screen/1`): the formula, mode, dates, rank and top,
 *   counts, files with rows, bytes and sha256, the dataset files read and the generation,
 *   written last and atomically: the sign the output is whole.
 *
 * A run that fails as a whole (or is cancelled) removes what it wrote.
 */
import { existsSync } from 'node:fs';
import { mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { FileEntry } from '../datasets/layout.js';
import type { Engine } from './engine.js';
import { BarstreamError, invalidParam } from './errors.js';
import { compileFor, FIELDS, FormulaInfo } from './formula-use.js';
import { JobControl, noBars, runJob } from './jobs.js';
import { checkRange, LIMITS } from './limits.js';
import { addon } from './native.js';
import { checkNesting, checkReplace, checkShardFolder, folderKind, lockOutput, SCREEN_FILES } from './outputs.js';
import { inputChecksums, ofShard, resolveShard, Shard, ShardRecord, ShardRun } from './shard.js';
import { checkSource, Partition } from './partitions.js';
import { query } from './query.js';
import { literal } from './sql.js';
import { microsText, toMicros } from './when.js';
import { InputRecord, inputRecord, UpdateSummaryBase } from './update.js';
import { updateScreen } from './screen-update.js';

export interface ScreenOptions extends JobControl {
  /** The formula; its value must be a condition (see `docs/formulas.md`). */
  formula: string;
  /** Every bar where the value is true (within `from`/`to`), not only each symbol's last bar. */
  all?: boolean;
  /**
   * Matches from this time on (`Date`, `YYYY-MM-DD` or `YYYY-MM-DDTHH:MM[:SS]`, UTC). In
   * `latest` mode a symbol whose last bar is before it does not match. The formula still
   * runs from each symbol's first bar.
   */
  from?: Date | string;
  /**
   * Matches up to this time (a day means its end). In `latest` mode bars after it are not
   * evaluated: the screen as of `to`.
   */
  to?: Date | string;
  /** SQL over `bars` (run per bucket); default every bar. */
  sql?: string;
  /** Sort the matches by this named value, largest first (NaN last). */
  rank?: string;
  /** Keep at most this many matches (after `rank`). */
  top?: number;
  /** Also write the matches, errors and a manifest under this folder. */
  out?: string;
  /** Replace an existing barstream screen output in `out`. */
  overwrite?: boolean;
  /** The time budget of one symbol, in ms (60,000); a symbol over it fails with stage `timeout`. */
  symbolTimeoutMs?: number;
  /**
   * With `out`: screen only shard `index` of `count` (the buckets with `bucket % count ==
   * index`), recorded in `out/_shards/`, or `'auto'` (from the scheduler's environment);
   * `merge` then writes the manifest (see `docs/scale-out.md`).
   */
  shard?: Shard | 'auto';
  /**
   * Continue the finished screen in `out` over only the dataset files it did not read, from
   * each symbol's saved state (see `screen-update.ts`); options left out are the previous run's.
   */
  update?: boolean;
}

export interface ScreenMatch {
  symbol: string;
  ts: Date;
  open: number;
  high: number;
  low: number;
  close: number;
  /** NaN where the source has no such column (a `sql` without it). */
  volume: number;
  /** Every named value of the formula at this bar, by name. */
  values: Record<string, number>;
}

export interface ScreenFailure {
  symbol: string;
  /** `input`: its rows (a duplicate timestamp, a NULL); `formula`: its evaluation; `timeout`: over the budget. */
  stage: 'input' | 'formula' | 'timeout';
  message: string;
}

export interface ScreenResult {
  /** Sorted by `rank` when given, else by symbol and time; cut by `top`. */
  matches: ScreenMatch[];
  /** Symbols evaluated (matched or not). */
  processed: number;
  /** Symbols with at least one match (before `top`). */
  matched: number;
  /** Symbols with too few bars for the formula's warm-up, with the reason. */
  skipped: { symbol: string; reason: string }[];
  failed: ScreenFailure[];
  /** The formula's warm-up: a symbol needs more bars than this. */
  warmup: number;
  /** The formula's named values, in the order assigned. */
  names: string[];
  mode: 'latest' | 'all';
  /** Matching rows before `top` (in `latest` mode the same as `matched`). */
  matchRows: number;
  elapsedMs: number;
  /** True when the source was not in (symbol, ts) order and DuckDB sorted it. */
  sorted: boolean;
  /** With `out`: the manifest written (not for a shard: `merge` writes it). */
  manifest?: ScreenManifest;
  /** For a shard: the record written in `_shards/`. */
  shard?: ShardRecord;
  /** Bars read from the dataset by this call: every bar for a full run, only the new ones for an update. */
  barsRead: number;
  /** What an update changed (with `update`). */
  update?: ScreenUpdateSummary;
}

/** What `screen({ update: true })` changed. */
export interface ScreenUpdateSummary extends UpdateSummaryBase {
  /** Match rows after the update. */
  matches: number;
}

export interface ScreenManifest {
  format: 'barstream-screen/1';
  barstream: string;
  duckdb: string;
  formula: string;
  names: string[];
  warmup: number;
  mode: 'latest' | 'all';
  from: string | null;
  to: string | null;
  source: { dataset: string; sql: string | null; sorted: boolean };
  counts: { symbols: number; processed: number; matched: number; skipped: number; failed: number; matchRows: number };
  files: FileEntry[];
  /** `rank` and `top` as given (an update compares them). */
  rank?: string | null;
  top?: number | null;
  /** The dataset files read (absent when the input is not one canonical dataset); see `update.ts`. */
  input?: InputRecord;
  /** 0 for a full run, + 1 per update that read new files. */
  generation?: number;
  elapsedMs: number;
  createdAt: string;
}

/** `engine.db.screen`'s options and result (the napi job of `kernels/src/napi`). @internal */
export interface NativeScreenOptions {
  partitions: Partition[];
  formula: string;
  mode: 'latest' | 'all';
  from?: number;
  to?: number;
  symbolTimeoutMs: number;
  sourceColumns: string[];
  /** Columns the partitions return after the formula's fields, read into the matches as they are. */
  carriedColumns?: string[];
  workers?: number;
  out?: string;
  everySymbol?: boolean;
  /** Without `out`: the most matches held; one more stops the screen with an error at once. */
  maxMatches?: number;
  /** Save each symbol's state under this folder (`_state/symbols/bucket=<k>/part-0.parquet`). */
  stateOut?: string;
  /** The part number of `all` mode's matches files (an update's generation). */
  matchesPart?: number;
  /** An update: per partition, the previous run's state files and `_errors` file. */
  carried?: { states: string[]; errors?: string }[];
}

/** @internal */
export interface NativeScreenResult {
  names: string[];
  warmup: number;
  kind: string;
  matches: { symbol: string; ts: number; open: number; high: number; low: number; close: number; volume: number; values: number[] }[];
  /** With `everySymbol`: every processed symbol's last evaluated bar, its value, bars, and bars with value > 0 and < 0. */
  symbols?: {
    symbol: string;
    ts: number;
    open: number;
    high: number;
    low: number;
    close: number;
    volume: number;
    values: number[];
    value: number;
    bars: number;
    positive: number;
    negative: number;
    matched: boolean;
  }[];
  processed: number;
  matched: number;
  skipped: { symbol: string; reason: string }[];
  failed: ScreenFailure[];
  files: FileEntry[];
  stateFiles: FileEntry[];
  barsRead: number;
}

interface ScreenDb {
  screen(opts: NativeScreenOptions, job: unknown): Promise<unknown>;
}

/** The checked options of a screen run. */
export interface Plan {
  formula: string;
  info: FormulaInfo;
  mode: 'latest' | 'all';
  from?: number;
  to?: number;
  symbolTimeoutMs: number;
  sourceColumns: string[];
}

/**
 * The OHLCV columns a job's source has: every one without `sql`; those the SQL returns
 * otherwise (its own errors are told by `checkSource`, which runs first).
 */
export function sourceFields(engine: Engine, sql: string | undefined): string[] {
  if (sql === undefined) return [...FIELDS];
  checkSource(engine.db, sql, engine.partitions({ sql, columns: [], sorted: false })[0], []);
  const have = new Set(engine.sourceColumns(sql));
  return FIELDS.filter((f) => have.has(f));
}

/**
 * Checks that the source gives every field the formula reads, before anything runs or is
 * written; the error names the missing column.
 * @throws BarstreamError `BARSTREAM_BAD_INPUT`.
 */
export function checkFormulaFields(engine: Engine, sql: string | undefined, fields: string[], what: string): string[] {
  const have = sourceFields(engine, sql);
  const missing = fields.filter((f) => !have.includes(f));
  if (missing.length > 0) {
    const plural = missing.length > 1 ? 's' : '';
    throw new BarstreamError(
      'BARSTREAM_BAD_INPUT',
      `the ${what} reads column${plural} ${missing.join(', ')}, which the SQL source lacks (it gives ${['symbol', 'ts', ...have].join(', ')})`,
    );
  }
  const noVolume = sql === undefined ? (engine.metadata?.noVolume ?? []) : [];
  if (fields.includes('volume') && noVolume.length > 0) {
    throw new BarstreamError(
      'BARSTREAM_BAD_INPUT',
      `the ${what} reads volume, which dataset ${noVolume.join(', ')} lacks (its metadata.json says volume: false: ingested from a source without volume)`,
    );
  }
  checkSource(engine.db, undefined, engine.partitions({ sql, columns: fields, sorted: false })[0], fields);
  return have;
}

export function plan(engine: Engine, opts: ScreenOptions): Plan {
  if (!opts || typeof opts !== 'object') throw invalidParam('screen needs options: { formula, ... }');
  if (opts.top !== undefined) checkRange('top', opts.top, LIMITS.top);
  const symbolTimeoutMs = checkRange('symbolTimeoutMs', opts.symbolTimeoutMs ?? 60_000, LIMITS.symbolTimeoutMs);
  const from = opts.from === undefined ? undefined : toMicros('from', opts.from, 'start');
  const to = opts.to === undefined ? undefined : toMicros('to', opts.to, 'end');
  if (from !== undefined && to !== undefined && from > to) throw invalidParam(`from (${microsText(from)}) is after to (${microsText(to)})`);
  const info = compileFor(opts.formula, 'screen');
  if (opts.rank !== undefined && !info.names.includes(opts.rank)) {
    const names = info.names.length > 0 ? `the formula's named values are ${info.names.join(', ')}` : 'the formula assigns no names (assign one, e.g. `r = rsi(close, 14)`)';
    throw invalidParam(`rank '${opts.rank}' is not a named value of the formula: ${names}`);
  }
  const sourceColumns = checkFormulaFields(engine, opts.sql, info.fields, 'formula');
  return { formula: opts.formula, info, mode: opts.all ? 'all' : 'latest', from, to, symbolTimeoutMs, sourceColumns };
}

/** Runs a screen; see `Engine.screen`. */
export async function screen(engine: Engine, opts: ScreenOptions): Promise<ScreenResult> {
  if (opts?.update) return updateScreen(engine, opts);
  const t0 = performance.now();
  const p = plan(engine, opts);
  if (opts.shard !== undefined) return screenShard(engine, opts, p, t0);
  if (opts.out === undefined) return compute(engine, opts, p, undefined, t0);
  if (typeof opts.out !== 'string' || opts.out === '') throw invalidParam('out must be a folder path');
  const out = resolve(opts.out);
  checkNesting(out, engine.inputs, engine.files);
  folderKind(out);
  const lock = await lockOutput(out, 'screen');
  try {
    if (checkReplace(out, 'screen', opts.overwrite ?? false) === 'replace') await removeOwn(out);
    await mkdir(out, { recursive: true });
    try {
      return await compute(engine, opts, p, out, t0);
    } catch (e) {
      await removeOwn(out);
      throw e;
    }
  } finally {
    lock.release();
  }
}

/** A shard of a screen: its buckets' matches and errors under `out`, then its record. */
async function screenShard(engine: Engine, opts: ScreenOptions, p: Plan, t0: number): Promise<ScreenResult> {
  if (typeof opts.out !== 'string' || opts.out === '') throw invalidParam('a screen shard writes its part of the result: give out (--out) with shard');
  const { shard, scheduler } = resolveShard(opts.shard!);
  const out = resolve(opts.out);
  checkNesting(out, engine.inputs, engine.files);
  checkShardFolder(out, 'screen');
  const run = await ShardRun.start(out, shard, scheduler);
  try {
    await run.begin(opts.overwrite ?? false);
    const all = engine.partitions({ sql: opts.sql, columns: p.info.fields, sorted: false }).map((x) => x.bucket);
    const mine = ofShard(all.map((bucket) => ({ bucket })), shard).map((x) => x.bucket);
    return await compute(engine, opts, p, out, t0, { run, all, mine });
  } finally {
    run.release();
  }
}

/** Removes a shard's buckets' files (and the temporaries a killed writer left for them). */
async function removeBuckets(out: string, buckets: number[]): Promise<void> {
  const errors = existsSync(join(out, '_errors')) ? await readdir(join(out, '_errors')) : [];
  for (const k of buckets) {
    await rm(join(out, 'matches', `bucket=${k}`), { recursive: true, force: true });
    const name = `part-${k}.parquet`;
    for (const f of errors) if (f === name || f.startsWith(`.${name}.tmp-`)) await rm(join(out, '_errors', f), { force: true });
  }
}

/** Removes what a screen wrote in `out` (and `out` itself when nothing else is left). */
async function removeOwn(out: string): Promise<void> {
  for (const f of SCREEN_FILES) await rm(join(out, f), { recursive: true, force: true });
  if (existsSync(out) && (await readdir(out)).length === 0) await rm(out, { recursive: true, force: true });
}

/** Runs the native screen in file order, again sorted when the source is not in (symbol, ts) order. */
export async function runScreen(
  engine: Engine,
  sql: string | undefined,
  p: Plan,
  ctl: JobControl,
  extra: {
    out?: string;
    everySymbol?: boolean;
    shard?: { shard: Shard; mine: number[] };
    /** An update's partitions (over its new files) and what each continues from. */
    update?: { partitions: (sorted: boolean, carried: string[]) => Partition[]; carried: (parts: Partition[]) => NativeScreenOptions['carried']; matchesPart: number };
  } = {},
) {
  const db = engine.db as unknown as ScreenDb;
  // With `all`, most buckets have matches: reading their other OHLCV columns with the bars
  // costs less than the fill's second scan of the source (latest mode fills its few rows).
  // So with saved states, whose every symbol keeps its last bar whole (a whole output's run
  // or update, not a shard's).
  const saving = extra.out !== undefined && !extra.shard;
  // A dataset ingested without volume holds NULL there, which the read would take for bad
  // input: its volume is left to the fill (NaN).
  const noVolume = sql === undefined && (engine.metadata?.noVolume ?? []).length > 0;
  const carried = p.mode === 'all' || saving ? p.sourceColumns.filter((c) => !p.info.fields.includes(c) && !(noVolume && c === 'volume')) : [];
  return engine.orderFallback(async (order) => {
    // A first attempt that met unordered bars may have written some buckets (and a shard's
    // earlier attempt its own): start clean. A shard touches only its buckets.
    if (extra.out !== undefined && extra.shard) await removeBuckets(extra.out, extra.shard.mine);
    else if (extra.out !== undefined) for (const f of ['matches', '_errors', '_state']) await rm(join(extra.out, f), { recursive: true, force: true });
    const partitions = extra.update
      ? extra.update.partitions(order, carried)
      : ofShard(engine.partitions({ sql, columns: [...p.info.fields, ...carried], sorted: order }), extra.shard?.shard);
    // Every symbol's state is saved with a whole run's output (a shard's is merged, and cannot be updated).
    const states = saving ? { stateOut: extra.out } : {};
    return runJob<NativeScreenResult>(
      (job) =>
        db.screen(
          {
            partitions,
            ...states,
            ...(extra.update ? { carried: extra.update.carried(partitions), matchesPart: extra.update.matchesPart } : {}),
            formula: p.formula,
            mode: p.mode,
            ...(p.from !== undefined ? { from: p.from } : {}),
            ...(p.to !== undefined ? { to: p.to } : {}),
            symbolTimeoutMs: p.symbolTimeoutMs,
            sourceColumns: p.sourceColumns,
            carriedColumns: carried,
            workers: engine.threads,
            ...(extra.out !== undefined ? { out: extra.out } : {}),
            ...(extra.everySymbol ? { everySymbol: true } : {}),
            maxMatches: maxMatchesInMemory(),
          },
          job,
        ),
      engine.metadata?.symbols ?? 0,
      ctl,
    );
  });
}

async function compute(
  engine: Engine,
  opts: ScreenOptions,
  p: Plan,
  out: string | undefined,
  t0: number,
  shard?: { run: ShardRun; all: number[]; mine: number[] },
): Promise<ScreenResult> {
  const { result: r, sorted } = await runScreen(engine, opts.sql, p, opts, { out, ...(shard ? { shard: { shard: shard.run.shard, mine: shard.mine } } : {}) });
  // A shard may hold no symbols (more shards than buckets): `merge` checks the whole.
  if (!shard && r.processed + r.skipped.length + r.failed.length === 0) throw noBars(opts.sql, 'screen');
  const names = r.names;
  let matches: ScreenMatch[];
  let matchRows: number;
  let manifest: ScreenManifest | undefined;
  let record: ShardRecord | undefined;
  if (out !== undefined && shard) {
    matchRows = r.files.filter((f) => f.path.startsWith('matches/')).reduce((n, f) => n + f.rows, 0);
    const part = makeManifest(engine, opts, p, r, sorted, matchRows, performance.now() - t0);
    record = await shard.run.finish({
      kind: 'screen',
      parameters: { formula: part.formula, names: part.names, warmup: part.warmup, mode: part.mode, from: part.from, to: part.to, sql: part.source.sql },
      dataset: engine.dataset,
      inputs: await inputChecksums(engine),
      allBuckets: shard.all,
      buckets: shard.mine,
      counts: part.counts,
      rejectedRows: engine.metadata?.rejectedRows ?? 0,
      sorted,
      files: part.files,
    });
    matches = await readMatches(out, names, opts.rank, opts.top, part.files.filter((f) => f.path.startsWith('matches/')).map((f) => f.path));
  } else if (out === undefined) {
    matches = r.matches.map((m) => ({
      symbol: m.symbol,
      ts: new Date(m.ts / 1000),
      open: m.open,
      high: m.high,
      low: m.low,
      close: m.close,
      volume: m.volume,
      values: Object.fromEntries(names.map((n, i) => [n, m.values[i]])),
    }));
    matchRows = matches.length;
    matches = order(matches, opts.rank, opts.top);
  } else {
    matchRows = r.files.filter((f) => f.path.startsWith('matches/')).reduce((n, f) => n + f.rows, 0);
    manifest = await writeManifest(engine, out, opts, p, r, sorted, matchRows, performance.now() - t0);
    matches = await readMatches(out, names, opts.rank, opts.top);
  }
  return {
    matches,
    processed: r.processed,
    matched: r.matched,
    skipped: r.skipped,
    failed: r.failed,
    warmup: r.warmup,
    names,
    mode: p.mode,
    matchRows,
    elapsedMs: performance.now() - t0,
    sorted,
    manifest,
    ...(record ? { shard: record } : {}),
    barsRead: r.barsRead,
  };
}

/** Largest `rank` first (NaN last), then symbol and time; at most `top`. */
function order(matches: ScreenMatch[], rank: string | undefined, top: number | undefined): ScreenMatch[] {
  const key = (m: ScreenMatch) => {
    const v = rank === undefined ? NaN : m.values[rank];
    return Number.isNaN(v) ? -Infinity : v;
  };
  const sorted = matches.sort(
    (a, b) =>
      // NaN - NaN is NaN, which is falsy: ties fall through to the symbol and the time.
      (rank === undefined ? 0 : key(b) - key(a)) || (a.symbol < b.symbol ? -1 : a.symbol > b.symbol ? 1 : 0) || a.ts.getTime() - b.ts.getTime(),
  );
  return top === undefined ? sorted : sorted.slice(0, top);
}

/** The most matches held in a result (the files under `out` hold them all; `matchRows` counts them). */
export const MAX_MATCHES_IN_MEMORY = 1_000_000;

/**
 * The most matches a screen holds in memory: `MAX_MATCHES_IN_MEMORY`, or the environment's
 * `BARSTREAM_MAX_MATCHES` (an operations and test knob: a smaller or larger bound).
 * @throws BarstreamError `BARSTREAM_INVALID_PARAM` when the variable is not a positive integer.
 */
export function maxMatchesInMemory(): number {
  const v = process.env.BARSTREAM_MAX_MATCHES;
  if (v === undefined || v === '') return MAX_MATCHES_IN_MEMORY;
  if (!/^[1-9][0-9]{0,14}$/.test(v)) throw invalidParam(`BARSTREAM_MAX_MATCHES must be a positive integer, got '${v}'`);
  return Number(v);
}

/** The matches written under `out`, read back in the same order as without `out`. */
export async function readMatches(out: string, names: string[], rank: string | undefined, top: number | undefined, only?: string[]): Promise<ScreenMatch[]> {
  // A shard reads only its own files: other shards may be writing theirs now.
  const glob = only === undefined ? literal(join(out, 'matches', 'bucket=*', '*.parquet')) : `[${only.map((f) => literal(join(out, f))).join(', ')}]`;
  if (only === undefined ? (await readdir(join(out, 'matches')).catch(() => [])).length === 0 : only.length === 0) return [];
  const quote = (n: string) => `"${n}"`;
  const by = rank === undefined ? '' : `${quote(rank)} DESC NULLS LAST, `;
  const sql =
    `SELECT symbol, epoch_us(ts) AS ts, open, high, low, close, volume${names.map((n) => `, ${quote(n)}`).join('')} ` +
    `FROM read_parquet(${glob}, hive_partitioning = false) ORDER BY ${by}symbol, ts LIMIT ${Math.min(top ?? Infinity, maxMatchesInMemory())}`;
  const t = await query(sql);
  const col = (name: string) => t.getChild(name)!;
  const num = (name: string, i: number) => {
    const v = col(name).get(i);
    return v === null || v === undefined ? NaN : Number(v);
  };
  const rows: ScreenMatch[] = [];
  for (let i = 0; i < t.numRows; i++) {
    rows.push({
      symbol: String(col('symbol').get(i)),
      ts: new Date(Number(col('ts').get(i)) / 1000),
      open: num('open', i),
      high: num('high', i),
      low: num('low', i),
      close: num('close', i),
      volume: num('volume', i),
      values: Object.fromEntries(names.map((n) => [n, num(n, i)])),
    });
  }
  return rows;
}

/** The manifest of a screen's result `r` (for a shard, of its part). */
export function makeManifest(engine: Engine, opts: ScreenOptions, p: Plan, r: NativeScreenResult, sorted: boolean, matchRows: number, elapsedMs: number): ScreenManifest {
  const v = addon.version();
  return {
    format: 'barstream-screen/1',
    barstream: v.barstream,
    duckdb: v.duckdb,
    formula: p.formula,
    names: r.names,
    warmup: r.warmup,
    mode: p.mode,
    from: p.from === undefined ? null : microsText(p.from),
    to: p.to === undefined ? null : microsText(p.to),
    source: { dataset: engine.dataset, sql: opts.sql ?? null, sorted },
    counts: {
      symbols: r.processed + r.skipped.length + r.failed.length,
      processed: r.processed,
      matched: r.matched,
      skipped: r.skipped.length,
      failed: r.failed.length,
      matchRows,
    },
    files: [...r.files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)),
    rank: opts.rank ?? null,
    top: opts.top ?? null,
    ...(() => {
      const input = inputRecord(engine);
      return input ? { input, generation: 0 } : {};
    })(),
    elapsedMs,
    createdAt: new Date().toISOString(),
  };
}

async function writeManifest(
  engine: Engine,
  out: string,
  opts: ScreenOptions,
  p: Plan,
  r: NativeScreenResult,
  sorted: boolean,
  matchRows: number,
  elapsedMs: number,
): Promise<ScreenManifest> {
  const manifest = makeManifest(engine, opts, p, r, sorted, matchRows, elapsedMs);
  const tmp = join(out, `._manifest.json.tmp-${process.pid}`);
  await writeFile(tmp, `${JSON.stringify(manifest, null, 2)}\n`);
  await rename(tmp, join(out, '_manifest.json'));
  return manifest;
}
