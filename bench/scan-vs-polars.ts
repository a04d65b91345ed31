/**
 * The data path from Parquet: barstream's scan (the full ATC, latest signal per symbol) vs a Polars
 * lazy pipeline computing only SMA(28) and the trend state against it per symbol. The peer does far
 * less arithmetic than barstream; its numbers are checked against barstream's kernels.sma/trendState.
 */
import { barstreamScan } from './scan-vs-dask.js';
import { Closes, Context, pipelineAgreement, Row, row, runPython, sizeLabel, verdict } from './peers/harness.js';

export async function compare(ctx: Context, s: Closes, script = 'polars_pipeline', name = 'polars'): Promise<Row[]> {
  const bs = await barstreamScan(ctx, s);
  const peer = await runPython(ctx, script, `${name}-${s.symbols.length}`, { dataset: s.dataset, length: 28 });
  const d = pipelineAgreement(s, peer, 28);
  const task = `scan-${sizeLabel(s.symbols.length, s.bars / s.symbols.length)}`;
  const b = row(task, bs, bs.times as number[], s.symbols.length, s.bars, { agreement: 'reference', ratio: 1 });
  const p = row(task, peer, peer.times as number[], s.symbols.length, s.bars, { maxAbsDiff: d, agreement: verdict(d) });
  p.notes = [...p.notes, 'computes only SMA(28) + trend state (barstream: the full ATC); agreement checked on those'];
  p.ratio = p.median / b.median;
  return [b, p];
}
