/**
 * `--update` (issue 11 item 3), the part every job shares: what the previous run in an output
 * folder read, what it must not have changed since, which dataset files are new, the
 * partitions over only those, the next generation, and the commit protocol that makes an
 * update all or nothing for readers.
 *
 * **Input record.** Every run over one canonical dataset records in its manifest
 * `input: { dataset, generation, files: [{ path, sha256, rows, generation }] }` (paths
 * relative to the dataset, sha256 as its `metadata.json` lists them: no file is hashed
 * again) and `generation` of its results (0 for a full run, + 1 per update that read new
 * files). An update reads only the files its dataset lists now and the record lacks.
 *
 * **Refusals** (one line, naming the cause): `update` with `resume`, `overwrite` or `shard`;
 * an output that is not a finished run of the same kind (no `_manifest.json`: incomplete,
 * or shards not merged); a run that records no input (a full run over inputs other than one
 * canonical dataset with `metadata.json`, a merged sharded run, an older barstream); an
 * engine opened on another dataset folder; a file the previous run read that is no longer
 * listed, is missing, or whose checksum or size changed (re-ingested rather than appended);
 * an option given that differs from the previous run's (see {@link resolveOptions}).
 *
 * **Commit protocol.** Readers use glob views over the live folders, so an update's files
 * appear there only once the update is decided:
 * 1. every new or rewritten file is written under `OUT/_staging/g<g>/` with OUT's layout
 *    (`signals/bucket=<k>/part-<g>.parquet`, `summary/part-<k>.parquet`, ...);
 * 2. `OUT/_staging/g<g>/_commit.json` lists the moves and the new manifest (written under a
 *    temporary name and renamed): from then on the update is decided;
 * 3. each file is renamed into place (a rewritten table replaces the old one by rename,
 *    atomic per file), `_manifest.json` is replaced (atomically) and the staging folder
 *    removed.
 * Whoever next opens the output (an update, `query`, `report`, `merge`) first rolls a
 * decided update forward ({@link rollForward}, idempotent); an undecided staging folder is
 * discarded by the next update ({@link discardStaging}). Tests stop a run at the points
 * `update-staged`, `update-decided` and `update-moved` (see `test-points.ts`).
 *
 * **The backtest's layout after updates** (see `backtest-update.ts`): signals are appended as
 * `signals/bucket=<k>/part-<g>.parquet` (the bars of generation g's new files) and the trades
 * generation g closed as `trades/part-<k>-<g>.parquet`; the small per-bucket tables of every
 * bucket that had new bars are rewritten whole under their names (`summary/part-<k>.parquet`,
 * `trades/open-<k>.parquet`, `_errors/part-<k>.parquet`, `_state/symbols/bucket=<k>/part-0.parquet`);
 * buckets without new bars keep their files.
 */
import { existsSync, realpathSync, statSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { SourceFile } from '../datasets/inputs.js';
import { readDatasetMeta } from '../datasets/dataset-info.js';
import type { Engine } from './engine.js';
import { BarstreamError, invalidParam } from './errors.js';
import { folderKind } from './outputs.js';
import { Partition, planPartitions, readsBars } from './partitions.js';
import { pauseAt } from './test-points.js';

/** What an update changed, for every kind of job (`backtest`, `scan`, `screen` with `update: true`). */
export interface UpdateSummaryBase {
  /** The results' generation now (unchanged when there was nothing new). */
  generation: number;
  /** The dataset files read, relative to the dataset. */
  newFiles: string[];
  barsRead: number;
  /** Symbols seen for the first time. */
  symbolsAdded: number;
  /** Symbols continued from their saved state with new bars. */
  symbolsUpdated: number;
  /** New rows of the job's per-bar table (signals, matches of `all`; 0 where rows are listed again). */
  rowsAdded: number;
}

/** One dataset file a run read. */
export interface InputFileRecord {
  /** Relative to the dataset folder. */
  path: string;
  sha256: string;
  rows: number;
  /** The dataset generation that wrote it (0: the first ingest). */
  generation: number;
}

/** What a run read: one canonical dataset, at a generation, these files. */
export interface InputRecord {
  /** The dataset folder, absolute. */
  dataset: string;
  generation: number;
  files: InputFileRecord[];
}

/** The finished run found in an output folder, as an update starts from it. */
export interface PreviousRun {
  out: string;
  kind: 'backtest' | 'scan' | 'screen';
  /** Its `_manifest.json`, parsed. */
  manifest: Record<string, unknown>;
  input: InputRecord;
  /** The generation of its results (0 after a full run). */
  generation: number;
}

/** The files of an update: the dataset's files the previous run did not read. */
export interface NewInput {
  /** The input record of this run (previous files and the new ones). */
  input: InputRecord;
  /** The new files, as the engine's sources (for {@link updatePartitions}). */
  files: SourceFile[];
  /** Their paths relative to the dataset, in read order. */
  paths: string[];
  /** Bars in the new files (from `metadata.json`). */
  rows: number;
}

export const STAGING = '_staging';
const COMMIT = '_commit.json';

const realOf = (p: string): string => {
  try {
    return realpathSync(p);
  } catch {
    return resolve(p);
  }
};

/**
 * The input record of a run over `engine`, or undefined when the engine does not read one
 * canonical dataset whose `metadata.json` lists its files with checksums (such a run cannot
 * be updated later).
 * @example
 * const input = inputRecord(engine); // into the manifest
 */
export function inputRecord(engine: Engine): InputRecord | undefined {
  if (engine.inputs.length !== 1) return undefined;
  const dataset = resolve(engine.inputs[0]);
  const meta = readDatasetMeta(dataset) as { generation?: number; files?: { path: string; sha256?: string; rows?: number; generation?: number }[] } | undefined;
  if (!meta || !Array.isArray(meta.files)) return undefined;
  const listed = new Map(meta.files.map((f) => [resolve(dataset, f.path), f]));
  const files: InputFileRecord[] = [];
  for (const path of engine.files) {
    const f = listed.get(resolve(path));
    if (!f || typeof f.sha256 !== 'string') return undefined;
    files.push({ path: f.path, sha256: f.sha256, rows: Number(f.rows) || 0, generation: Number(f.generation) || 0 });
  }
  return { dataset, generation: Number(meta.generation) || 0, files };
}

/**
 * Refuses `update` together with `resume`, `overwrite` or `shard`.
 * @throws BarstreamError `BARSTREAM_INVALID_PARAM` naming the option.
 */
export function checkUpdateFlags(opts: { update?: boolean; resume?: boolean; overwrite?: boolean; shard?: unknown }): void {
  if (!opts.update) return;
  for (const name of ['resume', 'overwrite', 'shard'] as const) {
    if (opts[name] !== undefined && opts[name] !== false) throw invalidParam(`update cannot be combined with ${name}: an update continues the finished run in the output folder`);
  }
}

/**
 * The finished run of `kind` in `out` that an update continues, after rolling a decided
 * update forward ({@link rollForward}) and discarding an undecided one ({@link discardStaging});
 * call it holding the output's lock.
 * @throws BarstreamError `BARSTREAM_IO` when `out` holds no such output, `BARSTREAM_INVALID_PARAM`
 * when that run is incomplete, sharded and not merged, or records no input.
 */
export async function readPreviousRun(out: string, kind: PreviousRun['kind']): Promise<PreviousRun> {
  // Under the output's lock: a decided update is completed, an undecided one discarded.
  await rollForward(out);
  await discardStaging(out);
  const dir = resolve(out);
  const found = folderKind(dir);
  if (found !== kind) {
    const what = found === 'missing' || found === 'empty' ? 'nothing' : found === 'foreign' ? 'files barstream did not write' : found === 'dataset' ? 'a barstream dataset' : `a barstream ${found} output`;
    throw new BarstreamError('BARSTREAM_IO', `cannot update ${out}: it holds ${what}, not a finished ${kind}; run the ${kind} in full first`);
  }
  const path = join(dir, '_manifest.json');
  if (!existsSync(path)) {
    if (existsSync(join(dir, '_shards'))) throw invalidParam(`cannot update ${out}: its shards are not merged (no _manifest.json); run barstream merge first`);
    throw invalidParam(`cannot update ${out}: the previous ${kind} is incomplete (no _manifest.json); finish it with --resume or run it again with --overwrite`);
  }
  let manifest: Record<string, unknown>;
  try {
    manifest = JSON.parse(await readFile(path, 'utf8'));
  } catch (e) {
    throw new BarstreamError('BARSTREAM_IO', `cannot update ${out}: ${path} is not readable JSON`, { cause: e });
  }
  const input = manifest.input as InputRecord | undefined;
  if (!input || typeof input.dataset !== 'string' || !Array.isArray(input.files)) {
    throw invalidParam(
      `cannot update ${out}: its manifest records no input files (a run over inputs other than one canonical dataset, a merged sharded run, or an older barstream); run it again with --overwrite`,
    );
  }
  return { out: dir, kind, manifest, input, generation: Number(manifest.generation) || 0 };
}

/**
 * Checks that `engine` reads the dataset the previous run read, and that every file that
 * run read is still listed, present and unchanged; returns the new files.
 * @throws BarstreamError `BARSTREAM_INVALID_PARAM` naming both datasets, or the file that
 * changed or vanished.
 */
export function newInput(engine: Engine, prev: PreviousRun): NewInput {
  const now = inputRecord(engine);
  const here = engine.inputs.length === 1 ? realOf(engine.inputs[0]) : engine.dataset;
  if (engine.inputs.length !== 1 || here !== realOf(prev.input.dataset)) {
    throw invalidParam(`cannot update ${prev.out}: it was computed from dataset ${prev.input.dataset}, the engine reads ${engine.dataset}; open the engine on ${prev.input.dataset}`);
  }
  if (!now) throw invalidParam(`cannot update ${prev.out}: dataset ${engine.dataset} has no metadata.json listing its files with checksums`);
  const listed = new Map(now.files.map((f) => [f.path, f]));
  const meta = readDatasetMeta(prev.input.dataset) as { files?: { path: string; bytes?: number }[] } | undefined;
  const bytes = new Map((meta?.files ?? []).map((f) => [f.path, f.bytes]));
  const again = 'it was re-ingested rather than appended to; run the job again with --overwrite';
  for (const f of prev.input.files) {
    const abs = join(prev.input.dataset, f.path);
    const cur = listed.get(f.path);
    if (!cur || !existsSync(abs)) throw invalidParam(`cannot update ${prev.out}: dataset file ${abs}, read by the previous run, has vanished (${again})`);
    const size = statSync(abs).size;
    if (cur.sha256 !== f.sha256 || (bytes.get(f.path) !== undefined && bytes.get(f.path) !== size)) {
      throw invalidParam(`cannot update ${prev.out}: dataset file ${abs}, read by the previous run, has changed (${again})`);
    }
  }
  const known = new Set(prev.input.files.map((f) => f.path));
  const fresh = now.files.filter((f) => !known.has(f.path));
  const freshAbs = new Set(fresh.map((f) => resolve(prev.input.dataset, f.path)));
  return {
    input: now,
    files: engine.sources.filter((f) => freshAbs.has(resolve(f.path))),
    paths: fresh.map((f) => f.path),
    rows: fresh.reduce((s, f) => s + f.rows, 0),
  };
}

/**
 * The partitions of an update: the job's query over only the new files, one per bucket that
 * has new files (a symbol's new bars may span several new parts of its bucket: those
 * partitions are read sorted, see `partitionSources`). SQL that does not read `bars` cannot
 * be restricted to new files and is refused.
 * @throws BarstreamError `BARSTREAM_INVALID_PARAM` for such SQL.
 */
export function updatePartitions(files: SourceFile[], opts: { sql?: string; columns: string[]; sorted: boolean }): Partition[] {
  if (opts.sql !== undefined && !readsBars(opts.sql)) throw invalidParam('cannot update: the SQL source does not read bars, so it cannot be restricted to the new files');
  if (files.length === 0) return [];
  return planPartitions(files, opts);
}

/** JSON with keys sorted, so equal options compare equal whatever their key order. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o).filter((k) => o[k] !== undefined).sort().map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`).join(',')}}`;
  }
  return JSON.stringify(v ?? null);
}

/**
 * The options of an update: each option of `previous` (the previous run's, as it recorded
 * them, defaults applied) that `given` leaves out is taken from it; one given with another
 * value is refused. `names` maps option keys to how the user names them (e.g.
 * `{ feeBps: 'feeBps (--fee-bps)' }`).
 * @throws BarstreamError `BARSTREAM_INVALID_PARAM` naming the option and both values.
 * @example
 * const o = resolveOptions(out, { feeBps: opts.feeBps }, { feeBps: 0 }, { feeBps: 'feeBps (--fee-bps)' });
 */
export function resolveOptions<T extends Record<string, unknown>>(out: string, given: Partial<T>, previous: T, names: Partial<Record<keyof T, string>> = {}): T {
  const merged = { ...previous };
  for (const key of Object.keys(previous) as (keyof T)[]) {
    const v = given[key];
    if (v === undefined) continue;
    if (canonical(v) !== canonical(previous[key])) {
      const name = names[key] ?? String(key);
      const why = previous[key] === undefined ? 'was not given to the previous run' : `differs from the previous run's ${canonical(previous[key])}`;
      throw invalidParam(`cannot update ${out}: ${name} ${canonical(v)} ${why}; leave it out to keep the previous run's, or run again with --overwrite`);
    }
    merged[key] = v as T[keyof T];
  }
  return merged;
}

/** The staging folder of generation `g`: `OUT/_staging/g<g>`. */
export function stagingFolder(out: string, generation: number): string {
  return join(resolve(out), STAGING, `g${generation}`);
}

/** What `_commit.json` holds: the decided update. */
export interface CommitRecord {
  generation: number;
  /** Files relative to the staging folder, each renamed to the same path under OUT. */
  moves: string[];
  /** Files relative to OUT removed after the moves (none for the backtest). */
  removes?: string[];
  /** The new `_manifest.json`. */
  manifest: unknown;
}

async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  const tmp = join(dirname(path), `.${path.split('/').pop()}.tmp-${process.pid}`);
  await writeFile(tmp, `${JSON.stringify(value, null, 2)}\n`);
  await rename(tmp, path);
}

/**
 * The staging folders of `out`, by generation; none unless `out` is a barstream job output
 * (a `_staging/` folder elsewhere is not barstream's to move or delete).
 */
async function stagings(out: string): Promise<{ dir: string; generation: number }[]> {
  const root = join(resolve(out), STAGING);
  if (!existsSync(root)) return [];
  if (!['backtest', 'scan', 'screen'].includes(folderKind(resolve(out)))) return [];
  const found: { dir: string; generation: number }[] = [];
  for (const name of await readdir(root)) {
    const m = /^g(\d+)$/.exec(name);
    if (m) found.push({ dir: join(root, name), generation: Number(m[1]) });
  }
  return found.sort((a, b) => a.generation - b.generation);
}

/**
 * Completes every decided update in `out` (a staging folder with `_commit.json`): moves its
 * files into place, writes its manifest, removes the folder. Idempotent: a move already made
 * is skipped, so a run killed half-way (or two readers at once) completes it. Returns the
 * generations rolled forward.
 * @example
 * await rollForward('results/run1'); // before reading the results
 */
export async function rollForward(out: string): Promise<number[]> {
  const dir = resolve(out);
  const done: number[] = [];
  for (const s of await stagings(dir)) {
    const path = join(s.dir, COMMIT);
    if (!existsSync(path)) continue;
    let record: CommitRecord;
    try {
      record = JSON.parse(await readFile(path, 'utf8')) as CommitRecord;
    } catch (e) {
      // Written by rename, so it is whole unless gone meanwhile (another process rolled it forward).
      if (!existsSync(path)) continue;
      throw new BarstreamError('BARSTREAM_IO', `cannot complete the update of ${out}: ${path} is not readable JSON`, { cause: e });
    }
    for (const rel of record.moves) {
      const src = join(s.dir, rel);
      if (!existsSync(src)) continue;
      await mkdir(dirname(join(dir, rel)), { recursive: true });
      try {
        await rename(src, join(dir, rel));
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      }
    }
    for (const rel of record.removes ?? []) await rm(join(dir, rel), { force: true });
    await pauseAt('update-moved');
    await writeJsonAtomic(join(dir, '_manifest.json'), record.manifest);
    await rm(s.dir, { recursive: true, force: true });
    done.push(record.generation);
  }
  await removeEmptyStaging(dir);
  return done;
}

/** Removes the staging folders of updates that were never decided (no `_commit.json`). */
export async function discardStaging(out: string): Promise<void> {
  for (const s of await stagings(out)) if (!existsSync(join(s.dir, COMMIT))) await rm(s.dir, { recursive: true, force: true });
  await removeEmptyStaging(resolve(out));
}

async function removeEmptyStaging(dir: string): Promise<void> {
  const root = join(dir, STAGING);
  if (existsSync(root) && (await readdir(root)).length === 0 && folderKind(dir) !== 'foreign') await rm(root, { recursive: true, force: true });
}

/**
 * Decides and completes an update whose files are all under its staging folder: writes
 * `_commit.json` (atomically), then rolls it forward.
 * @example
 * await commitUpdate(out, { generation: g, moves: ['signals/bucket=0/part-1.parquet'], manifest });
 */
export async function commitUpdate(out: string, record: CommitRecord): Promise<void> {
  const staging = stagingFolder(out, record.generation);
  await mkdir(staging, { recursive: true });
  await pauseAt('update-staged');
  await writeJsonAtomic(join(staging, COMMIT), record);
  await pauseAt('update-decided');
  await rollForward(out);
}
