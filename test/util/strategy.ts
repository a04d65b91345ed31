/** The spec's trading rule written again for the tests: positions, returns net of fees, equity. */

/**
 * Per bar `i`: the position is the target set after bar `i - 1` (one bar late), the return
 * `pos[i-1] * (close[i] / close[i-1] - 1)` less `feeBps` of each change of position, and the
 * equity compounded from 1; `next(target, i)` gives the target after bar `i`.
 */
export function simulate(close: Float64Array, feeBps: number, next: (target: number, i: number) => number) {
  const n = close.length;
  const pos = new Float64Array(n);
  const ret = new Float64Array(n);
  const eq = new Float64Array(n);
  let target = 0;
  let equity = 1;
  for (let i = 0; i < n; i++) {
    pos[i] = target;
    ret[i] = i === 0 ? 0 : pos[i - 1] * (close[i] / close[i - 1] - 1) - (feeBps / 10_000) * Math.abs(pos[i] - pos[i - 1]);
    equity *= 1 + ret[i];
    eq[i] = equity;
    target = next(target, i);
  }
  return { pos, ret, eq };
}
