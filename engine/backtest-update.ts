/**
 * `backtest({ out, update: true })` / `barstream backtest --update`: continues the finished
 * backtest in `out` over only the dataset files it did not read, from each symbol's saved
 * state, and commits the result with the protocol of `update.ts`.
 *
 * Options left out are the previous run's (strategy or formula, `sql`, `feeBps`, `longOnly`);
 * one given with another value is refused, naming it (ATC parameters are compared as the
 * previous run recorded them: a parameter it left to its default must be left out too).
 * `symbolTimeoutMs` is not compared (it is a budget, not a parameter): a symbol that timed
 * out in the previous run stays failed, as every failed symbol does.
 *
 * Per bucket with new files, the Rust job (reading the bucket's previous files in the worker
 * that runs it, so one bucket's states are in memory at a time: about 18 KB per ATC symbol)
 * reads the bucket's new bars (sorted when the bucket has several new parts), continues its
 * symbols from `_state/symbols/bucket=<k>/part-0.parquet` (a symbol's open trade is in its
 * state), keeps the failed symbols failed (their `_errors` rows again), and writes under
 * `_staging/g<g>/`: the new rows only in `signals/bucket=<k>/part-<g>.parquet` and the trades
 * closed by this update in `trades/part-<k>-<g>.parquet`, and the bucket's whole
 * `summary/part-<k>.parquet`, `trades/open-<k>.parquet`, `_errors/part-<k>.parquet`,
 * `_state/symbols/bucket=<k>/part-0.parquet` and `_state/bucket-<k>.json` (its marker, with
 * the bucket's bars and files over every generation). Nothing grows with the history but the
 * appended parts, so an update's cost follows the new bars and the symbol count. Buckets
 * without new files keep their files. The new manifest is made from every bucket's marker,
 * as a full run's is.
 *
 * A symbol that fails on its new bars (a kernel or formula error) keeps its earlier
 * generations' signal rows and closed trades; its summary and open trade are taken back and
 * `_errors` says why.
 */
import { existsSync } from 'node:fs';
import { mkdir, readdir, rm } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import type { Engine } from './engine.js';
import { compileFor, FIELDS } from './formula-use.js';
import { checkFormulaFields } from './screen.js';
import { runJob } from './jobs.js';
import type { AtcParams } from './kernels.js';
import { checkStrategy, checkRange, LIMITS } from './limits.js';
import { checkNesting, lockOutput } from './outputs.js';
import {
  BacktestOptions, BacktestResult, BucketMarker, formulaOf, JobFile, makeManifest, Manifest, markers, writeJsonAtomic,
} from './backtest.js';
import { fingerprint } from './fingerprint.js';
import { checkUpdateFlags, commitUpdate, discardStaging, newInput, readPreviousRun, resolveOptions, stagingFolder, updatePartitions } from './update.js';

/** The options an update compares with the previous run's, flat, so a refusal names one. */
type Compared = Record<string, unknown>;

const NAMES: Record<string, string> = {
  strategy: 'strategy (ATC or --formula)',
  formula: 'strategy.formula (--formula)',
  sql: 'sql (--sql)',
  feeBps: 'feeBps (--fee-bps)',
  longOnly: 'longOnly (--long-only)',
};

/** The previous run's options from its manifest, flat. */
function previousOptions(m: Manifest): Compared {
  const s = m.strategy;
  const flat: Compared = { strategy: s.name, sql: m.source.sql, feeBps: s.feeBps, longOnly: s.longOnly };
  if (s.name === 'formula') flat.formula = s.formula;
  else for (const [k, v] of Object.entries(s.params ?? {})) flat[`strategy.${k}`] = v;
  return flat;
}

/** The options given to this call, flat (left out: undefined). */
function givenOptions(opts: BacktestOptions, formula: string | undefined): Compared {
  const flat: Compared = { sql: opts.sql, feeBps: opts.feeBps, longOnly: opts.longOnly };
  if (formula !== undefined) Object.assign(flat, { strategy: 'formula', formula });
  else if (opts.strategy !== undefined) {
    flat.strategy = 'atc';
    for (const [k, v] of Object.entries(opts.strategy)) flat[`strategy.${k}`] = v;
  }
  return flat;
}

/** Every file under `dir`, relative to it (hidden temporaries excluded). */
export async function filesUnder(dir: string): Promise<string[]> {
  const all = (await readdir(dir, { recursive: true, withFileTypes: true })) as { name: string; parentPath: string; isFile(): boolean }[];
  return all.filter((e) => e.isFile() && !e.name.startsWith('.')).map((e) => relative(dir, join(e.parentPath, e.name))).sort();
}

/** Runs an update; see the module doc. */
export async function updateBacktest(engine: Engine, opts: BacktestOptions, t0: number): Promise<BacktestResult> {
  checkUpdateFlags(opts);
  const out = resolve(opts.out);
  checkNesting(out, engine.inputs, engine.files);
  const lock = await lockOutput(out, 'backtest');
  try {
    const prev = await readPreviousRun(out, 'backtest');
    const pm = prev.manifest as unknown as Manifest;
    const given = givenOptions(opts, formulaOf(opts.strategy));
    const previous = previousOptions(pm);
    for (const k of Object.keys(given)) if (given[k] !== undefined && !(k in previous)) previous[k] = undefined;
    const o = resolveOptions(opts.out, given, previous, NAMES);
    const formula = o.strategy === 'formula' ? String(o.formula) : undefined;
    const params = formula === undefined ? (Object.fromEntries(Object.entries(o).filter(([k]) => k.startsWith('strategy.')).map(([k, v]) => [k.slice(9), v])) as AtcParams) : undefined;
    if (formula === undefined) checkStrategy(params);
    const sql = (o.sql as string | null) ?? undefined;
    const feeBps = checkRange('feeBps', Number(o.feeBps ?? 0), LIMITS.feeBps);
    const longOnly = o.longOnly === true;
    const symbolTimeoutMs = checkRange('symbolTimeoutMs', opts.symbolTimeoutMs ?? 60_000, LIMITS.symbolTimeoutMs);
    const info = formula === undefined ? undefined : compileFor(formula, 'backtest');
    const columns = info === undefined ? ['close'] : FIELDS.filter((f) => f === 'close' || info.fields.includes(f));
    if (formula !== undefined) checkFormulaFields(engine, sql, columns, 'formula (with the close its returns need)');

    const input = newInput(engine, prev);
    const nothing = { generation: prev.generation, newFiles: [], barsRead: 0, symbolsAdded: 0, symbolsUpdated: 0, rowsAdded: 0, tradesAdded: 0 };
    if (input.paths.length === 0) return { out, manifest: pm, bucketsRun: 0, barsRead: 0, update: nothing, elapsedMs: performance.now() - t0 };

    const generation = prev.generation + 1;
    const staging = stagingFolder(out, generation);
    const job: JobFile = { params: params ?? {}, formula, sql: sql ?? null, feeBps, longOnly, files: engine.files, buckets: 0, inputs: fingerprint(engine.files) };
    let bucketsRun = 0;
    try {
      const { sorted } = await engine.orderFallback(async (order) => {
        const parts = updatePartitions(input.files, { sql, columns, sorted: order });
        bucketsRun = parts.length;
        await rm(staging, { recursive: true, force: true });
        await mkdir(staging, { recursive: true });
        const live = (rel: string) => (existsSync(join(out, rel)) ? join(out, rel) : undefined);
        const carried = parts.map((p) => ({
          states: [live(`_state/symbols/bucket=${p.bucket}/part-0.parquet`)].filter((f): f is string => f !== undefined),
          errors: live(`_errors/part-${p.bucket}.parquet`),
        }));
        await runJob(
          (j) =>
            engine.db.backtest(
              {
                partitions: parts, params: formula === undefined ? params : undefined, workers: engine.threads, out: staging, feeBps, longOnly,
                ...(formula !== undefined ? { formula } : {}), symbolTimeoutMs, carried, signalsPart: generation,
              } as Parameters<typeof engine.db.backtest>[0],
              j,
            ),
          engine.metadata?.symbols ?? 0,
          opts,
        );
      });
      // Each bucket run: its marker over every generation (bars summed, files replaced or added).
      const before = await markers(out);
      const now = await markers(staging);
      const all = new Map(before);
      for (const [k, m] of now) {
        const old = before.get(k);
        const paths = new Set(m.files.map((f) => f.path));
        const merged: BucketMarker = { ...m, bars: (old?.bars ?? 0) + m.bars, files: [...(old?.files ?? []).filter((f) => !paths.has(f.path)), ...m.files] };
        all.set(k, merged);
        await writeJsonAtomic(join(staging, '_state', `bucket-${k}.json`), merged);
      }
      const manifest = makeManifest(engine, { ...job, buckets: all.size }, all, sorted || pm.source.sorted, performance.now() - t0, generation);
      const sum = (f: (m: BucketMarker) => number) => [...now.values()].reduce((s, m) => s + f(m), 0);
      const update = {
        generation,
        newFiles: input.paths,
        barsRead: sum((m) => m.bars),
        symbolsAdded: sum((m) => m.added ?? 0),
        symbolsUpdated: sum((m) => m.updated ?? 0),
        rowsAdded: sum((m) => m.files.filter((f) => f.path.startsWith('signals/')).reduce((s, f) => s + f.rows, 0)),
        tradesAdded: sum((m) => m.tradesAdded ?? 0),
      };
      await commitUpdate(out, { generation, moves: await filesUnder(staging), manifest });
      return { out, manifest, bucketsRun, barsRead: update.barsRead, update, elapsedMs: performance.now() - t0 };
    } catch (e) {
      // Undecided: nothing of it is live; a decided one (`_commit.json`) is completed by the next run.
      if (!existsSync(join(staging, '_commit.json'))) await rm(staging, { recursive: true, force: true });
      await discardStaging(out).catch(() => undefined);
      throw e;
    }
  } finally {
    lock.release();
  }
}
