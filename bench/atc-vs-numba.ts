/** The ATC on in-memory series: barstream kernels.atcBatch vs numpy + numba one symbol at a time. */
import { barstream, Closes, Context, maxAbsDiff, readF64, Row, row, runPython, sizeLabel, verdict } from './peers/harness.js';

export const ATC_COLUMNS = ['Average_Signal', ...['EMA', 'HMA', 'WMA', 'DEMA', 'LSMA', 'KAMA'].flatMap((t) => [`${t}_Signal`, `${t}_S`])];

/** barstream's ATC run over `s`, all columns kept for the first `detail` symbols. */
export const barstreamAtc = (ctx: Context, s: Closes, detail: number) => barstream(ctx, 'atc', { closes: s.closes, offsets: s.offsets, detail });

export async function compare(ctx: Context, s: Closes, detail: number): Promise<Row[]> {
  const bs = await barstreamAtc(ctx, s, detail);
  const peer = await runPython(ctx, 'atc_numba', `numba-${s.symbols.length}`, { closes: s.closes, offsets: s.offsets, detail: 1 });
  const task = `atc-${sizeLabel(s.symbols.length, s.bars / s.symbols.length)}`;
  let d = maxAbsDiff(readF64(bs.outputs.Average_Signal), readF64(peer.outputs.Average_Signal));
  const n = readF64(peer.outputs['detail/Average_Signal']).length;
  for (const c of ATC_COLUMNS) d = Math.max(d, maxAbsDiff(readF64(bs.outputs[`detail/${c}`]).subarray(0, n), readF64(peer.outputs[`detail/${c}`])));
  const b = row(task, bs, bs.times as number[], s.symbols.length, s.bars, { agreement: 'reference', ratio: 1 });
  const p = row(task, peer, peer.times as number[], s.symbols.length, s.bars, { maxAbsDiff: d, agreement: verdict(d) });
  p.ratio = p.median / b.median;
  return [b, p];
}
