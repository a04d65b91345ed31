/**
 * `kernels.formula` on one long series (issue 9: at least 50 M bars/s): the screen formula of
 * `peers/screen.ts` (four SMAs, a crossing, three comparisons) on one series' close and volume,
 * beside `kernels.sma(close, 50)` on the same series in the same process. Agreement: the value
 * and the named values against kernels.sma and the spec's rules written out here.
 */
import { join } from 'node:path';
import { kernels } from '../engine/kernels.js';
import { barstream, Context, readF64, Row, row, sizeLabel, writeF64 } from './peers/harness.js';
import { eachSymbol, SCREEN_FORMULA, SymbolBars } from './peers/screen.js';

/** The spec's value of SCREEN_FORMULA: 1/0/NaN per bar (`and`: 0 if any is 0, else NaN if any is NaN). */
export function screenValue(close: Float64Array, volume: Float64Array): Record<string, Float64Array> {
  const s50 = kernels.sma(close, 50);
  const f = kernels.sma(close, 10);
  const s = kernels.sma(close, 30);
  const v = kernels.sma(volume, 20);
  const cmp = (ok: boolean, defined: boolean) => (defined ? (ok ? 1 : 0) : NaN);
  const value = new Float64Array(close.length);
  for (let i = 0; i < close.length; i++) {
    const parts = [
      cmp(close[i] > s50[i], !Number.isNaN(s50[i])),
      cmp(i > 0 && f[i] > s[i] && f[i - 1] <= s[i - 1], i > 0 && ![f[i], s[i], f[i - 1], s[i - 1]].some(Number.isNaN)),
      cmp(volume[i] > 1.5 * v[i], !Number.isNaN(v[i])),
    ];
    value[i] = parts.includes(0) ? 0 : parts.some(Number.isNaN) ? NaN : 1;
  }
  return { value, s50, f, s, v };
}

/** Max |a - b| / max(1, |a|) over the bars; Infinity when the lengths or the NaN places differ. */
function exactDiff(want: Float64Array, got: Float64Array): number {
  if (got.length !== want.length) return Infinity;
  let worst = 0;
  for (let i = 0; i < want.length; i++) {
    if (Number.isNaN(want[i]) !== Number.isNaN(got[i])) return Infinity;
    if (!Number.isNaN(want[i])) worst = Math.max(worst, Math.abs(want[i] - got[i]) / Math.max(1, Math.abs(want[i])));
  }
  return worst;
}

/** Rows: kernels.formula (barstream) and kernels.sma beside it, on the one-series dataset; then `sma(close, 50)` as a formula beside kernels.sma. */
export async function compare(ctx: Context, dataset: string): Promise<Row[]> {
  let series: SymbolBars | undefined;
  await eachSymbol(dataset, (b) => (series = b));
  const { close, volume } = series!;
  const closes = join(ctx.tmp, 'formula-close.f64');
  const volumes = join(ctx.tmp, 'formula-volume.f64');
  writeF64(closes, close);
  writeF64(volumes, volume);
  const bs = await barstream(ctx, 'formula', { closes, volumes, formula: SCREEN_FORMULA, length: 50 });
  const want = screenValue(close, volume);
  let worst = 0;
  for (const [k, w] of Object.entries(want)) worst = Math.max(worst, exactDiff(w, readF64(bs.outputs[k === 'value' ? 'value' : `values/${k}`])));
  const t = bs.times as Record<string, number[]>;
  const n = close.length;
  const task = `formula-${sizeLabel(1, n)}`;
  const b = row(task, bs, t.formula, 1, n, { ratio: 1, maxAbsDiff: worst, relative: true, agreement: worst <= 1e-9 ? 'agrees' : 'disagrees' });
  b.notes = [`kernels.formula of the screen formula (4 SMAs, crosses_above, 3 comparisons) on close + volume`];
  const p = row(task, { ...bs, tool: 'barstream kernels.sma' }, t.sma, 1, n, { agreement: 'reference', notes: ['kernels.sma(close, 50) alone on the same series'] });
  p.ratio = p.median / b.median;
  // The cost of the plan around one kernel: the formula `sma(close, 50)` against kernels.sma itself.
  const single = `formula-sma-${sizeLabel(1, n)}`;
  const d = exactDiff(want.s50, readF64(bs.outputs.formulaSma));
  const b1 = row(single, bs, t.formulaSma, 1, n, { ratio: 1, maxAbsDiff: d, relative: true, agreement: d <= 1e-9 ? 'agrees' : 'disagrees' });
  b1.notes = ['kernels.formula of `sma(close, 50)` alone: the plan around one kernel'];
  const p1 = row(single, { ...bs, tool: 'barstream kernels.sma' }, t.sma, 1, n, { agreement: 'reference', notes: ['kernels.sma(close, 50) alone on the same series'] });
  p1.ratio = p1.median / b1.median;
  return [b, p, b1, p1];
}
