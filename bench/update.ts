/**
 * The daily update (issue 11, "Speed"): a dataset with its backtest and a screen done, then
 * one new bar per symbol appended and both results updated by `barstream update` (one
 * process, as cron runs it), against the full recomputation of both over the grown dataset
 * in the same run. Each of `runs` rounds appends one more bar per symbol (so every update
 * is a real one-bar update); reports the append, the backtest update, the screen update and
 * the whole command (target: under 2 s), `barsRead` of each update (target: the new bars),
 * and the full backtest and screen. The updated outputs must equal the full runs' (signals,
 * summary, trades, matches).
 *
 *   node dist/bench/update.js [--quick] [--runs 3] [--threads N] [--symbols S --bars B]
 *   npm run bench -- --only update [--quick]
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DuckDBInstance } from '@duckdb/node-api';
import { generate } from '../datasets/generate.js';
import { listDataFiles } from '../datasets/layout.js';
import { table } from '../engine/cli/common.js';
import type { DailyResult } from '../engine/daily.js';
import { packageRoot } from '../engine/native.js';
import { literal, literalList } from '../engine/sql.js';
import { disagreement } from './shards.js';
import { flag, machine, median, numberArg } from './util.js';

export interface UpdateSize {
  symbols: number;
  bars: number;
}

export const SIZES: Record<'quick' | 'full', UpdateSize> = {
  quick: { symbols: 300, bars: 2000 },
  full: { symbols: 10000, bars: 5000 },
};

/** The screen's formula: a condition on the last bar, with a warm-up. */
const FORMULA = 'r = rsi(close, 14); close > sma(close, 50) and r < 70';

export interface UpdateReport {
  markdown: string;
  targets: [string, string, string][];
  json: unknown;
}

const cliPath = () => join(packageRoot(), 'dist', 'engine', 'cli', 'main.js');

/** Runs the CLI with `--json`; its wall time in seconds and what it printed. */
function timed(args: string[]): { s: number; out: unknown } {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [cliPath(), ...args, '--json'], { encoding: 'utf8', maxBuffer: 256 << 20 });
  const s = (performance.now() - t0) / 1000;
  // `update --json` names each failed folder's error on stdout.
  if (r.status !== 0) throw new Error(`barstream ${args.join(' ')} failed: ${r.stderr}${r.stdout.slice(0, 4000)}`);
  return { s, out: JSON.parse(r.stdout) };
}

/** The generated dataset (cached under bench/data/, never appended to: the run copies it). */
async function baseDataset(size: UpdateSize): Promise<string> {
  const dir = join(packageRoot(), 'bench', 'data', `synth-${size.symbols}x${size.bars}-s11-upd`);
  if (!existsSync(join(dir, 'metadata.json'))) {
    process.stderr.write(`generating ${dir} ...\n`);
    await generate({ out: dir, symbols: size.symbols, bars: size.bars, seed: 11, overwrite: true });
  }
  return dir;
}

/** Writes `file`: one bar per symbol of `ds`, a day after its last, near its last close. */
async function nextBars(ds: string, file: string, round: number): Promise<number> {
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  try {
    const files = (await listDataFiles(ds)).map((f) => f.path);
    // Prices vary by symbol and round, and stay valid bars (low <= open, close <= high).
    const r = await conn.runAndReadAll(
      `COPY (SELECT symbol, ts, c AS open, c * 1.01 AS high, c * 0.98 AS low, c * (0.99 + 0.0002 * (hash(symbol || ${round}) % 100)) AS close, 1000.0 AS volume ` +
        `FROM (SELECT symbol, max(ts) + INTERVAL 1 DAY AS ts, arg_max(close, ts) AS c FROM read_parquet(${literalList(files)}) GROUP BY symbol) ` +
        `ORDER BY symbol) TO ${literal(file)} (FORMAT parquet)`,
    );
    return Number(r.getRowObjectsJS()[0].Count);
  } finally {
    conn.closeSync();
    db.closeSync();
  }
}

const f2 = (x: number) => x.toFixed(2);

/** Runs the benchmark at `size`, writing under `tmp`. */
export async function updateBench(opts: { size: UpdateSize; runs: number; threads: number; tmp: string; log: (s: string) => void }): Promise<UpdateReport> {
  const { size, runs, threads, tmp, log } = opts;
  const ds = join(tmp, 'data');
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  cpSync(await baseDataset(size), ds, { recursive: true });
  const th = ['--threads', String(threads)];
  const bt = join(tmp, 'backtest');
  const sc = join(tmp, 'screen');
  log(`update: full backtest and screen of ${size.symbols} symbols x ${size.bars} bars`);
  const firstBt = timed(['backtest', '--data', ds, '--out', bt, ...th]).s;
  const firstSc = timed(['screen', '--data', ds, '--formula', FORMULA, '--out', sc, ...th]).s;

  const rounds: { append: number; backtest: number; screen: number; total: number; newBars: number; barsRead: [number, number] }[] = [];
  for (let r = 0; r < runs; r++) {
    const file = join(tmp, `new-${r}.parquet`);
    const newBars = await nextBars(ds, file, r);
    log(`update: round ${r + 1} of ${runs}: ${newBars} new bars, barstream update`);
    const { s, out } = timed(['update', '--data', ds, '--in', file, '--results', bt, sc, ...th]);
    const d = out as DailyResult;
    const [b, c] = d.results;
    if (d.failed > 0) throw new Error(`barstream update failed: ${d.results.map((x) => x.error?.message).join('; ')}`);
    rounds.push({ append: d.appendMs / 1000, backtest: b.elapsedMs / 1000, screen: c.elapsedMs / 1000, total: s, newBars, barsRead: [b.update!.barsRead, c.update!.barsRead] });
  }

  // What starting a barstream process costs here (Node, the addon, DuckDB): part of the whole command's time.
  const startS = median(Array.from({ length: 3 }, () => {
    const t0 = performance.now();
    spawnSync(process.execPath, [cliPath(), '--version']);
    return (performance.now() - t0) / 1000;
  }));
  log('update: full recomputation over the grown dataset');
  const fullBt = join(tmp, 'backtest-full');
  const fullSc = join(tmp, 'screen-full');
  const fullBtS = timed(['backtest', '--data', ds, '--out', fullBt, ...th]).s;
  const fullScS = timed(['screen', '--data', ds, '--formula', FORMULA, '--out', fullSc, ...th]).s;
  for (const [a, b, sub] of [[bt, fullBt, 'signals'], [bt, fullBt, 'summary'], [bt, fullBt, 'trades'], [sc, fullSc, 'matches']]) {
    const differ = await disagreement(a, b, sub);
    if (differ !== 0) throw new Error(`the updated ${sub} differ from the full run's in ${differ} rows`);
  }

  const m = (k: 'append' | 'backtest' | 'screen' | 'total') => median(rounds.map((x) => x[k]));
  const barsOk = rounds.every((x) => x.barsRead[0] === x.newBars && x.barsRead[1] === x.newBars);
  const full = fullBtS + fullScS;
  const rows: (string | number)[][] = [
    ['append (ingest --append, one bar per symbol)', f2(m('append'))],
    ['backtest update', f2(m('backtest'))],
    ['screen update', f2(m('screen'))],
    ['barstream update, whole process (append + both updates)', f2(m('total'))],
    ['of which starting a barstream process (barstream --version)', f2(startS)],
    ['full backtest over the grown dataset', f2(fullBtS)],
    ['full screen over the grown dataset', f2(fullScS)],
    ['full recomputation (both)', f2(full)],
    ['speed-up of the update over the full recomputation', `${(full / m('total')).toFixed(1)}x`],
  ];
  const barsRead = rounds.map((x) => `${x.barsRead.join('/')} of ${x.newBars}`).join(', ');
  const targets: [string, string, string][] = [
    [`append + update of a backtest and a screen < 2 s end to end (${size.symbols} x ${size.bars})`, `${f2(m('total'))} s`, m('total') < 2 ? 'met' : 'MISSED'],
    ['update barsRead = the new bars (backtest/screen)', barsRead, barsOk ? 'met' : 'MISSED'],
  ];
  const markdown = [
    `Daily update (issue 11): ${size.symbols.toLocaleString('en-US')} symbols x ${size.bars.toLocaleString('en-US')} bars, backtest (ATC) and screen \`${FORMULA}\` done first (${f2(firstBt)} s and ${f2(firstSc)} s), then ${runs} round(s) of one new bar per symbol appended and both updated by one \`barstream update\` process (median of the rounds), --threads ${threads}; the updated outputs equal the full runs' (signals, summary, trades, matches).`,
    '',
    '```',
    table(['step', 'seconds'], rows),
    '```',
    '',
    `barsRead per round (backtest/screen of new bars): ${barsRead}.`,
  ].join('\n');
  return { markdown, targets, json: { size, runs, threads, formula: FORMULA, first: { backtest: firstBt, screen: firstSc }, rounds, processStartS: startS, full: { backtest: fullBtS, screen: fullScS } } };
}

// Run directly: node dist/bench/update.js [--quick] [--runs N] [--threads N] [--symbols S --bars B]
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const args = process.argv.slice(2);
  const size = { ...SIZES[flag(args, 'quick') ? 'quick' : 'full'] };
  for (const k of ['symbols', 'bars'] as const) size[k] = numberArg(args, k, size[k]);
  const tmp = join(packageRoot(), 'bench', 'results', 'tmp', `update-${process.pid}`);
  try {
    const r = await updateBench({ size, runs: numberArg(args, 'runs', 3), threads: numberArg(args, 'threads', availableParallelism()), tmp, log: (s) => process.stderr.write(`${s}\n`) });
    process.stdout.write(`machine: ${machine()}\n\n${r.markdown}\n\n${table(['target', 'measured', 'status'], r.targets)}\n`);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
