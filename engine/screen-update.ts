/**
 * `screen({ out, update: true })` / `barstream screen --out DIR --update`: continues the
 * finished screen in `out` over only the dataset files it did not read, from each symbol's
 * saved state (`_state/symbols/bucket=<k>/part-0.parquet`), and commits with the protocol of
 * `update.ts`.
 *
 * Options left out are the previous run's (formula, `sql`, `all`, `from`, `to`, `rank`,
 * `top`); one given with another value is refused, naming it. `symbolTimeoutMs` is a budget,
 * not compared: a symbol that timed out stays failed, as every failed symbol does.
 *
 * Per bucket with new files the Rust job reads the new bars, continues the bucket's symbols
 * (those without new bars are carried as they were, failed ones stay failed with their
 * error, new ones start from scratch) and writes under `_staging/g<g>/`:
 * - `latest`: the bucket's matches again, `matches/bucket=<k>/part-0.parquet` (replacing the
 *   old file: a symbol's latest bar changed);
 * - `all`: only the new matches, `matches/bucket=<k>/part-<g>.parquet` (earlier matches do
 *   not change: the formula's value at a bar depends only on the bars up to it);
 * - the bucket's `_errors/part-<k>.parquet` and state file, whole.
 * Buckets without new files keep their files. The manifest's counts are those of the files
 * after the update (processed symbols: the state rows less the skipped ones).
 */
import { existsSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { FileEntry } from '../datasets/layout.js';
import { filesUnder } from './backtest-update.js';
import type { Engine } from './engine.js';
import { invalidParam } from './errors.js';
import { checkNesting, lockOutput } from './outputs.js';
import { query } from './query.js';
import { plan, readMatches, runScreen, ScreenFailure, ScreenManifest, ScreenOptions, ScreenResult, ScreenUpdateSummary } from './screen.js';
import { literal } from './sql.js';
import { checkUpdateFlags, commitUpdate, discardStaging, newInput, readPreviousRun, resolveOptions, stagingFolder, updatePartitions } from './update.js';
import { microsText, toMicros } from './when.js';

const NAMES: Record<string, string> = {
  formula: 'formula (--formula)',
  sql: 'sql (--sql)',
  all: 'all (--all)',
  from: 'from (--from)',
  to: 'to (--to)',
  rank: 'rank (--rank)',
  top: 'top (--top)',
};

/** What the files of a screen output hold, counted. */
interface Counted {
  skipped: { symbol: string; reason: string }[];
  failed: ScreenFailure[];
  states: number;
  matchRows: number;
  matchSymbols: number;
}

/** Counts the errors, state rows and matches of the given files (absolute paths). */
async function count(errors: string[], states: string[], matches: string[]): Promise<Counted> {
  const list = (fs: string[]) => `[${fs.map(literal).join(', ')}]`;
  const c: Counted = { skipped: [], failed: [], states: 0, matchRows: 0, matchSymbols: 0 };
  if (errors.length > 0) {
    const t = await query(`SELECT symbol, stage, message FROM read_parquet(${list(errors)}, hive_partitioning = false) ORDER BY symbol`);
    for (let i = 0; i < t.numRows; i++) {
      const [symbol, stage, message] = ['symbol', 'stage', 'message'].map((n) => String(t.getChild(n)!.get(i)));
      if (stage === 'skipped') c.skipped.push({ symbol, reason: message });
      else c.failed.push({ symbol, stage: stage as ScreenFailure['stage'], message });
    }
  }
  if (states.length > 0) {
    const t = await query(`SELECT count(*) AS n FROM read_parquet(${list(states)}, hive_partitioning = false)`);
    c.states = Number(t.getChild('n')!.get(0));
  }
  if (matches.length > 0) {
    const t = await query(`SELECT count(*) AS n, count(DISTINCT symbol) AS s FROM read_parquet(${list(matches)}, hive_partitioning = false)`);
    c.matchRows = Number(t.getChild('n')!.get(0));
    c.matchSymbols = Number(t.getChild('s')!.get(0));
  }
  return c;
}

/**
 * Symbols of the buckets read that are new (in the new states or errors, not in the old
 * ones) and that were continued with new bars (their state's bar count grew).
 */
async function changed(newStates: string[], newErrors: string[], oldStates: string[], oldErrors: string[]): Promise<{ added: number; updated: number }> {
  const src = (fs: string[], cols: string) => (fs.length > 0 ? `SELECT ${cols} FROM read_parquet([${fs.map(literal).join(', ')}], hive_partitioning = false)` : `SELECT ${cols} FROM (SELECT NULL::VARCHAR AS symbol, NULL::BIGINT AS bars) WHERE false`);
  const t = await query(
    `SELECT (SELECT count(*) FROM (${src(newStates, 'symbol')} UNION ${src(newErrors, 'symbol')} EXCEPT (${src(oldStates, 'symbol')} UNION ${src(oldErrors, 'symbol')}))) AS added, ` +
      `(SELECT count(*) FROM (${src(newStates, 'symbol, bars')}) n JOIN (${src(oldStates, 'symbol, bars')}) o USING (symbol) WHERE n.bars <> o.bars) AS updated`,
  );
  return { added: Number(t.getChild('added')!.get(0)), updated: Number(t.getChild('updated')!.get(0)) };
}

/** The live files of `out` under `dir` (relative paths), recursively. */
async function live(out: string, dir: string): Promise<string[]> {
  return existsSync(join(out, dir)) ? (await filesUnder(join(out, dir))).map((f) => join(dir, f)) : [];
}

/** Runs an update; see the module doc. */
export async function updateScreen(engine: Engine, opts: ScreenOptions): Promise<ScreenResult> {
  const t0 = performance.now();
  checkUpdateFlags(opts);
  if (typeof opts.out !== 'string' || opts.out === '') throw invalidParam('update needs out (--out): the folder of the screen to continue');
  const out = resolve(opts.out);
  checkNesting(out, engine.inputs, engine.files);
  const lock = await lockOutput(out, 'screen');
  try {
    const prev = await readPreviousRun(out, 'screen');
    const pm = prev.manifest as unknown as ScreenManifest;
    const previous = { formula: pm.formula, sql: pm.source.sql, all: pm.mode === 'all', from: pm.from, to: pm.to, rank: pm.rank ?? null, top: pm.top ?? null };
    const given = {
      formula: opts.formula,
      sql: opts.sql,
      all: opts.all,
      from: opts.from === undefined ? undefined : microsText(toMicros('from', opts.from, 'start')),
      to: opts.to === undefined ? undefined : microsText(toMicros('to', opts.to, 'end')),
      rank: opts.rank,
      top: opts.top,
    };
    const o = resolveOptions(opts.out, given, previous, NAMES);
    const resolved: ScreenOptions = {
      ...opts,
      formula: o.formula,
      sql: o.sql ?? undefined,
      all: o.all,
      from: o.from ?? undefined,
      to: o.to ?? undefined,
      rank: o.rank ?? undefined,
      top: o.top ?? undefined,
    };
    const p = plan(engine, resolved);
    if (!existsSync(join(out, '_state', 'symbols'))) {
      throw invalidParam(`cannot update ${opts.out}: it holds no per-symbol states (_state/symbols/: written by an older barstream); run the screen again with --overwrite`);
    }
    const input = newInput(engine, prev);
    const matchesOf = (files: string[]) => files.filter((f) => f.startsWith('matches/'));
    const finish = async (manifest: ScreenManifest, counted: Counted, barsRead: number, update: ScreenUpdateSummary): Promise<ScreenResult> => ({
      matches: await readMatches(out, manifest.names, resolved.rank, resolved.top),
      processed: manifest.counts.processed,
      matched: manifest.counts.matched,
      skipped: counted.skipped,
      failed: counted.failed,
      warmup: manifest.warmup,
      names: manifest.names,
      mode: manifest.mode,
      matchRows: manifest.counts.matchRows,
      elapsedMs: performance.now() - t0,
      sorted: manifest.source.sorted,
      manifest,
      barsRead,
      update,
    });
    if (input.paths.length === 0) {
      const files = pm.files.map((f) => f.path);
      const c = await count(files.filter((f) => f.startsWith('_errors/')).map((f) => join(out, f)), [], matchesOf(files).map((f) => join(out, f)));
      const nothing = { generation: prev.generation, newFiles: [], barsRead: 0, symbolsAdded: 0, symbolsUpdated: 0, rowsAdded: 0, matches: pm.counts.matchRows };
      return finish(pm, c, 0, nothing);
    }

    const generation = prev.generation + 1;
    const staging = stagingFolder(out, generation);
    try {
      await mkdir(staging, { recursive: true });
      const { result: r, sorted } = await runScreen(engine, resolved.sql, p, opts, {
        out: staging,
        update: {
          partitions: (order, carried) => updatePartitions(input.files, { sql: resolved.sql, columns: [...p.info.fields, ...carried], sorted: order }),
          carried: (parts) =>
            parts.map((x) => {
              const st = join(out, '_state', 'symbols', `bucket=${x.bucket}`, 'part-0.parquet');
              const er = join(out, '_errors', `part-${x.bucket}.parquet`);
              return { states: existsSync(st) ? [st] : [], ...(existsSync(er) ? { errors: er } : {}) };
            }),
          matchesPart: generation,
        },
      });
      // The files after the update: staged ones replace or join the live ones.
      const staged = new Map<string, FileEntry>([...r.files, ...r.stateFiles].map((f) => [f.path, f]));
      const at = (rel: string) => (staged.has(rel) ? join(staging, rel) : join(out, rel));
      const files = [...pm.files.filter((f) => !staged.has(f.path)), ...r.files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
      const stateFiles = [...new Set([...(await live(out, '_state/symbols')), ...r.stateFiles.map((f) => f.path)])];
      const c = await count(
        files.filter((f) => f.path.startsWith('_errors/')).map((f) => at(f.path)),
        stateFiles.map(at),
        matchesOf(files.map((f) => f.path)).map(at),
      );
      const processed = c.states - c.skipped.length;
      const manifest: ScreenManifest = {
        ...pm,
        source: { ...pm.source, sorted: pm.source.sorted || sorted },
        counts: {
          symbols: processed + c.skipped.length + c.failed.length,
          processed,
          matched: p.mode === 'all' ? c.matchSymbols : c.matchRows,
          skipped: c.skipped.length,
          failed: c.failed.length,
          matchRows: c.matchRows,
        },
        files,
        input: input.input,
        generation,
        elapsedMs: performance.now() - t0,
        createdAt: new Date().toISOString(),
      };
      const newRows = r.files.filter((f) => f.path.startsWith('matches/')).reduce((s, f) => s + f.rows, 0);
      const changes = await changed(
        r.stateFiles.map((f) => join(staging, f.path)),
        r.files.filter((f) => f.path.startsWith('_errors/')).map((f) => join(staging, f.path)),
        r.stateFiles.map((f) => join(out, f.path)).filter(existsSync),
        r.files.filter((f) => f.path.startsWith('_errors/')).map((f) => join(out, f.path)).filter(existsSync),
      );
      const update: ScreenUpdateSummary = {
        generation,
        newFiles: input.paths,
        barsRead: r.barsRead,
        symbolsAdded: changes.added,
        symbolsUpdated: changes.updated,
        rowsAdded: p.mode === 'all' ? newRows : 0,
        matches: c.matchRows,
      };
      await commitUpdate(out, { generation, moves: await filesUnder(staging), manifest });
      return await finish(manifest, c, r.barsRead, update);
    } catch (e) {
      if (!existsSync(join(staging, '_commit.json'))) await rm(staging, { recursive: true, force: true });
      await discardStaging(out).catch(() => undefined);
      throw e;
    }
  } finally {
    lock.release();
  }
}
