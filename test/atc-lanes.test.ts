// The ATC through the addon on its lane path (the default) against its scalar path
// (`path: 'scalar'`, the reference) bit for bit: `atc`, `atcBatch` sync and async,
// and streams whose state crosses from one path to the other between chunks.
import { describe, expect, it } from 'vitest';
import { kernels, type AtcParams, type AtcResult } from '../engine/kernels.js';
import { batchOf, expectEachSymbolAlone, expectSameBits, flatWalk as walk, onPath as on, PATH_CASES as cases, type AtcPath } from './util/atc.js';
import { thrown } from './util/errors.js';
import { loadGolden } from './util/golden.js';
import { Rng } from './util/rng.js';

type Path = Exclude<AtcPath, 'symbols'>;
const golden = loadGolden();

describe('ATC lanes equal the scalar path through the addon', () => {
  it.each(cases.map((p, i) => ({ i, p })))('atc, every golden series, case $i', ({ p }) => {
    for (const g of golden) {
      const scalar = kernels.atc(g.close, on(p, 'scalar'));
      expectSameBits(g.file, kernels.atc(g.close, p), scalar);
      expectSameBits(g.file, kernels.atc(g.close, on(p, 'lanes')), scalar);
    }
  });

  it('atcBatch sync and async over random symbols of unequal lengths', async () => {
    const rng = new Rng(12);
    const series = Array.from({ length: 9 }, (_, s) => walk(rng, s === 3 ? 0 : rng.int(1, 1500)));
    const { closes, offsets } = batchOf(series);
    for (const p of [cases[0], cases[5]]) {
      const scalar = kernels.atcBatch(closes, offsets, on(p, 'scalar'));
      expectSameBits('sync', kernels.atcBatch(closes, offsets, p), scalar);
      expectSameBits('async', await kernels.atcBatchAsync(closes, offsets, p), scalar);
      // Each symbol of the batch is that symbol alone.
      expectEachSymbolAlone(series, offsets, scalar, p);
    }
  });

  it('streams in random chunks, the state crossing paths at every chunk, equal one scalar pass', () => {
    const rng = new Rng(7);
    for (let round = 0; round < 6; round++) {
      const p = cases[round];
      const x = walk(rng, rng.int(200, 2000));
      const want = kernels.atc(x, on(p, 'scalar'));
      const parts: AtcResult[] = [];
      let path: Path = round % 2 === 0 ? 'lanes' : 'scalar';
      let state: Uint8Array | undefined;
      for (let lo = 0; lo < x.length; ) {
        const hi = Math.min(x.length, lo + rng.int(1, 600));
        const s = kernels.atcStream(on(p, path), state);
        parts.push(s.push(x.subarray(lo, hi)));
        state = s.state();
        path = path === 'lanes' ? 'scalar' : 'lanes';
        lo = hi;
      }
      const got = Object.fromEntries(
        Object.keys(want).map((k) => {
          const c = k as keyof AtcResult;
          const v = new Float64Array(x.length);
          let at = 0;
          for (const part of parts) {
            v.set(part[c], at);
            at += part[c].length;
          }
          return [k, v];
        }),
      ) as AtcResult;
      expectSameBits(`round ${round}`, got, want);
    }
  });

  it('refuses an unknown path, naming it', () => {
    const x = Float64Array.from([1, 2, 3]);
    const err = thrown(() => kernels.atc(x, { path: 'simd' } as unknown as AtcParams));
    expect(err.code).toBe('BARSTREAM_INVALID_PARAM');
    expect(err.message).toBe("atc: path must be 'lanes' or 'scalar', got 'simd'");
  });
});
