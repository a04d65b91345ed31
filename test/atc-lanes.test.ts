// The ATC through the addon on its lane path (the default) against its scalar path
// (`path: 'scalar'`, the reference) bit for bit: `atc`, `atcBatch` sync and async,
// and streams whose state crosses from one path to the other between chunks.
import { describe, expect, it } from 'vitest';
import { kernels, type AtcParams, type AtcResult } from '../engine/kernels.js';
import { BarstreamError } from '../engine/errors.js';
import { loadGolden } from './util/golden.js';
import { Rng } from './util/rng.js';

type Path = 'lanes' | 'scalar';
// `path` is an addon option the engine passes through (see kernels/src/napi/atc.rs).
const on = (p: AtcParams, path: Path): AtcParams => ({ ...p, path }) as AtcParams;

/** Equal bit for bit, column by column (NaN payloads included). */
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
function walk(rng: Rng, n: number): Float64Array {
  let p = 50;
  return Float64Array.from({ length: n }, () => {
    if (!rng.chance(0.4)) p *= 1 + (rng.next() - 0.5) * 0.08;
    return p;
  });
}

const golden = loadGolden();
const cases: AtcParams[] = [];
for (const robustness of ['Narrow', 'Medium', 'Wide'] as const)
  for (const hma of ['hull', 'sma'] as const)
    cases.push({ robustness, hma, lengths: { EMA: 9, HMA: 40, WMA: 8, DEMA: 17, LSMA: 30, KAMA: 12 }, cutout: 5 });

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
    const closes = Float64Array.from(series.flatMap((x) => Array.from(x)));
    const offsets = Int32Array.from([0, ...series.map((_, i) => series.slice(0, i + 1).reduce((n, x) => n + x.length, 0))]);
    for (const p of [cases[0], cases[5]]) {
      const scalar = kernels.atcBatch(closes, offsets, on(p, 'scalar'));
      expectSameBits('sync', kernels.atcBatch(closes, offsets, p), scalar);
      expectSameBits('async', await kernels.atcBatchAsync(closes, offsets, p), scalar);
      // Each symbol of the batch is that symbol alone.
      series.forEach((x, s) => {
        const one = kernels.atc(x, on(p, 'scalar'));
        const part = Object.fromEntries(
          Object.entries(scalar).map(([k, v]) => [k, v.subarray(offsets[s], offsets[s + 1])]),
        ) as AtcResult;
        expectSameBits(`symbol ${s}`, part, one);
      });
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
    let err: unknown;
    try {
      kernels.atc(x, { path: 'simd' } as unknown as AtcParams);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(BarstreamError);
    expect((err as BarstreamError).code).toBe('BARSTREAM_INVALID_PARAM');
    expect((err as BarstreamError).message).toBe("atc: path must be 'lanes' or 'scalar', got 'simd'");
  });
});
