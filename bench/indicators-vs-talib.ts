/** Indicators on one series: barstream kernels vs TA-Lib (C, via its Python wheel). */
import { barstream, Closes, Context, indicatorRows, Report, Row, runPython } from './peers/harness.js';

export const INDICATOR_CONFIG = { length: 28, rsiLength: 14, bbLength: 20, bbK: 2 };

/** Where TA-Lib's conventions differ from kernels-spec.md (listed in the results, not hidden). */
export const TALIB_CONVENTIONS: Record<string, string> = {
  kama: "TA-Lib KAMA is not the spec's ATC variant: fast/slow constants 2/3 and 2/31 (spec: 0.666/0.064), first value at index L seeded from the previous close (spec: y[0] = x[0]); timed, agreement not claimed",
};
const NOTES: Record<string, string> = {
  rsi: 'TA-Lib RSI: 100*u/(u+d), 0 when u+d = 0 (spec: 100 when d = 0); same Wilder seeding by the SMA',
  bollinger: 'TA-Lib BBANDS(matype SMA): population deviation, same as the spec',
};

export async function compare(ctx: Context, s: Closes): Promise<Row[]> {
  const cfg = { closes: s.closes, ...INDICATOR_CONFIG };
  const bs = await barstream(ctx, 'indicators', cfg);
  const peer = await runPython(ctx, 'talib_indicators', 'talib', cfg);
  return [...indicatorRows(s.bars, bs, peer, TALIB_CONVENTIONS, NOTES), ...jsLoopRows(s.bars, bs)];
}

/**
 * kernels.ema against the plain JavaScript loop of the same recurrence, timed in barstream's
 * process with the two taking turns, each writing one reused buffer (issue 12: the API must
 * not lose to a loop a user could write).
 */
function jsLoopRows(bars: number, bs: Report): Row[] {
  const js = (bs as Report & { jsLoop?: Record<string, number[]> }).jsLoop;
  if (!js) return [];
  const peer: Report = {
    tool: 'plain JS loop',
    times: js,
    peakRssMB: bs.peakRssMB,
    outputs: { ema: bs.outputs['js-loop/ema'] },
    notes: ['the spec\'s EMA as a JavaScript for loop over Float64Arrays, in the same process as barstream, interleaved run by run'],
  };
  return indicatorRows(bars, bs, peer, {});
}
