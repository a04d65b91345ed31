/**
 * Shards and merge (issue 10, "Speed"): the backtest of one dataset as a single process, then as
 * N shards run one after another on this machine (`barstream backtest --shard i/N`, each a
 * process as a scheduler would start it) and `barstream merge`. Reports each shard's time, the
 * merge's, the sharded run's total work against the single run (target: at most 5% more), the
 * model's prediction for N machines (the slowest shard plus the merge; a model, not a cluster
 * measurement), and `merge` over 1,000 bucket files (target: under 2 s). Every run is checked:
 * the merged output must hold the single run's rows.
 *
 *   node dist/bench/shards.js [--quick] [--runs 3] [--threads N] [--shards 4,8] [--symbols S --bars B --buckets K]
 *   npm run bench -- --only shards [--quick]
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DuckDBInstance } from '@duckdb/node-api';
import { generate } from '../datasets/generate.js';
import { table } from '../engine/cli/common.js';
import { packageRoot } from '../engine/native.js';
import { literal } from '../engine/sql.js';
import { flag, machine, median, numberArg } from './util.js';

export interface ShardsSize {
  symbols: number;
  bars: number;
  buckets: number;
  shardCounts: number[];
  /** The merge-speed dataset: a backtest writes up to 4 files per bucket (about 1,000 for 300 buckets). */
  mergeSymbols: number;
  mergeBars: number;
  mergeBuckets: number;
}

export const SIZES: Record<'quick' | 'full', ShardsSize> = {
  quick: { symbols: 300, bars: 2000, buckets: 12, shardCounts: [4], mergeSymbols: 600, mergeBars: 200, mergeBuckets: 300 },
  full: { symbols: 10000, bars: 5000, buckets: 64, shardCounts: [4, 8], mergeSymbols: 3000, mergeBars: 2000, mergeBuckets: 300 },
};

export interface ShardsReport {
  /** Markdown lines: the tables and notes. */
  markdown: string;
  /** [target, measured, status] rows for the targets table. */
  targets: [string, string, string][];
  json: unknown;
}

const cliPath = () => join(packageRoot(), 'dist', 'engine', 'cli', 'main.js');

/** Runs the CLI; its wall time in seconds (the process as a scheduler starts it). */
function timed(args: string[]): number {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [cliPath(), ...args], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const s = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`barstream ${args.join(' ')} failed: ${r.stderr}`);
  return s;
}

async function dataset(symbols: number, bars: number, buckets: number): Promise<string> {
  const dir = join(packageRoot(), 'bench', 'data', `synth-${symbols}x${bars}-k${buckets}-s7`);
  if (!existsSync(join(dir, 'metadata.json'))) {
    process.stderr.write(`generating ${dir} ...\n`);
    await generate({ out: dir, symbols, bars, seed: 7, buckets, overwrite: true });
  }
  return dir;
}

/** Rows of the table `sub` (`signals`, `summary`, `trades`, `matches`) in `a` not in `b` plus those in `b` not in `a` (0 when the outputs agree). */
export async function disagreement(a: string, b: string, sub = 'signals'): Promise<number> {
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  try {
    // Every Parquet file under it, whatever its layout (bucket folders, appended parts).
    const src = (d: string) => `read_parquet(${literal(join(d, sub, '**', '*.parquet'))}, hive_partitioning = false, union_by_name = true)`;
    const r = await conn.runAndReadAll(`SELECT (SELECT count(*) FROM (SELECT * FROM ${src(a)} EXCEPT ALL SELECT * FROM ${src(b)})) + (SELECT count(*) FROM (SELECT * FROM ${src(b)} EXCEPT ALL SELECT * FROM ${src(a)})) AS n`);
    return Number(r.getRowObjectsJS()[0].n);
  } finally {
    conn.closeSync();
    db.closeSync();
  }
}

const f2 = (x: number) => x.toFixed(2);
const pct = (x: number) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)}%`;

/** Runs the benchmark at `size`, writing under `tmp`. */
export async function shardsBench(opts: { size: ShardsSize; runs: number; threads: number; tmp: string; log: (s: string) => void }): Promise<ShardsReport> {
  const { size, runs, threads, tmp, log } = opts;
  const ds = await dataset(size.symbols, size.bars, size.buckets);
  const totalBars = size.symbols * size.bars;
  const common = ['--data', ds, '--threads', String(threads), '--json'];
  const single = join(tmp, 'single');
  log(`shards: single backtest, ${size.symbols} symbols x ${size.bars} bars, ${size.buckets} buckets, ${runs} runs`);
  const singleTimes: number[] = [];
  for (let r = 0; r < runs; r++) singleTimes.push(timed(['backtest', ...common, '--out', single, '--overwrite']));
  const singleS = median(singleTimes);
  // Each shard and the merge is a process of its own: what starting one costs here (Node, the addon, DuckDB).
  const startS = median(Array.from({ length: runs }, () => timed(['--version'])));
  const rows: (string | number)[][] = [];
  const modelRows: (string | number)[][] = [];
  const targets: [string, string, string][] = [];
  const results: unknown[] = [];
  for (const n of size.shardCounts) {
    log(`shards: ${n} shards one after another, then merge, ${runs} runs`);
    const perShard: number[][] = Array.from({ length: n }, () => []);
    const merges: number[] = [];
    const out = join(tmp, `sharded-${n}`);
    for (let r = 0; r < runs; r++) {
      rmSync(out, { recursive: true, force: true });
      for (let i = 0; i < n; i++) perShard[i].push(timed(['backtest', ...common, '--out', out, '--shard', `${i}/${n}`]));
      merges.push(timed(['merge', out, '--json']));
    }
    const differ = await disagreement(out, single);
    if (differ !== 0) throw new Error(`${n} shards merged differ from the single run in ${differ} signal rows`);
    const shardS = perShard.map(median);
    const mergeS = median(merges);
    const work = shardS.reduce((a, b) => a + b, 0) + mergeS;
    const overhead = work / singleS - 1;
    // The same without the N extra process starts (N shards + merge vs 1 single run).
    const netOverhead = (work - (n + 1) * startS) / (singleS - startS) - 1;
    shardS.forEach((s, i) => rows.push([`${n}`, `shard ${i}`, f2(s)]));
    rows.push([`${n}`, 'merge', f2(mergeS)], [`${n}`, 'total work (shards + merge)', f2(work)], [`${n}`, 'single run', f2(singleS)], [`${n}`, 'overhead vs single run', pct(overhead)], [`${n}`, `overhead without the ${n} extra process starts (${f2(startS)} s each)`, pct(netOverhead)]);
    // The model: N machines like this one, each running one shard at once, then the merge.
    const predicted = Math.max(...shardS) + mergeS;
    modelRows.push([n, f2(singleS), f2(predicted), `${(singleS / predicted).toFixed(1)}x`, f2((totalBars / predicted) / 1e6)]);
    targets.push([`sharded backtest total work <= 5% over a single run (${n} shards)`, pct(overhead), overhead <= 0.05 ? 'met' : 'MISSED']);
    results.push({ shards: n, shardS, mergeS, work, singleS, overhead, netOverhead, predicted });
  }
  // Merge speed over about 1,000 bucket files: a backtest of mergeBuckets buckets writes 4 per bucket.
  const mds = await dataset(size.mergeSymbols, size.mergeBars, size.mergeBuckets);
  const mout = join(tmp, 'merge-files');
  log(`shards: merge over the files of ${size.mergeBuckets} buckets`);
  for (let i = 0; i < 4; i++) timed(['backtest', '--data', mds, '--threads', String(threads), '--json', '--out', mout, '--shard', `${i}/4`]);
  const mergeTimes: number[] = [];
  const processTimes: number[] = [];
  let files = 0;
  for (let r = 0; r < runs; r++) {
    rmSync(join(mout, '_manifest.json'), { force: true });
    const t0 = performance.now();
    const res = spawnSync(process.execPath, [cliPath(), 'merge', mout, '--json'], { encoding: 'utf8' });
    processTimes.push((performance.now() - t0) / 1000);
    if (res.status !== 0) throw new Error(`merge failed: ${res.stderr}`);
    const j = JSON.parse(res.stdout);
    files = j.files;
    mergeTimes.push(j.elapsedMs / 1000);
  }
  const mergeFilesS = median(mergeTimes);
  const mergeProcessS = median(processTimes);
  targets.push([`merge over ${files.toLocaleString('en-US')} bucket files < 2 s (checks, hashes, manifest)`, `${f2(mergeFilesS)} s (${f2(mergeProcessS)} s with the process start)`, mergeFilesS < 2 ? 'met' : 'MISSED']);
  const markdown = [
    `Shards (issue 10): ${size.symbols.toLocaleString('en-US')} symbols x ${size.bars.toLocaleString('en-US')} bars (${(totalBars / 1e6).toFixed(1)} M bars) in ${size.buckets} buckets, backtest with --threads ${threads}; each time is one process (median of ${runs}), shards run one after another on this machine.`,
    '',
    '```',
    table(['shards', 'step', 'seconds'], rows),
    '```',
    '',
    'Scaling model (not a cluster measurement): N machines like this one run the shards at once, then the merge runs; predicted time = slowest shard + merge.',
    '',
    '```',
    table(['N', 'single run s', 'predicted s on N machines', 'speed-up', 'M bars/s'], modelRows),
    '```',
    '',
    `merge over ${files} bucket files (${size.mergeBuckets} buckets of ${size.mergeSymbols} symbols x ${size.mergeBars} bars, every file re-hashed): ${f2(mergeFilesS)} s as the command measures it, ${f2(mergeProcessS)} s for the whole process (median of ${runs}); starting a barstream process (\`barstream --version\`) takes ${f2(startS)} s here, paid once per shard.`,
  ].join('\n');
  return { markdown, targets, json: { size, runs, threads, results, merge: { files, seconds: mergeFilesS, processSeconds: mergeProcessS }, processStartS: startS } };
}

// Run directly: node dist/bench/shards.js [--quick] [--runs N] [--threads N]
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const args = process.argv.slice(2);
  const size = { ...SIZES[flag(args, 'quick') ? 'quick' : 'full'] };
  for (const k of ['symbols', 'bars', 'buckets'] as const) size[k] = numberArg(args, k, size[k]);
  if (args.includes('--shards')) size.shardCounts = args[args.indexOf('--shards') + 1].split(',').map(Number);
  const tmp = join(packageRoot(), 'bench', 'results', 'tmp', `shards-${process.pid}`);
  mkdirSync(tmp, { recursive: true });
  try {
    const r = await shardsBench({ size, runs: numberArg(args, 'runs', 3), threads: numberArg(args, 'threads', availableParallelism()), tmp, log: (s) => process.stderr.write(`${s}\n`) });
    process.stdout.write(`machine: ${machine()}\n\n${r.markdown}\n\n${table(['target', 'measured', 'status'], r.targets)}\n`);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
