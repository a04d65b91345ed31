/**
 * Typed, zero-copy access to barstream's Rust kernels (see `shared/docs/kernels-spec.md`).
 * Inputs are `Float64Array`s read in place; outputs are `Float64Array`s (single-input
 * kernels write a JS-heap buffer or the caller's `out`; ATC columns are `subarray` views
 * of one buffer). Errors arrive as
 * `BarstreamError` with a stable `code` and a message naming the parameter or index.
 */
import { addon } from './native.js';
import { fromNative, invalidParam } from './errors.js';
import type { AtcOptions } from '../native/index.js';
import { formulaKernels } from './formula.js';

/** The six moving-average types of the ATC, in output order. */
export type MaTypeName = 'EMA' | 'HMA' | 'WMA' | 'DEMA' | 'LSMA' | 'KAMA';

/** ATC parameters; anything missing takes the spec's default. */
export interface AtcParams {
  /** Base length of every type (28). */
  length?: number;
  /** Per-type base lengths, e.g. `{ EMA: 10, HMA: 40 }`; missing types take `length`. */
  lengths?: Partial<Record<MaTypeName, number>>;
  robustness?: 'Narrow' | 'Medium' | 'Wide';
  /** User units: `la = lambda/1000` (0.02). */
  lambda?: number;
  /** Percent: `de = decay/100` (0.03). */
  decay?: number;
  /** First bar with a defined equity (0). */
  cutout?: number;
  /** Layer-2 starting equity per type; missing types take 1.0. */
  weights?: Partial<Record<MaTypeName, number>>;
  /** `Cut` threshold of the average (0.49). */
  cut?: number;
  /** `'hull'` (default) or `'sma'` (the original Pine script). */
  hma?: 'hull' | 'sma';
  /** A long event when `Average_Signal` crosses over this (0.1). */
  longThreshold?: number;
  /** A short event when `Average_Signal` crosses under this (-0.1). */
  shortThreshold?: number;
}

export type AtcColumn =
  | 'Average_Signal'
  | `${MaTypeName}_Signal`
  | `${MaTypeName}_S`
  | 'Event';

/** One `Float64Array` per output column, each one value per input bar. */
export type AtcResult = Record<AtcColumn, Float64Array>;

/** A series continued across calls; `state()` bytes resume it later. */
export interface Stream<In extends unknown[], Out> {
  /** The outputs for exactly these bars. */
  push(...input: In): Out;
  /** The carried state (kernel, parameters and values), for `...Stream(params, state)`. */
  state(): Uint8Array;
}

export interface EquityOptions {
  lambda: number;
  decay: number;
  cutout: number;
}

export interface Bands {
  mid: Float64Array;
  upper: Float64Array;
  lower: Float64Array;
}

/** MACD outputs, one value per input bar each. */
export interface MacdResult {
  /** `ema(x, fast) - ema(x, slow)`. */
  macd: Float64Array;
  /** EMA(signal) over the defined macd values. */
  signal: Float64Array;
  /** `macd - signal`. */
  hist: Float64Array;
}

/** Stochastic outputs, one value per input bar each. */
export interface StochResult {
  /** %K: `100 * (close - lowest(low, k)) / (highest(high, k) - lowest(low, k))`, NaN where the range is 0. */
  k: Float64Array;
  /** %D: SMA(d) over the defined %K values (NaN where %K is NaN). */
  d: Float64Array;
}

/** The bar series a true range, ATR or stochastic reads. */
export type Hlc = [high: Float64Array, low: Float64Array, close: Float64Array];

function call<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    throw fromNative(e);
  }
}

let columnNames: AtcColumn[] | undefined;

function atcColumns(buf: Float64Array, n: number): AtcResult {
  columnNames ??= addon.atcColumns() as AtcColumn[];
  const out = {} as AtcResult;
  columnNames.forEach((name, c) => {
    out[name] = buf.subarray(c * n, (c + 1) * n);
  });
  return out;
}

/**
 * The ATC's output buffer, allocated here rather than in Rust: the JS heap accounts for
 * it, so the garbage collector frees dropped results (a Rust-allocated external buffer
 * of 14 columns went unnoticed by the collector and peak RSS grew with every call).
 */
function atcOut(n: number): Float64Array {
  return new Float64Array(14 * n);
}

function atcOptions(p?: AtcParams): AtcOptions | undefined {
  return p as AtcOptions | undefined;
}

type MaKind = 'sma' | 'ema' | 'rma' | 'wma' | 'dema' | 'hma' | 'lsma' | 'kama' | 'rsi';
/** The window statistics: single-input kernels with a length. */
type StatKind = 'stdev' | 'highest' | 'lowest' | 'sum';

type SingleKind = MaKind | StatKind | 'roc';

/** A single-input series continued across calls; `push` takes an output buffer to reuse. */
export interface SeriesStream extends Stream<[Float64Array], Float64Array> {
  /** The outputs for exactly these bars, into `out` when given (see `kernels.sma`). */
  push(x: Float64Array, out?: Float64Array): Float64Array;
}

/**
 * The buffer a single-input kernel writes: a fresh JS-heap one (see `atcOut`), or the
 * caller's `out`, which must be a `Float64Array` of `x.length` values. `out` may be `x`
 * itself (the kernel then computes in place, reading each block of inputs from a copy
 * before writing it); any other overlap with `x` is refused by the addon.
 */
function outFor(x: Float64Array, out: unknown, name = 'out'): Float64Array {
  if (out === undefined) return new Float64Array(x.length);
  if (!(out instanceof Float64Array)) {
    const what = out === null ? 'null' : ArrayBuffer.isView(out) ? out.constructor.name : typeof out;
    throw invalidParam(`${name} must be a Float64Array of ${x.length} values (x.length), got ${what}`);
  }
  if (out.length !== x.length) {
    throw invalidParam(`${name} must be a Float64Array of ${x.length} values (x.length), got ${out.length}`);
  }
  return out;
}

/** Bollinger's three outputs: fresh JS-heap buffers, or the caller's (checked as `outFor`). */
function bandsFor(x: Float64Array, out: Bands | undefined): Bands {
  if (out !== undefined && (out === null || typeof out !== 'object')) {
    throw invalidParam(`out must be { mid, upper, lower }, each a Float64Array of ${x.length} values (x.length)`);
  }
  if (out !== undefined) {
    for (const key of ['mid', 'upper', 'lower'] as const) {
      if (out[key] === undefined) throw invalidParam(`out.${key} is missing: out must be { mid, upper, lower }`);
    }
  }
  return {
    mid: outFor(x, out?.mid, 'out.mid'),
    upper: outFor(x, out?.upper, 'out.upper'),
    lower: outFor(x, out?.lower, 'out.lower'),
  };
}

/** `kind` over `x` into `out` (or a fresh buffer), which it returns. */
function kernelOut(kind: SingleKind, x: Float64Array, length: number, out?: Float64Array): Float64Array {
  const o = outFor(x, out);
  call(() => addon.kernelInto(kind, x, length, o));
  return o;
}

const whole =
  (kind: MaKind | StatKind) =>
  (x: Float64Array, length: number, out?: Float64Array): Float64Array =>
    kernelOut(kind, x, length, out);

function kernelStream(kind: SingleKind, length: number, state?: Uint8Array): SeriesStream {
  const s = call(() => new addon.KernelStream(kind, length, state));
  return {
    push: (x, out) => {
      const o = outFor(x, out);
      call(() => s.pushInto(x, o));
      return o;
    },
    state: () => s.state(),
  };
}

const streamOf = (kind: MaKind | StatKind) => (length: number, state?: Uint8Array) => kernelStream(kind, length, state);

/** One JS-heap output per bar of `high`; the Rust side checks that low and close match it. */
function hlcInto(high: Float64Array, fill: (out: Float64Array) => void): Float64Array {
  const out = new Float64Array(high.length);
  call(() => fill(out));
  return out;
}

function macdInto(fill: (m: Float64Array, s: Float64Array, h: Float64Array) => void, n: number): MacdResult {
  const r = { macd: new Float64Array(n), signal: new Float64Array(n), hist: new Float64Array(n) };
  call(() => fill(r.macd, r.signal, r.hist));
  return r;
}

function stochInto(fill: (k: Float64Array, d: Float64Array) => void, n: number): StochResult {
  const r = { k: new Float64Array(n), d: new Float64Array(n) };
  call(() => fill(r.k, r.d));
  return r;
}

/**
 * Every kernel, whole-series and streaming. Each single-input kernel (`sma` ... `sum`, `roc`)
 * takes an optional last argument `out`, a `Float64Array` of `x.length` values to write
 * instead of allocating (its result is `out` itself; `out` may be `x`: computed in place),
 * and so does its stream's `push`.
 * @example
 * import { kernels } from 'barstream';
 * const ema = kernels.ema(close, 28);
 * const s = kernels.atcStream({ robustness: 'Wide' });
 * const first = s.push(close.subarray(0, 1000));
 * const saved = s.state();
 * const rest = kernels.atcStream({ robustness: 'Wide' }, saved).push(close.subarray(1000));
 */
export const kernels = {
  ...formulaKernels,
  sma: whole('sma'),
  ema: whole('ema'),
  rma: whole('rma'),
  wma: whole('wma'),
  dema: whole('dema'),
  hma: whole('hma'),
  lsma: whole('lsma'),
  kama: whole('kama'),
  rsi: whole('rsi'),
  /** Population standard deviation of the last `length` values (Bollinger's `sd`); first defined at `length - 1`. */
  stdev: whole('stdev'),
  /** Max of the last `length` values; first defined at `length - 1`. */
  highest: whole('highest'),
  /** Min of the last `length` values; first defined at `length - 1`. */
  lowest: whole('lowest'),
  /** Sum of the last `length` values; first defined at `length - 1`. */
  sum: whole('sum'),
  /** True range: NaN at bar 0, then `max(high - low, |high - close[i-1]|, |low - close[i-1]|)`. */
  trueRange: (high: Float64Array, low: Float64Array, close: Float64Array): Float64Array =>
    hlcInto(high, (out) => addon.trueRangeInto(high, low, close, out)),
  /** Wilder's ATR: `rma(trueRange, length)` seeded by the mean true range of bars 1..length; first defined at `length`. */
  atr: (high: Float64Array, low: Float64Array, close: Float64Array, length: number): Float64Array =>
    hlcInto(high, (out) => addon.atrInto(high, low, close, length, out)),
  /** MACD line `ema(x, fast) - ema(x, slow)`, its signal EMA and the histogram. */
  macd: (x: Float64Array, fast: number, slow: number, signal: number): MacdResult =>
    macdInto((m, s, h) => addon.macdInto(x, fast, slow, signal, m, s, h), x.length),
  /** Stochastic %K over `k` bars and %D, its `d`-bar SMA over the defined %K values. */
  stoch: (high: Float64Array, low: Float64Array, close: Float64Array, k: number, d: number): StochResult =>
    stochInto((ko, dout) => addon.stochInto(high, low, close, k, d, ko, dout), high.length),
  /** One-bar rate of change `(x[i]-x[i-1])/x[i-1]`; prices must be > 0. */
  roc: (x: Float64Array, out?: Float64Array): Float64Array => kernelOut('roc', x, 1, out),
  /**
   * SMA mid with population standard-deviation bands at `k` deviations; into `out`'s three
   * buffers when given (each a `Float64Array` of `x.length`, sharing memory with none of the
   * others nor with `x`), which it returns.
   */
  bollinger: (x: Float64Array, length: number, k: number, out?: Bands): Bands => {
    const b = bandsFor(x, out);
    call(() => addon.bollingerInto(x, length, k, b.mid, b.upper, b.lower));
    return b;
  },
  /** +1/-1/0 crossover state of `x` against `line` (NaN in `line` = not defined). */
  trendState: (x: Float64Array, line: Float64Array): Float64Array => call(() => addon.trendState(x, line)),
  /** Equity of following `signal` one bar late; `lambda`/`decay` in user units. */
  equity: (start: number, signal: Float64Array, roc: Float64Array, opts: EquityOptions): Float64Array =>
    call(() => addon.equity(start, signal, roc, opts)),
  /** The full ATC over one symbol. */
  atc: (x: Float64Array, params?: AtcParams): AtcResult => {
    const out = atcOut(x.length);
    call(() => addon.atcInto(x, out, atcOptions(params)));
    return atcColumns(out, x.length);
  },
  /** The ATC over many symbols (`closes[offsets[i] .. offsets[i+1])`) on the thread pool; columns aligned with `closes`. */
  atcBatch: (closes: Float64Array, offsets: Int32Array, params?: AtcParams): AtcResult => {
    const out = atcOut(closes.length);
    call(() => addon.atcBatchSync(closes, offsets, out, atcOptions(params)));
    return atcColumns(out, closes.length);
  },
  /** As `atcBatch`, off the JS thread. Do not modify `closes`/`offsets` until it settles. */
  atcBatchAsync: async (closes: Float64Array, offsets: Int32Array, params?: AtcParams): Promise<AtcResult> => {
    const out = atcOut(closes.length);
    try {
      await addon.atcBatchAsync(closes, offsets, out, atcOptions(params));
    } catch (e) {
      throw fromNative(e);
    }
    return atcColumns(out, closes.length);
  },

  smaStream: streamOf('sma'),
  emaStream: streamOf('ema'),
  rmaStream: streamOf('rma'),
  wmaStream: streamOf('wma'),
  demaStream: streamOf('dema'),
  hmaStream: streamOf('hma'),
  lsmaStream: streamOf('lsma'),
  kamaStream: streamOf('kama'),
  rsiStream: streamOf('rsi'),
  rocStream: (state?: Uint8Array) => kernelStream('roc', 1, state),
  stdevStream: streamOf('stdev'),
  highestStream: streamOf('highest'),
  lowestStream: streamOf('lowest'),
  sumStream: streamOf('sum'),
  trueRangeStream: (state?: Uint8Array): Stream<Hlc, Float64Array> => {
    const s = call(() => new addon.TrueRangeStream(state));
    return { push: (h, l, c) => hlcInto(h, (out) => s.pushInto(h, l, c, out)), state: () => s.state() };
  },
  atrStream: (length: number, state?: Uint8Array): Stream<Hlc, Float64Array> => {
    const s = call(() => new addon.AtrStream(length, state));
    return { push: (h, l, c) => hlcInto(h, (out) => s.pushInto(h, l, c, out)), state: () => s.state() };
  },
  macdStream: (fast: number, slow: number, signal: number, state?: Uint8Array): Stream<[Float64Array], MacdResult> => {
    const s = call(() => new addon.MacdStream(fast, slow, signal, state));
    return { push: (x) => macdInto((m, g, h) => s.pushInto(x, m, g, h), x.length), state: () => s.state() };
  },
  stochStream: (k: number, d: number, state?: Uint8Array): Stream<Hlc, StochResult> => {
    const s = call(() => new addon.StochStream(k, d, state));
    return { push: (h, l, c) => stochInto((ko, dout) => s.pushInto(h, l, c, ko, dout), h.length), state: () => s.state() };
  },
  bollingerStream: (length: number, k: number, state?: Uint8Array): Stream<[Float64Array], Bands> => {
    const s = call(() => new addon.BollingerStream(length, k, state));
    return { push: (x) => call(() => s.push(x)), state: () => s.state() };
  },
  trendStateStream: (state?: Uint8Array): Stream<[Float64Array, Float64Array], Float64Array> => {
    const s = call(() => new addon.TrendStream(state));
    return { push: (x, line) => call(() => s.push(x, line)), state: () => s.state() };
  },
  equityStream: (start: number, opts: EquityOptions, state?: Uint8Array): Stream<[Float64Array, Float64Array], Float64Array> => {
    const s = call(() => new addon.EquityStream(start, opts, state));
    return { push: (signal, roc) => call(() => s.push(signal, roc)), state: () => s.state() };
  },
  atcStream: (params?: AtcParams, state?: Uint8Array): Stream<[Float64Array], AtcResult> => {
    const s = call(() => new addon.AtcStream(atcOptions(params), state));
    return { push: (x) => atcColumns(call(() => s.push(x)), x.length), state: () => s.state() };
  },
};
