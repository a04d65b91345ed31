/** Helpers of the ATC path tests: paths, bit-for-bit comparison, flat-window walks, batches. */
import { expect } from 'vitest';
import { kernels, type AtcParams, type AtcResult } from '../../engine/kernels.js';
import { Rng } from './rng.js';

export type AtcPath = 'symbols' | 'lanes' | 'scalar';

/** `p` on `path` (an addon option the engine passes through: see kernels/src/napi/atc.rs). */
export const onPath = (p: AtcParams, path: AtcPath): AtcParams => ({ ...p, path }) as AtcParams;

/** Every robustness x `hma` kind with short mixed lengths and a cutout of 5. */
export const PATH_CASES: AtcParams[] = (['Narrow', 'Medium', 'Wide'] as const).flatMap((robustness) =>
  (['hull', 'sma'] as const).map((hma) => ({
    robustness,
    hma,
    lengths: { EMA: 9, HMA: 40, WMA: 8, DEMA: 17, LSMA: 30, KAMA: 12 },
    cutout: 5,
  })),
);

/** Equal bit for bit, column by column (NaN payloads included). */
export function expectSameBits(what: string, got: AtcResult, want: AtcResult): void {
  const cols = Object.keys(want) as (keyof AtcResult)[];
  expect(Object.keys(got).sort()).toEqual([...cols].sort());
  for (const c of cols) {
    const a = new Uint8Array(got[c].buffer, got[c].byteOffset, got[c].byteLength);
    const b = new Uint8Array(want[c].buffer, want[c].byteOffset, want[c].byteLength);
    expect(Buffer.compare(a, b), `${what}: ${c}`).toBe(0);
  }
}

/** A random walk from 50 with repeated prices (flat windows), scaled by `scale`. */
export function flatWalk(rng: Rng, n: number, scale = 1): Float64Array {
  let p = 50;
  return Float64Array.from({ length: n }, () => {
    if (!rng.chance(0.4)) p *= 1 + (rng.next() - 0.5) * 0.08;
    return p * scale;
  });
}

/** `series` as one `atcBatch` input: the closes end to end and the offsets. */
export function batchOf(series: Float64Array[]): { closes: Float64Array; offsets: Int32Array } {
  const closes = new Float64Array(series.reduce((n, x) => n + x.length, 0));
  const offsets = new Int32Array(series.length + 1);
  series.forEach((x, s) => {
    closes.set(x, offsets[s]);
    offsets[s + 1] = offsets[s] + x.length;
  });
  return { closes, offsets };
}

/** Each symbol's part of `batch` equals that symbol alone through `atc` on the scalar path. */
export function expectEachSymbolAlone(series: Float64Array[], offsets: Int32Array, batch: AtcResult, p: AtcParams): void {
  series.forEach((x, s) => {
    const part = Object.fromEntries(
      Object.entries(batch).map(([k, v]) => [k, v.subarray(offsets[s], offsets[s + 1])]),
    ) as AtcResult;
    expectSameBits(`symbol ${s}`, part, kernels.atc(x, onPath(p, 'scalar')));
  });
}
