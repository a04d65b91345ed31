/** A plain JavaScript EMA loop, the baseline of the boundary benchmarks (issue 12). */
/**
 * The spec's EMA as a user would write it in JavaScript: the peer `kernels.ema` is compared
 * with, into `out` (by default a fresh Float64Array, allocated inside the call as a user's would be).
 */
export function jsEma(x: Float64Array, len: number, out = new Float64Array(x.length)): Float64Array {
  const a = 2 / (len + 1);
  const b = 1 - a;
  let seed = 0;
  for (let i = 0; i < len - 1 && i < x.length; i++) {
    seed += x[i];
    out[i] = NaN;
  }
  if (x.length < len) return out;
  let y = (seed + x[len - 1]) / len;
  out[len - 1] = y;
  for (let i = len; i < x.length; i++) {
    y = a * x[i] + b * y;
    out[i] = y;
  }
  return out;
}
