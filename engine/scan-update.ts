/**
 * `scan({ out, update: true })` / `barstream scan --out DIR --update`: continues the finished
 * scan in `out` over only the dataset files it did not read, from each symbol's saved state
 * (`_state/symbols/bucket=<k>/part-0.parquet`), and commits with the protocol of `update.ts`.
 *
 * Options left out are the previous run's (ATC parameters, `sql`, `minSignal`, `top`); one
 * given with another value is refused, naming it. Per bucket with new files the Rust job
 * reads the new bars, continues the bucket's symbols (those without new bars are carried as
 * they were; a symbol failed before stays failed with its error; a new symbol starts from
 * scratch) and writes the bucket's whole state file under `_staging/g<g>/`. `scan.parquet`
 * is rewritten: the previous rows of the symbols not read again, the new rows of the others
 * (processed symbols by symbol, then skipped, then failed: the order may differ from a full
 * run's, the rows do not). `symbolTimeoutMs` is a budget, not compared.
 */
import { existsSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { filesUnder } from './backtest-update.js';
import type { Engine } from './engine.js';
import { invalidParam } from './errors.js';
import { runJob } from './jobs.js';
import type { AtcParams } from './kernels.js';
import { checkRange, checkStrategy, LIMITS } from './limits.js';
import { checkNesting, withOutputLock } from './outputs.js';
import { query } from './query.js';
import { listing, NativeScan, ScanEntry, scanManifest, ScanOptions, ScanResult, ScanUpdateSummary, writeScan } from './scan.js';
import { literal } from './sql.js';
import { checkUpdateFlags, commitUpdate, discardStaging, newInput, readPreviousRun, resolveOptions, stagingFolder, updatePartitions } from './update.js';

const NAMES: Record<string, string> = { sql: 'sql (--sql)', minSignal: 'minSignal (--min-signal)', top: 'top (--top)' };

interface ScanManifest {
  strategy: { params?: AtcParams };
  parameters?: { minSignal: number; top: number | null };
  source: { sql: string | null; sorted: boolean };
}

/** One row of `scan.parquet`. */
interface Row {
  symbol: string;
  status: 'processed' | 'skipped' | 'failed';
  stage: string | null;
  signal: number;
  close: number;
  ts: number;
  bars: number;
  message: string | null;
}

/** The rows of `dir/scan.parquet`. */
async function readRows(dir: string): Promise<Row[]> {
  const t = await query(
    `SELECT symbol, status, stage, signal, close, epoch_us(ts) AS ts, bars, message FROM read_parquet(${literal(join(dir, 'scan.parquet'))}) ORDER BY symbol`,
  );
  const rows: Row[] = [];
  const col = (n: string) => t.getChild(n)!;
  for (let i = 0; i < t.numRows; i++) {
    const num = (n: string) => (col(n).get(i) === null ? NaN : Number(col(n).get(i)));
    const text = (n: string) => (col(n).get(i) === null ? null : String(col(n).get(i)));
    rows.push({ symbol: String(col('symbol').get(i)), status: text('status') as Row['status'], stage: text('stage'), signal: num('signal'), close: num('close'), ts: num('ts'), bars: num('bars'), message: text('message') });
  }
  return rows;
}

const entry = (r: { symbol: string; signal: number; close: number; ts: number; bars: number }): ScanEntry => ({ symbol: r.symbol, signal: r.signal, close: r.close, ts: new Date(r.ts / 1000), bars: r.bars });

/** Runs an update; see the module doc. */
export async function updateScan(engine: Engine, opts: ScanOptions): Promise<ScanResult> {
  const t0 = performance.now();
  checkUpdateFlags(opts);
  if (typeof opts.out !== 'string' || opts.out === '') throw invalidParam('update needs out (--out): the folder of the scan to continue');
  const out = resolve(opts.out);
  checkNesting(out, engine.inputs, engine.files);
  return withOutputLock(out, 'scan', async () => {
    const prev = await readPreviousRun(out, 'scan');
    const pm = prev.manifest as unknown as ScanManifest;
    const previous: Record<string, unknown> = { sql: pm.source.sql, minSignal: pm.parameters?.minSignal ?? 0.1, top: pm.parameters?.top ?? null };
    for (const [k, v] of Object.entries(pm.strategy.params ?? {})) previous[`strategy.${k}`] = v;
    const given: Record<string, unknown> = { sql: opts.sql, minSignal: opts.minSignal, top: opts.top };
    for (const [k, v] of Object.entries(opts.strategy ?? {})) {
      given[`strategy.${k}`] = v;
      if (!(`strategy.${k}` in previous)) previous[`strategy.${k}`] = undefined;
    }
    const o = resolveOptions(opts.out!, given, previous, NAMES);
    const strategy = Object.fromEntries(Object.entries(o).filter(([k]) => k.startsWith('strategy.')).map(([k, v]) => [k.slice(9), v])) as AtcParams;
    checkStrategy(strategy);
    const sql = (o.sql as string | null) ?? undefined;
    const minSignal = checkRange('minSignal', Number(o.minSignal), LIMITS.minSignal);
    const top = o.top === null || o.top === undefined ? undefined : checkRange('top', Number(o.top), LIMITS.top);
    const resolved: ScanOptions = { ...opts, sql, strategy: pm.strategy.params ?? {}, top };
    if (!existsSync(join(out, '_state', 'symbols'))) {
      throw invalidParam(`cannot update ${opts.out}: it holds no per-symbol states (_state/symbols/: written by an older barstream); run the scan again with --overwrite`);
    }
    const input = newInput(engine, prev);
    const old = await readRows(out);
    const result = (rows: Row[], barsRead: number, sorted: boolean): ScanResult => ({
      ...listing(
        rows.filter((r) => r.status === 'processed').map(entry),
        rows.filter((r) => r.status === 'skipped').map((r) => ({ symbol: r.symbol, reason: r.message ?? '' })),
        rows.filter((r) => r.status === 'failed').map((r) => ({ symbol: r.symbol, stage: r.stage as 'input' | 'kernel', message: r.message ?? '' })),
        minSignal,
        top,
      ),
      rejectedRows: engine.metadata?.rejectedRows ?? 0,
      elapsedMs: performance.now() - t0,
      sorted,
      barsRead,
    });
    if (input.paths.length === 0) {
      const r = result(old, 0, pm.source.sorted);
      const matches = r.qualifying.long + r.qualifying.short;
      return { ...r, update: { generation: prev.generation, newFiles: [], barsRead: 0, symbolsAdded: 0, symbolsUpdated: 0, rowsAdded: 0, matches } };
    }

    const generation = prev.generation + 1;
    const staging = stagingFolder(out, generation);
    try {
      const failed = old.filter((r) => r.status === 'failed').map((r) => ({ symbol: r.symbol, stage: r.stage ?? 'input', message: r.message ?? '' }));
      const { result: n, sorted } = await engine.orderFallback(async (order) => {
        const parts = updatePartitions(input.files, { sql, columns: ['close'], sorted: order });
        await rm(staging, { recursive: true, force: true });
        await mkdir(staging, { recursive: true });
        const carried = parts.map((p) => {
          const f = join(out, '_state', 'symbols', `bucket=${p.bucket}`, 'part-0.parquet');
          return { states: existsSync(f) ? [f] : [] };
        });
        return runJob<NativeScan>(
          (job) => engine.db.scan({ partitions: parts, params: strategy, workers: engine.threads, stateOut: staging, carried, failed } as Parameters<typeof engine.db.scan>[0], job),
          engine.metadata?.symbols ?? 0,
          opts,
        );
      });
      const fresh: Row[] = [
        ...n.processed.map((s) => ({ ...s, status: 'processed' as const, stage: null, message: null })),
        ...n.skipped.map((s) => ({ symbol: s.symbol, status: 'skipped' as const, stage: 'skipped', signal: NaN, close: NaN, ts: NaN, bars: NaN, message: s.reason })),
        ...n.failed.map((s) => ({ symbol: s.symbol, status: 'failed' as const, stage: s.stage, signal: NaN, close: NaN, ts: NaN, bars: NaN, message: s.message })),
      ];
      const before = new Map(old.map((r) => [r.symbol, r]));
      const read = new Set(fresh.map((r) => r.symbol));
      const rows = [...old.filter((r) => !read.has(r.symbol)), ...fresh].sort((a, b) => (a.symbol < b.symbol ? -1 : a.symbol > b.symbol ? 1 : 0));
      const r = result(rows, n.barsRead, sorted || pm.source.sorted);
      await writeScan(join(staging, 'scan.parquet'), r);
      const manifest = await scanManifest(staging, r, resolved, minSignal, input.input, generation, r.sorted);
      const changed = (x: Row) => {
        const y = before.get(x.symbol)!;
        return x.status !== y.status || !Object.is(x.bars, y.bars) || x.message !== y.message;
      };
      const update: ScanUpdateSummary = {
        generation,
        newFiles: input.paths,
        barsRead: n.barsRead,
        symbolsAdded: fresh.filter((x) => !before.has(x.symbol)).length,
        symbolsUpdated: fresh.filter((x) => before.has(x.symbol) && changed(x)).length,
        rowsAdded: 0,
        matches: r.qualifying.long + r.qualifying.short,
      };
      await commitUpdate(out, { generation, moves: await filesUnder(staging), manifest });
      return { ...r, elapsedMs: performance.now() - t0, update };
    } catch (e) {
      if (!existsSync(join(staging, '_commit.json'))) await rm(staging, { recursive: true, force: true });
      await discardStaging(out).catch(() => undefined);
      throw e;
    }
  });
}
