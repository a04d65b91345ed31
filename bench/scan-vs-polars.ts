/**
 * The data path from Parquet, the same work on both sides: barstream's trend scan
 * (`Engine.trendScan`, SMA(28) and the trend state per symbol through the Rust pipeline) vs a
 * Polars lazy pipeline computing SMA(28) and the trend state per symbol. Both are checked
 * against barstream's kernels.sma/trendState run on each symbol's closes.
 */
import { barstream, Closes, Context, pipelineAgreement, Row, row, runPython, sizeLabel, verdict } from './peers/harness.js';

export async function compare(ctx: Context, s: Closes, script = 'polars_pipeline', name = 'polars'): Promise<Row[]> {
  const bs = await barstream(ctx, 'trend', { dataset: s.dataset, length: 28 });
  const peer = await runPython(ctx, script, `${name}-${s.symbols.length}`, { dataset: s.dataset, length: 28 });
  const own = pipelineAgreement(s, bs, 28);
  const d = pipelineAgreement(s, peer, 28);
  const task = `trendscan-${sizeLabel(s.symbols.length, s.bars / s.symbols.length)}`;
  const b = row(task, bs, bs.times as number[], s.symbols.length, s.bars, { maxAbsDiff: own, agreement: verdict(own), ratio: 1 });
  const p = row(task, peer, peer.times as number[], s.symbols.length, s.bars, { maxAbsDiff: d, agreement: verdict(d) });
  p.notes = [...p.notes, 'SMA(28) + trend state per symbol, the same computation as barstream trend scan'];
  p.ratio = p.median / b.median;
  return [b, p];
}
