/** The end-to-end scan from Parquet: barstream Engine.scan vs Dask + numba ATC per symbol (the original path). */
import { barstream, Closes, Context, maxAbsDiff, readF64, Row, row, runPython, sameSymbols, sizeLabel, verdict } from './peers/harness.js';

export const barstreamScan = (ctx: Context, s: Closes) => barstream(ctx, 'scan', { dataset: s.dataset });

export async function compare(ctx: Context, s: Closes): Promise<Row[]> {
  const bs = await barstreamScan(ctx, s);
  const peer = await runPython(ctx, 'dask_atc', `dask-${s.symbols.length}`, { dataset: s.dataset });
  sameSymbols(bs.symbols, peer.symbols);
  const d = maxAbsDiff(readF64(bs.outputs.signal), readF64(peer.outputs.signal));
  const task = `scan-${sizeLabel(s.symbols.length, s.bars / s.symbols.length)}`;
  const b = row(task, bs, bs.times as number[], s.symbols.length, s.bars, { agreement: 'reference', ratio: 1 });
  const p = row(task, peer, peer.times as number[], s.symbols.length, s.bars, { maxAbsDiff: d, agreement: verdict(d) });
  p.ratio = p.median / b.median;
  return [b, p];
}
