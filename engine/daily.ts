/**
 * The daily routine in one call (`barstream update`): append the vendor's new files to a
 * canonical dataset (`ingest --append`), then bring every results folder given up to date
 * from its saved state (`backtest`/`scan`/`screen` with `update: true`, see
 * `engine/update.ts`), and say what changed. The append is all or nothing and runs first; a
 * results folder that fails is reported by name and the others still run (each update is
 * atomic by itself, so a failed one leaves that folder as it was).
 */
import { resolve } from 'node:path';
import { ingest } from '../datasets/ingest.js';
import type { IngestOptions, IngestResult } from '../datasets/ingest-types.js';
import type { UpdateSummary } from './backtest.js';
import { Engine } from './engine.js';
import { BarstreamError, invalidParam } from './errors.js';
import { folderKind } from './outputs.js';
import type { ScanUpdateSummary } from './scan.js';
import type { ScreenOptions, ScreenUpdateSummary } from './screen.js';

/** What `update` reads: the ingest options of the append, and the results folders. */
export interface UpdateOptions extends Omit<IngestOptions, 'input' | 'out' | 'append' | 'overwrite'> {
  /** The canonical dataset to append to (and that every results folder was computed on). */
  data: string;
  /** The new files: paths, globs or folders, as `ingest`'s `input`. */
  in: string | string[];
  /** Results folders to update: outputs of `backtest --out`, `scan --out` or `screen --out`. */
  results: string | string[];
}

/** What the update of a results folder changed, as its job reports it. */
export type ResultsUpdate = UpdateSummary | ScanUpdateSummary | ScreenUpdateSummary;

export type ResultsKind = 'backtest' | 'scan' | 'screen';

/** One results folder: updated (`update` set) or failed (`error` set). */
export interface FolderUpdate {
  folder: string;
  /** Absent when the folder is not a results folder. */
  kind?: ResultsKind;
  update?: ResultsUpdate;
  error?: { code: string; message: string };
  elapsedMs: number;
}

export interface DailyResult {
  data: string;
  /** The append: counts as `ingest` returns them, with the dataset's new generation. */
  ingest: Pick<IngestResult, 'read' | 'written' | 'rejected' | 'superseded' | 'byReason' | 'files' | 'rejectedPath' | 'generation' | 'symbolsAdded' | 'emptyFiles'>;
  /** Time of the append. */
  appendMs: number;
  results: FolderUpdate[];
  /** Results folders that failed. */
  failed: number;
  elapsedMs: number;
}

const KINDS: ResultsKind[] = ['backtest', 'scan', 'screen'];

function list(v: string | string[] | undefined, name: string): string[] {
  const items = typeof v === 'string' ? [v] : v;
  if (!Array.isArray(items) || items.length === 0 || items.some((x) => typeof x !== 'string' || x === '')) {
    throw invalidParam(`${name} must be one or more paths`);
  }
  return items;
}

/** Runs the update of one results folder on `engine`; never throws (a failure is returned). */
async function updateFolder(engine: Engine, dir: string): Promise<FolderUpdate> {
  const t0 = performance.now();
  const folder = resolve(dir);
  let kind: ResultsKind | undefined;
  try {
    const found = folderKind(folder, 'results folder');
    if (!(KINDS as string[]).includes(found)) {
      const what = found === 'missing' ? 'does not exist' : found === 'empty' ? 'is empty' : found === 'dataset' ? 'is a dataset' : 'holds no barstream results';
      throw new BarstreamError('BARSTREAM_IO', `results folder ${dir} ${what}: give the --out folder of a backtest, scan --out or screen --out`);
    }
    kind = found as ResultsKind;
    // The options of the previous run are read from its manifest: out and update suffice.
    const opts = { out: folder, update: true };
    // A screen's formula is required by its type but, under update, taken from the manifest.
    const r = kind === 'backtest' ? await engine.backtest(opts) : kind === 'scan' ? await engine.scan(opts) : await engine.screen(opts as ScreenOptions);
    const update = r.update;
    if (update === undefined) throw new BarstreamError('BARSTREAM_INTERNAL', `the ${kind} of ${dir} returned no update record`);
    return { folder, kind, update, elapsedMs: performance.now() - t0 };
  } catch (e) {
    const error = e instanceof BarstreamError ? { code: e.code, message: e.message } : { code: 'BARSTREAM_INTERNAL', message: e instanceof Error ? e.message : String(e) };
    return { folder, kind, error, elapsedMs: performance.now() - t0 };
  }
}

/**
 * Appends `in` to the dataset `data` (`ingest` with `append`; every ingest option applies),
 * then updates each of `results` from its saved state, in order. An append that fails
 * throws (and no folder is touched); a folder that fails is in `results` with its error,
 * counted in `failed`, and the others still run.
 * @example
 * const r = await update({ data: 'datasets/eod', in: 'inbox/*.csv', symbolFromFilename: true, results: ['results/bt', 'results/breakouts'] });
 * for (const f of r.results) console.log(f.folder, f.error?.message ?? `${f.update!.barsRead} bars read`);
 */
export async function update(opts: UpdateOptions): Promise<DailyResult> {
  const t0 = performance.now();
  if (!opts || typeof opts.data !== 'string' || opts.data === '') throw invalidParam('data must be the dataset folder to append to');
  const input = list(opts.in, 'in');
  const results = list(opts.results, 'results');
  const { data, in: _in, results: _results, ...ingestOptions } = opts;
  const appended = await ingest({ ...ingestOptions, input, out: data, append: true });
  const appendMs = performance.now() - t0;
  const { read, written, rejected, superseded, byReason, files, rejectedPath, generation, symbolsAdded, emptyFiles } = appended;
  const engine = await Engine.open({ dataset: data, threads: opts.threads, memoryLimit: opts.memoryLimit });
  const done: FolderUpdate[] = [];
  try {
    for (const dir of results) done.push(await updateFolder(engine, dir));
  } finally {
    engine.close();
  }
  return {
    data: resolve(data),
    ingest: { read, written, rejected, superseded, byReason, files, rejectedPath, generation, symbolsAdded, emptyFiles },
    appendMs,
    results: done,
    failed: done.filter((f) => f.error !== undefined).length,
    elapsedMs: performance.now() - t0,
  };
}
