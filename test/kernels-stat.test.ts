/**
 * The window statistics (stdev, highest, lowest, sum), true range, ATR, MACD and the
 * stochastic through the public `kernels.*` API and the real addon: against the named
 * values of the independent golden formula cases (`../shared/golden/formula`), against
 * their definitions on each window, as streams in chunks and resumed from `state()`
 * (bit for bit), and their errors as `BarstreamError` naming the parameter or the index.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { kernels } from '../engine/kernels.js';
import type { Stream } from '../engine/kernels.js';
import { thrown } from './util/errors.js';
import { cat } from './util/arrays.js';
import { goldenDir } from './util/golden.js';
import { Rng } from './util/rng.js';

interface FormulaCase {
  formula: string;
  value: (number | null)[];
  values: Record<string, (number | null)[]>;
}

interface FormulaGolden {
  file: string;
  open: Float64Array;
  high: Float64Array;
  low: Float64Array;
  close: Float64Array;
  formulas: FormulaCase[];
}

const formulaDir = join(goldenDir, 'formula');

function loadFormulaGolden(): FormulaGolden[] {
  const files = readdirSync(formulaDir).filter((f) => f.endsWith('.json')).sort();
  expect(files.length).toBeGreaterThan(0);
  return files.map((file) => {
    const g = JSON.parse(readFileSync(join(formulaDir, file), 'utf8'));
    return {
      file,
      open: Float64Array.from(g.open),
      high: Float64Array.from(g.high),
      low: Float64Array.from(g.low),
      close: Float64Array.from(g.close),
      formulas: g.formulas,
    };
  });
}

const goldens = loadFormulaGolden();

/** The named value `name` of the case whose formula starts with `head`. */
function named(g: FormulaGolden, head: string, name: string): (number | null)[] {
  const c = g.formulas.find((f) => f.formula.startsWith(head));
  if (!c) throw new Error(`${g.file}: no case starting ${JSON.stringify(head)}`);
  const v = c.values[name];
  if (!v) throw new Error(`${g.file}: no named value ${name} in ${JSON.stringify(c.formula)}`);
  return v;
}

/** `|got - want| <= 1e-9 * max(1, |want|)`, NaN exactly where `want` is null (or NaN). */
function expectClose(what: string, got: ArrayLike<number>, want: ArrayLike<number | null>): void {
  expect(got.length, `${what}: length`).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    const w = want[i];
    const g = got[i];
    if (w === null || Number.isNaN(w)) {
      if (!Number.isNaN(g)) throw new Error(`${what}[${i}]: got ${g}, want NaN`);
    } else if (!(Math.abs(g - w) <= 1e-9 * Math.max(1, Math.abs(w)))) {
      throw new Error(`${what}[${i}]: got ${g}, want ${w}`);
    }
  }
}

/** Bit-identical, NaN where NaN. */
function expectSame(what: string, got: Float64Array, want: Float64Array): void {
  expect(got.length, `${what}: length`).toBe(want.length);
  const a = Buffer.from(got.buffer, got.byteOffset, got.byteLength);
  const b = Buffer.from(want.buffer, want.byteOffset, want.byteLength);
  if (!a.equals(b)) {
    const i = got.findIndex((v, j) => !Object.is(v, want[j]));
    throw new Error(`${what}[${i}]: ${got[i]} != ${want[i]}`);
  }
}


describe('the golden formula cases of the direct kernels', () => {
  it.each(goldens.map((g) => [g.file, g] as const))('%s', (_, g) => {
    const { open, high, low, close } = g;
    const n = close.length;
    expectClose('hi = highest(high, 20)', kernels.highest(high, 20), named(g, 'hi = highest(high, 20)', 'hi'));

    const a = kernels.atr(high, low, close, 14);
    expectClose('a = atr(14)', a, named(g, 'a = atr(14)', 'a'));
    // `r = rma(tr, 14)`: tr is NaN at bar 0, so the RMA starts at bar 1; it is the ATR.
    const tr = kernels.trueRange(high, low, close);
    const r = new Float64Array(n).fill(NaN);
    r.set(kernels.rma(tr.subarray(1), 14), 1);
    expectClose('r = rma(tr, 14)', r, named(g, 'h = hma(rsi(close, 14), 9)', 'r'));
    expectSame('atr = rma(tr from bar 1)', a, r);

    const st = kernels.stoch(high, low, close, 14, 3);
    expectClose('k = stoch_k(14)', st.k, named(g, 'k = stoch_k(14); d = stoch_d(14, 3)', 'k'));
    expectClose('d = stoch_d(14, 3)', st.d, named(g, 'k = stoch_k(14); d = stoch_d(14, 3)', 'd'));
    // `dk = sma(k, 3)` over stoch_k(5), NaN on flat bars: %D skips the undefined %K.
    const st5 = kernels.stoch(high, low, close, 5, 3);
    expectClose('k = stoch_k(5)', st5.k, named(g, 'k = stoch_k(5)', 'k'));
    expectClose('dk = sma(k, 3)', st5.d, named(g, 'k = stoch_k(5)', 'dk'));

    const m = kernels.macd(close, 12, 26, 9);
    const head = 'm = macd(close, 12, 26)';
    expectClose('m = macd(close, 12, 26)', m.macd, named(g, head, 'm'));
    expectClose('s = macd_signal(close, 12, 26, 9)', m.signal, named(g, head, 's'));
    expectClose('h = macd_hist(close, 12, 26, 9)', m.hist, named(g, head, 'h'));

    // `sd = stdev(lr, 20)`: lr is NaN at bar 0; compare from its first defined value on.
    const lrHead = 'lr = log(close / close[1])';
    const lr = Float64Array.from({ length: n - 1 }, (_, i) => Math.log(close[i + 1] / close[i]));
    expectClose('lr', lr, named(g, lrHead, 'lr').slice(1));
    const sd = named(g, lrHead, 'sd');
    expect(sd[0]).toBeNull();
    expectClose('sd = stdev(lr, 20)', kernels.stdev(lr, 20), sd.slice(1));

    // `up = sum(close > open, 10)` over the 0/1 series.
    const up = Float64Array.from(close, (c, i) => (c > open[i] ? 1 : 0));
    expectClose('up = sum(close > open, 10)', kernels.sum(up, 10), named(g, 'up = sum(close > open, 10)', 'up'));
  });
});

/** A series with flat runs (zero ranges, flat windows) and jumps, and bars around it. */
function bars(n: number, seed: number): { high: Float64Array; low: Float64Array; close: Float64Array } {
  const rng = new Rng(seed);
  const close = new Float64Array(n);
  const high = new Float64Array(n);
  const low = new Float64Array(n);
  let p = 100;
  for (let i = 0; i < n; i++) {
    const kind = rng.int(0, 9);
    const spread = kind <= 2 ? 0 : rng.next() * 0.02;
    if (kind === 3) p *= 1 + (rng.next() - 0.5) * 0.2;
    else if (kind > 3) p *= 1 + (rng.next() - 0.5) * 0.04;
    close[i] = p;
    high[i] = p * (1 + spread);
    low[i] = p * (1 - spread);
  }
  return { high, low, close };
}

describe('the window statistics against their definitions', () => {
  const { high, close } = bars(400, 7);
  const direct = (x: Float64Array, len: number, f: (w: Float64Array) => number) =>
    Float64Array.from(x, (_, i) => (i + 1 >= len ? f(x.subarray(i + 1 - len, i + 1)) : NaN));
  const sum = (w: Float64Array) => w.reduce((a, b) => a + b, 0);
  const sd = (w: Float64Array) => {
    const mean = sum(w) / w.length;
    return Math.sqrt(w.reduce((a, v) => a + (v - mean) ** 2, 0) / w.length);
  };
  it.each([1, 2, 5, 20, 77, 399, 400, 401])('length %i', (len) => {
    expectClose('sum', kernels.sum(close, len), direct(close, len, sum));
    expectClose('stdev', kernels.stdev(close, len), direct(close, len, sd));
    expectSame('highest', kernels.highest(high, len), direct(high, len, (w) => Math.max(...w)));
    expectSame('lowest', kernels.lowest(close, len), direct(close, len, (w) => Math.min(...w)));
  });
  it('stdev is the Bollinger deviation', () => {
    const bb = kernels.bollinger(close, 20, 1);
    const s = kernels.stdev(close, 20);
    expectSame('upper = mid + sd', bb.upper, Float64Array.from(bb.mid, (m, i) => m + 1 * s[i]));
  });
});

// ---------- streams ----------

type Out = Record<string, Float64Array>;

interface StreamCase {
  name: string;
  /** The series the stream reads, aligned. */
  whole: () => Out;
  make: (state?: Uint8Array) => Stream<Float64Array[], Out>;
}

const B = bars(600, 11);
const { high, low, close } = B;
const hlc = [high, low, close];

/** Adapts a stream of one output to named outputs. */
function one(s: Stream<Float64Array[], Float64Array>): Stream<Float64Array[], Out> {
  return { push: (...x) => ({ out: s.push(...x) }), state: () => s.state() };
}
function many<T extends object>(s: Stream<Float64Array[], T>): Stream<Float64Array[], Out> {
  return { push: (...x) => s.push(...x) as unknown as Out, state: () => s.state() };
}

const cases: StreamCase[] = [
  ...(['stdev', 'highest', 'lowest', 'sum'] as const).flatMap((k) =>
    [1, 14, 60].map((len) => ({
      name: `${k}(${len})`,
      whole: () => ({ out: kernels[k](close, len) }),
      make: (st?: Uint8Array) => {
        const s = kernels[`${k}Stream`](len, st);
        return one({ push: (_h, _l, c) => s.push(c), state: () => s.state() });
      },
    })),
  ),
  {
    name: 'trueRange',
    whole: () => ({ out: kernels.trueRange(high, low, close) }),
    make: (st) => {
      const s = kernels.trueRangeStream(st);
      return one({ push: (h, l, c) => s.push(h, l, c), state: () => s.state() });
    },
  },
  ...[1, 14].map((len) => ({
    name: `atr(${len})`,
    whole: () => ({ out: kernels.atr(high, low, close, len) }),
    make: (st?: Uint8Array) => {
      const s = kernels.atrStream(len, st);
      return one({ push: (h, l, c) => s.push(h, l, c), state: () => s.state() });
    },
  })),
  {
    name: 'macd(12, 26, 9)',
    whole: () => ({ ...kernels.macd(close, 12, 26, 9) }),
    make: (st) => {
      const s = kernels.macdStream(12, 26, 9, st);
      return many({ push: (_h, _l, c) => s.push(c), state: () => s.state() });
    },
  },
  ...[
    [14, 3],
    [5, 1],
  ].map(([k, d]) => ({
    name: `stoch(${k}, ${d})`,
    whole: () => ({ ...kernels.stoch(high, low, close, k, d) }),
    make: (st?: Uint8Array) => {
      const s = kernels.stochStream(k, d, st);
      return many({ push: (h, l, c) => s.push(h, l, c), state: () => s.state() });
    },
  })),
];

/** Pushes the chunks `[cuts[i], cuts[i+1])`, optionally re-creating the stream from `state()` after each. */
function run(c: StreamCase, cuts: number[], resume: boolean): Out {
  let s = c.make();
  const parts: Out[] = [];
  for (let i = 0; i + 1 < cuts.length; i++) {
    const [lo, hi] = [cuts[i], cuts[i + 1]];
    const out = s.push(...hlc.map((x) => x.subarray(lo, hi)));
    for (const v of Object.values(out)) expect(v.length).toBe(hi - lo);
    parts.push(out);
    if (resume) s = c.make(s.state());
  }
  return Object.fromEntries(Object.keys(parts[0]).map((k) => [k, cat(parts.map((p) => p[k]))]));
}

const N = close.length;
const STEPS = [1, 2, 3, 5, 7, 13, 100, N];
const stepCuts = (step: number) => [...Array.from({ length: Math.ceil(N / step) }, (_, i) => i * step), N];

describe.each(cases)('$name stream', (c) => {
  const whole = c.whole();
  it.each(STEPS)('in steps of %i equals one pass, pushed and resumed', (step) => {
    for (const resume of [false, true]) {
      const got = run(c, stepCuts(step), resume);
      for (const k of Object.keys(whole)) expectSame(`${c.name}.${k} step ${step} resume ${resume}`, got[k], whole[k]);
    }
  });
  it('at random split points equals one pass', () => {
    const rng = new Rng(c.name.length * 7919 + 3);
    for (let t = 0; t < 20; t++) {
      const cuts = [0, ...Array.from({ length: rng.int(0, 9) }, () => rng.int(0, N)).sort((a, b) => a - b), N];
      const resume = t % 2 === 1;
      const got = run(c, cuts, resume);
      for (const k of Object.keys(whole)) expectSame(`${c.name}.${k} cuts ${cuts}`, got[k], whole[k]);
    }
  });
});

// ---------- errors ----------

describe('errors name the parameter or the index', () => {
  const x = close.subarray(0, 50);
  it('lengths', () => {
    const e = thrown(() => kernels.stdev(x, 0));
    expect(e.code).toBe('BARSTREAM_INVALID_PARAM');
    expect(e.message).toBe('stdev: length must be an integer from 1 to 1000000, got 0');
    expect(thrown(() => kernels.highest(x, 2.5)).message).toBe('highest: length must be an integer from 1 to 1000000, got 2.5');
    expect(thrown(() => kernels.lowestStream(1_000_001)).message).toBe('lowest: length must be an integer from 1 to 1000000, got 1000001');
    expect(thrown(() => kernels.sum(x, NaN)).message).toBe('sum: length must be an integer from 1 to 1000000, got NaN');
    expect(thrown(() => kernels.atr(x, x, x, -1)).message).toBe('atr: length must be an integer from 1 to 1000000, got -1');
    expect(thrown(() => kernels.atrStream(0)).message).toBe('atr: length must be an integer from 1 to 1000000, got 0');
    expect(thrown(() => kernels.macd(x, 0, 26, 9)).message).toBe('macd: fast must be an integer from 1 to 1000000, got 0');
    expect(thrown(() => kernels.macd(x, 12, 26.5, 9)).message).toBe('macd: slow must be an integer from 1 to 1000000, got 26.5');
    expect(thrown(() => kernels.macdStream(12, 26, 0)).message).toBe('macd: signal must be an integer from 1 to 1000000, got 0');
    expect(thrown(() => kernels.stoch(x, x, x, 0, 3)).message).toBe('stoch: k must be an integer from 1 to 1000000, got 0');
    expect(thrown(() => kernels.stochStream(14, 0)).message).toBe('stoch: d must be an integer from 1 to 1000000, got 0');
  });

  it('non-finite inputs, with global indices in streams', () => {
    const bad = x.slice();
    bad[17] = NaN;
    for (const f of [() => kernels.stdev(bad, 5), () => kernels.highest(bad, 5), () => kernels.macd(bad, 3, 5, 2)]) {
      const e = thrown(f);
      expect(e.code).toBe('BARSTREAM_BAD_INPUT');
      expect(e.message).toBe('x[17] is NaN: prices must be finite');
    }
    expect(thrown(() => kernels.trueRange(x, bad, x)).message).toBe('low[17] is NaN: prices must be finite');
    expect(thrown(() => kernels.atr(bad, x, x, 3)).message).toBe('high[17] is NaN: prices must be finite');
    expect(thrown(() => kernels.stoch(x, x, bad, 3, 2)).message).toBe('close[17] is NaN: prices must be finite');
    const s = kernels.sumStream(3);
    s.push(x.subarray(0, 10));
    expect(thrown(() => s.push(bad.subarray(10, 20))).message).toBe('x[17] is NaN: prices must be finite');
    const a = kernels.atrStream(3);
    a.push(x.subarray(0, 10), x.subarray(0, 10), x.subarray(0, 10));
    const inf = x.slice(10, 20);
    inf[2] = Infinity;
    expect(thrown(() => a.push(x.subarray(10, 20), x.subarray(10, 20), inf)).message).toBe('close[12] is inf: prices must be finite');
  });

  it('series of different lengths', () => {
    const e = thrown(() => kernels.atr(x, x.subarray(1), x, 3));
    expect(e.code).toBe('BARSTREAM_INVALID_PARAM');
    expect(e.message).toBe('low has 49 values, high has 50: the series must be as long as each other');
    expect(thrown(() => kernels.stochStream(3, 2).push(x, x, x.subarray(5))).message).toBe(
      'close has 45 values, high has 50: the series must be as long as each other',
    );
  });

  it('state bytes from another kernel or other parameters', () => {
    const st = kernels.highestStream(5).state();
    expect(thrown(() => kernels.highestStream(6, st)).message).toBe('state: saved with length 5, resumed with 6');
    expect(thrown(() => kernels.lowestStream(5, st)).message).toBe(
      'state: saved by `highest`, not `lowest`; pass bytes returned by state() of the same kernel and parameters',
    );
    expect(thrown(() => kernels.macdStream(12, 26, 9, kernels.macdStream(12, 26, 8).state())).message).toBe(
      'state: saved with signal 8, resumed with 9',
    );
    expect(thrown(() => kernels.stochStream(14, 3, kernels.atrStream(14).state())).message).toBe(
      'state: saved by `atr`, not `stoch`; pass bytes returned by state() of the same kernel and parameters',
    );
    expect(thrown(() => kernels.trueRangeStream(new Uint8Array([1, 2, 3]))).code).toBe('BARSTREAM_INVALID_PARAM');
  });
});

describe('a long length over a short series', () => {
  it('holds only the bars seen', () => {
    const x = close.subarray(0, 300);
    for (const k of ['highest', 'lowest', 'sum', 'stdev'] as const) {
      const s = kernels[`${k}Stream`](1_000_000);
      expect(s.push(x).every(Number.isNaN)).toBe(true);
      // 1,000,000 slots would be 8 MB of state; the bars seen are a few KB.
      expect(s.state().length, k).toBeLessThan(16 * 300 + 200);
    }
  });
});
