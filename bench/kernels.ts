/**
 * Kernels through the public TypeScript API: bars/s per indicator on one 1M-bar series,
 * the ATC on one 5,000-bar symbol, and `atcBatch`/`atcBatchAsync` over many symbols on
 * the thread pool. Seeded data, best of `--runs` (robust to a busy machine).
 * Then `kernels.ema(x, 28)` against the plain JavaScript loop of the same recurrence
 * writing a fresh `Float64Array`, interleaved run by run so both see the same load, with
 * the API's result allocated fresh and into a reused `out`.
 * Then `atcBatch` of `--batch-symbols` x 2,000 bars on each path, interleaved run by run:
 * symbols in vector lanes (the default), the six types in lanes per symbol, and the
 * scalar reference; M bars/s per core (the pool's threads) and the ratios.
 *
 *   npm run bench:kernels -- [--bars 1000000] [--symbols 64] [--batch-symbols 300] [--runs 5] [--json]
 */
import { availableParallelism } from 'node:os';
import { kernels, type AtcParams } from '../engine/kernels.js';
import { jsEma } from './js-ema.js';
import { flag, machine, numberArg } from './util.js';

const args = process.argv.slice(2);
const bars = numberArg(args, 'bars', 1_000_000);
const symbols = numberArg(args, 'symbols', 64);
const runs = numberArg(args, 'runs', 5);
const json = flag(args, 'json');
const batchSymbols = numberArg(args, 'batch-symbols', 300);
const batchBars = 2_000;
const atcBars = 5_000;

/** A seeded geometric random walk (xorshift32), prices > 0. */
function walk(n: number, seed: number): Float64Array {
  let s = seed | 1;
  let p = 100;
  const x = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    p *= 1 + 0.02 * ((s >>> 0) / 2 ** 32 - 0.5);
    x[i] = p;
  }
  return x;
}

async function best(f: () => unknown): Promise<number> {
  let t = Infinity;
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await f();
    t = Math.min(t, (performance.now() - t0) / 1000);
  }
  return t;
}

const x = walk(bars, 11);
const line = kernels.ema(x, 28);
const sig = kernels.trendState(x, line);
const roc = kernels.roc(x);
const eq = { lambda: 0.02, decay: 0.03, cutout: 0 };
const one = walk(atcBars, 12);
const closes = new Float64Array(symbols * atcBars);
for (let s = 0; s < symbols; s++) closes.set(walk(atcBars, 100 + s), s * atcBars);
const offsets = Int32Array.from({ length: symbols + 1 }, (_, s) => s * atcBars);

const cases: [string, number, () => unknown][] = [
  ['sma(28)', bars, () => kernels.sma(x, 28)],
  ['ema(28)', bars, () => kernels.ema(x, 28)],
  ['rma(28)', bars, () => kernels.rma(x, 28)],
  ['wma(28)', bars, () => kernels.wma(x, 28)],
  ['dema(28)', bars, () => kernels.dema(x, 28)],
  ['hma(28)', bars, () => kernels.hma(x, 28)],
  ['lsma(28)', bars, () => kernels.lsma(x, 28)],
  ['kama(28)', bars, () => kernels.kama(x, 28)],
  ['rsi(14)', bars, () => kernels.rsi(x, 14)],
  ['roc', bars, () => kernels.roc(x)],
  ['bollinger(20, 2)', bars, () => kernels.bollinger(x, 20, 2)],
  ['trendState', bars, () => kernels.trendState(x, line)],
  ['equity', bars, () => kernels.equity(1, sig, roc, eq)],
  [`atc, 1 symbol x ${atcBars}`, atcBars, () => kernels.atc(one)],
  [`atcBatch, ${symbols} x ${atcBars}`, closes.length, () => kernels.atcBatch(closes, offsets)],
  [`atcBatchAsync, ${symbols} x ${atcBars}`, closes.length, () => kernels.atcBatchAsync(closes, offsets)],
];

const rows: { kernel: string; bars: number; seconds: number; barsPerSecond: number }[] = [];
for (const [kernel, n, f] of cases) {
  const seconds = await best(f);
  rows.push({ kernel, bars: n, seconds, barsPerSecond: n / seconds });
}

/** Best of `runs` for each case, the cases taking turns within every run. */
function interleaved(fs: [string, () => unknown][]): number[] {
  const t = fs.map(() => Infinity);
  for (let r = 0; r < runs; r++) {
    fs.forEach(([, f], i) => {
      const t0 = performance.now();
      f();
      t[i] = Math.min(t[i], (performance.now() - t0) / 1000);
    });
  }
  return t;
}

const reused = new Float64Array(bars);
const vsJs: [string, () => unknown][] = [
  ['ema(28), plain JS loop, fresh Float64Array', () => jsEma(x, 28)],
  ['ema(28), kernels.ema, fresh result', () => kernels.ema(x, 28)],
  ['ema(28), kernels.ema into a reused out', () => kernels.ema(x, 28, reused)],
];
const vsJsTimes = interleaved(vsJs);
vsJs.forEach(([kernel], i) => rows.push({ kernel, bars, seconds: vsJsTimes[i], barsPerSecond: bars / vsJsTimes[i] }));
/** API speed over the JS loop's (> 1: the API is faster), fresh and reused. */
const emaVsJs = { fresh: vsJsTimes[0] / vsJsTimes[1], reused: vsJsTimes[0] / vsJsTimes[2] };

// The pool runs one thread per core unless RAYON_NUM_THREADS says otherwise.
const cores = Number(process.env.RAYON_NUM_THREADS) || availableParallelism();
const batchCloses = new Float64Array(batchSymbols * batchBars);
for (let s = 0; s < batchSymbols; s++) batchCloses.set(walk(batchBars, 500 + s), s * batchBars);
const batchOffsets = Int32Array.from({ length: batchSymbols + 1 }, (_, s) => s * batchBars);
const batchPaths = ['symbols', 'lanes', 'scalar'] as const;
const batchTimes = interleaved(
  batchPaths.map((path) => [
    `atcBatch ${batchSymbols} x ${batchBars}, path ${path}`,
    // `path` is an addon option the engine passes through (kernels/src/napi/atc.rs).
    () => kernels.atcBatch(batchCloses, batchOffsets, { path } as unknown as AtcParams),
  ]),
);
batchPaths.forEach((path, i) => {
  const n = batchCloses.length;
  rows.push({ kernel: `atcBatch ${batchSymbols} x ${batchBars}, path ${path}`, bars: n, seconds: batchTimes[i], barsPerSecond: n / batchTimes[i] });
});
/** Symbols in lanes: M bars/s per core, and speed over the other paths (> 1: faster). */
const atcSymbolLanes = {
  cores,
  perCoreMBarsPerSecond: batchCloses.length / batchTimes[0] / cores / 1e6,
  overLanes: batchTimes[1] / batchTimes[0],
  overScalar: batchTimes[2] / batchTimes[0],
};

if (json) {
  console.log(JSON.stringify({ machine: machine(), runs, rows, emaVsJs, atcSymbolLanes }, null, 2));
} else {
  console.log(`${machine()}; best of ${runs}`);
  console.log('| kernel | bars | M bars/s |');
  console.log('|---|---:|---:|');
  for (const r of rows) console.log(`| ${r.kernel} | ${r.bars} | ${(r.barsPerSecond / 1e6).toFixed(1)} |`);
  console.log(`kernels.ema / plain JS loop (same run): ${emaVsJs.fresh.toFixed(2)}x fresh, ${emaVsJs.reused.toFixed(2)}x into a reused out`);
  const l = atcSymbolLanes;
  console.log(
    `atcBatch ${batchSymbols} x ${batchBars}, symbols in lanes (same run): ${l.perCoreMBarsPerSecond.toFixed(2)} M bars/s per core (${cores} cores), ` +
      `${l.overLanes.toFixed(2)}x the six-type lanes, ${l.overScalar.toFixed(2)}x scalar`,
  );
}
