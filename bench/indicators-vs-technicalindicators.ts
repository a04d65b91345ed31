/** Indicators on one series: barstream kernels vs `technicalindicators` (npm, JavaScript). */
import { INDICATOR_CONFIG } from './indicators-vs-talib.js';
import { barstream, Closes, Context, indicatorRows, Row, runNode } from './peers/harness.js';

const NOTES: Record<string, string> = {
  rsi: 'technicalindicators rounds RSI to 2 decimals',
  dema: 'composed from its EMA (it has no DEMA)',
};

export async function compare(ctx: Context, s: Closes): Promise<Row[]> {
  const cfg = { closes: s.closes, ...INDICATOR_CONFIG };
  const bs = await barstream(ctx, 'indicators', cfg);
  const peer = await runNode(ctx, 'technicalindicators', 'technicalindicators', cfg);
  return indicatorRows(s.bars, bs, peer, {}, NOTES);
}
