// `atcBatch` with symbols in vector lanes (its default, `path: 'symbols'`) against each
// symbol alone on the scalar path (`path: 'scalar'`, the reference) and on the six-type
// lanes (`path: 'lanes'`), bit for bit, sync and async: golden closes in some symbols,
// random walks of unequal lengths (and none) in the others, a symbol whose prices
// overflow the window sums (it runs alone), every robustness and `hma` kind.
import { describe, expect, it } from 'vitest';
import { kernels, type AtcParams } from '../engine/kernels.js';
import { batchOf, expectEachSymbolAlone, expectSameBits, flatWalk as walk, onPath as on, PATH_CASES } from './util/atc.js';
import { thrown } from './util/errors.js';
import { loadGolden } from './util/golden.js';
import { Rng } from './util/rng.js';

const golden = loadGolden();
const cases: AtcParams[] = [...PATH_CASES, {}];

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
    expectEachSymbolAlone(series, offsets, scalar, p);
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
