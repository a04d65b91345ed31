// `atcBatch` with symbols in vector lanes (its default, `path: 'symbols'`) against each
// symbol alone on the scalar path (`path: 'scalar'`, the reference) and on the six-type
// lanes (`path: 'lanes'`), bit for bit, sync and async: golden closes in some symbols,
// random walks of unequal lengths (and none) in the others, a symbol whose prices
// overflow the window sums (it runs alone), every robustness and `hma` kind.
import { describe, expect, it } from 'vitest';
import { kernels, type AtcParams, type AtcResult } from '../engine/kernels.js';
import { BarstreamError } from '../engine/errors.js';
import { loadGolden } from './util/golden.js';
import { Rng } from './util/rng.js';

type Path = 'symbols' | 'lanes' | 'scalar';
// `path` is an addon option the engine passes through (see kernels/src/napi/atc.rs).
const on = (p: AtcParams, path: Path): AtcParams => ({ ...p, path }) as AtcParams;

function expectSameBits(what: string, got: AtcResult, want: AtcResult): void {
  const cols = Object.keys(want) as (keyof AtcResult)[];
  expect(Object.keys(got).sort()).toEqual([...cols].sort());
  for (const c of cols) {
    const a = new Uint8Array(got[c].buffer, got[c].byteOffset, got[c].byteLength);
    const b = new Uint8Array(want[c].buffer, want[c].byteOffset, want[c].byteLength);
    expect(Buffer.compare(a, b), `${what}: ${c}`).toBe(0);
  }
}

/** A random walk with repeated prices (flat windows). */
function walk(rng: Rng, n: number, scale = 1): Float64Array {
  let p = 50;
  return Float64Array.from({ length: n }, () => {
    if (!rng.chance(0.4)) p *= 1 + (rng.next() - 0.5) * 0.08;
    return p * scale;
  });
}

function batchOf(series: Float64Array[]): { closes: Float64Array; offsets: Int32Array } {
  const closes = new Float64Array(series.reduce((n, x) => n + x.length, 0));
  const offsets = new Int32Array(series.length + 1);
  series.forEach((x, s) => {
    closes.set(x, offsets[s]);
    offsets[s + 1] = offsets[s] + x.length;
  });
  return { closes, offsets };
}

function thrown(f: () => unknown): BarstreamError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(BarstreamError);
    return e as BarstreamError;
  }
  throw new Error('expected an error');
}

const golden = loadGolden();
const cases: AtcParams[] = [];
for (const robustness of ['Narrow', 'Medium', 'Wide'] as const)
  for (const hma of ['hull', 'sma'] as const)
    cases.push({ robustness, hma, lengths: { EMA: 9, HMA: 40, WMA: 8, DEMA: 17, LSMA: 30, KAMA: 12 }, cutout: 5 });
cases.push({});

describe('atcBatch with symbols in lanes equals each symbol alone', () => {
  it.each(cases.map((p, i) => ({ i, p })))('case $i: symbols = lanes = scalar, sync and async', async ({ i, p }) => {
    const rng = new Rng(100 + i);
    const series: Float64Array[] = [];
    for (let s = 0; s < 14; s++) {
      if (s === 4) series.push(new Float64Array(0));
      else if (s === 9) series.push(walk(rng, 700, 1e306)); // sums overflow: off the lanes
      else if (s % 5 === 1) series.push(golden[s % golden.length].close);
      else series.push(walk(rng, rng.int(1, 1200)));
    }
    const { closes, offsets } = batchOf(series);
    const scalar = kernels.atcBatch(closes, offsets, on(p, 'scalar'));
    expectSameBits('default', kernels.atcBatch(closes, offsets, p), scalar);
    expectSameBits('symbols', kernels.atcBatch(closes, offsets, on(p, 'symbols')), scalar);
    expectSameBits('lanes', kernels.atcBatch(closes, offsets, on(p, 'lanes')), scalar);
    expectSameBits('async', await kernels.atcBatchAsync(closes, offsets, p), scalar);
    // Each symbol of the batch is that symbol alone through `atc`.
    series.forEach((x, s) => {
      const one = kernels.atc(x, on(p, 'scalar'));
      const part = Object.fromEntries(
        Object.entries(scalar).map(([k, v]) => [k, v.subarray(offsets[s], offsets[s + 1])]),
      ) as AtcResult;
      expectSameBits(`symbol ${s}`, part, one);
    });
  });

  it('300 symbols of 2,000 bars (the benchmark shape) equal the scalar path', () => {
    const rng = new Rng(5);
    const { closes, offsets } = batchOf(Array.from({ length: 300 }, () => walk(rng, 2000)));
    expectSameBits('300 x 2000', kernels.atcBatch(closes, offsets), kernels.atcBatch(closes, offsets, on({}, 'scalar')));
  });

  it('names the first symbol with a bad price, and refuses an unknown path', () => {
    const rng = new Rng(3);
    const series = [walk(rng, 50), walk(rng, 50), walk(rng, 50), walk(rng, 50)];
    series[2][7] = NaN;
    series[3][1] = 0;
    const { closes, offsets } = batchOf(series);
    for (const path of ['symbols', 'lanes', 'scalar'] as const) {
      const one = batchOf(series.slice(0, 3));
      expect(thrown(() => kernels.atcBatch(one.closes, one.offsets, on({}, path))).message).toBe(
        'symbol 2: x[7] is NaN: prices must be finite and > 0',
      );
    }
    expect(thrown(() => kernels.atcBatch(closes, offsets)).message).toBe(
      'symbol 2: x[7] is NaN: prices must be finite and > 0',
    );
    const e = thrown(() => kernels.atcBatch(closes, offsets, { path: 'simd' } as unknown as AtcParams));
    expect(e.code).toBe('BARSTREAM_INVALID_PARAM');
    expect(e.message).toBe("atcBatch: path must be 'symbols', 'lanes' or 'scalar', got 'simd'");
    // `symbols` is a batch path only.
    expect(thrown(() => kernels.atc(series[0], on({}, 'symbols'))).message).toBe(
      "atc: path must be 'lanes' or 'scalar', got 'symbols'",
    );
  });
});
