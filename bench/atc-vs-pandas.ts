/**
 * The ATC on in-memory series: barstream vs pandas one symbol at a time. pandas is timed on the
 * first `detail` symbols and its time scaled per bar to the whole size (the row says so).
 */
import { ATC_COLUMNS, barstreamAtc } from './atc-vs-numba.js';
import { Closes, Context, maxAbsDiff, readF64, Row, row, runPython, sizeLabel, verdict } from './peers/harness.js';

export async function compare(ctx: Context, s: Closes, detail: number): Promise<Row[]> {
  const bs = await barstreamAtc(ctx, s, detail);
  const peer = await runPython(ctx, 'atc_pandas', `pandas-${s.symbols.length}`, { closes: s.closes, offsets: s.offsets, symbols: detail });
  const task = `atc-${sizeLabel(s.symbols.length, s.bars / s.symbols.length)}`;
  let d = 0;
  for (const c of ATC_COLUMNS) d = Math.max(d, maxAbsDiff(readF64(bs.outputs[`detail/${c}`]), readF64(peer.outputs[`detail/${c}`])));
  const scale = s.bars / (peer.bars ?? s.bars);
  const b = row(task, bs, bs.times as number[], s.symbols.length, s.bars, { agreement: 'reference', ratio: 1 });
  const p = row(task, peer, (peer.times as number[]).map((t) => t * scale), s.symbols.length, s.bars, { maxAbsDiff: d, agreement: verdict(d) });
  p.tool = 'pandas (extrapolated)';
  p.notes = [`timed on ${peer.bars} bars (${detail} symbols), scaled x${scale.toFixed(0)} per bar; peak RSS is of that subset`];
  p.ratio = p.median / b.median;
  return [b, p];
}
