import { describe, expect, it } from 'vitest';
import { kernels } from '../engine/kernels.js';
import type { AtcParams, Stream } from '../engine/kernels.js';
import { loadGolden } from './util/golden.js';
import { cat } from './util/arrays.js';

const x = loadGolden().find((g) => g.file.startsWith('flat_jump'))!.close;
const STEPS = [1, 2, 3, 5, 7, 13, 100, x.length];

/** Feeds `x` in chunks of `step`, re-creating the stream from its state bytes after each chunk. */
function chunked<T>(make: (state?: Uint8Array) => Stream<[Float64Array], T>, step: number, concat: (parts: T[]) => T): T {
  const parts: T[] = [];
  let s = make();
  for (let lo = 0; lo < x.length; lo += step) {
    parts.push(s.push(x.subarray(lo, lo + step)));
    s = make(s.state());
  }
  return concat(parts);
}


/** Bit-identical, NaN where NaN. */
function expectSame(got: Float64Array, want: Float64Array): void {
  expect(got.length).toBe(want.length);
  expect(Buffer.from(got.buffer, got.byteOffset, got.byteLength).equals(Buffer.from(want.buffer, want.byteOffset, want.byteLength))).toBe(true);
}

const single = ['sma', 'ema', 'rma', 'wma', 'dema', 'hma', 'lsma', 'kama', 'rsi'] as const;

describe.each(single)('%sStream', (name) => {
  it.each(STEPS)('in steps of %i equals one pass', (step) => {
    const whole = kernels[name](x, 14);
    expectSame(chunked((st) => kernels[`${name}Stream`](14, st), step, cat), whole);
  });
});

describe('other streams', () => {
  it.each(STEPS)('roc, bollinger, trend state and equity in steps of %i equal one pass', (step) => {
    expectSame(chunked((st) => kernels.rocStream(st), step, cat), kernels.roc(x));
    const bb = kernels.bollinger(x, 20, 2);
    const parts = chunked((st) => kernels.bollingerStream(20, 2, st), step, (p) => ({
      mid: cat(p.map((b) => b.mid)),
      upper: cat(p.map((b) => b.upper)),
      lower: cat(p.map((b) => b.lower)),
    }));
    expectSame(parts.mid, bb.mid);
    expectSame(parts.upper, bb.upper);
    expectSame(parts.lower, bb.lower);

    const line = kernels.ema(x, 28);
    const s = kernels.trendState(x, line);
    const r = kernels.roc(x);
    const opts = { lambda: 0.02, decay: 0.03, cutout: 10 };
    const eq = kernels.equity(1, s, r, opts);
    const [sp, ep]: Float64Array[][] = [[], []];
    let ts = kernels.trendStateStream();
    let es = kernels.equityStream(1, opts);
    for (let lo = 0; lo < x.length; lo += step) {
      sp.push(ts.push(x.subarray(lo, lo + step), line.subarray(lo, lo + step)));
      ep.push(es.push(s.subarray(lo, lo + step), r.subarray(lo, lo + step)));
      ts = kernels.trendStateStream(ts.state());
      es = kernels.equityStream(1, opts, es.state());
    }
    expectSame(cat(sp), s);
    expectSame(cat(ep), eq);
  });
});

describe('atcStream', () => {
  const params: AtcParams = { robustness: 'Wide', cutout: 20, lengths: { HMA: 20 }, weights: { KAMA: 2 } };
  const whole = kernels.atc(x, params);
  it.each(STEPS)('in steps of %i equals one pass, every column', (step) => {
    const parts = chunked((st) => kernels.atcStream(params, st), step, (p) =>
      Object.fromEntries(Object.keys(whole).map((k) => [k, cat(p.map((r) => r[k as keyof typeof r]))])),
    );
    for (const k of Object.keys(whole) as (keyof typeof whole)[]) expectSame(parts[k], whole[k]);
  });

  it('resumes from saved bytes at random split points', () => {
    let seed = 7;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let trial = 0; trial < 20; trial++) {
      const cuts = Array.from({ length: 1 + Math.floor(rand() * 6) }, () => Math.floor(rand() * x.length)).sort((a, b) => a - b);
      const parts: Float64Array[] = [];
      let s = kernels.atcStream(params);
      let lo = 0;
      for (const hi of [...cuts, x.length]) {
        parts.push(s.push(x.subarray(lo, hi)).Average_Signal);
        s = kernels.atcStream(params, s.state());
        lo = hi;
      }
      expectSame(cat(parts), whole.Average_Signal);
    }
  });

  it('has an Event column of +1/-1/0', () => {
    expect(new Set(whole.Event)).toEqual(new Set([0, 1, -1]));
  });
});
