import { describe, expect, it } from 'vitest';
import { kernels } from '../engine/kernels.js';
import { expectMatches, loadGolden, toAtcParams } from './util/golden.js';

const golden = loadGolden();

/** The series a golden key names, through the public API. */
function indicator(key: string, x: Float64Array): Float64Array {
  if (key === 'roc_1') return kernels.roc(x);
  if (key === 'trend_state_close_vs_ema_28') return kernels.trendState(x, kernels.ema(x, 28));
  if (key === 'equity_trend_state_ema_28') {
    const s = kernels.trendState(x, kernels.ema(x, 28));
    return kernels.equity(1, s, kernels.roc(x), { lambda: 0.02, decay: 0.03, cutout: 0 });
  }
  const bb = /^bb_(\d+)_(\d+(?:\.\d+)?)_(mid|upper|lower)$/.exec(key);
  if (bb) return kernels.bollinger(x, Number(bb[1]), Number(bb[2]))[bb[3] as 'mid' | 'upper' | 'lower'];
  const ma = /^(sma|ema|wma|dema|hma|lsma|kama|rsi)_(\d+)$/.exec(key);
  if (ma) return kernels[ma[1] as 'sma'](x, Number(ma[2]));
  throw new Error(`unknown golden key ${key}`);
}

describe.each(golden)('$file', (g) => {
  it('reproduces every indicator', () => {
    const keys = Object.keys(g.indicators);
    expect(keys.length).toBeGreaterThanOrEqual(35);
    for (const key of keys) expectMatches(key, indicator(key, g.close), g.indicators[key]);
  });

  it.each(g.atc.map((c, i) => ({ i, c })))('reproduces ATC case $i', ({ c }) => {
    const out = kernels.atc(g.close, toAtcParams(c.params));
    for (const [key, want] of Object.entries(c.outputs)) {
      expect(out, key).toHaveProperty(key);
      expectMatches(key, out[key as keyof typeof out], want);
    }
  });
});

describe('atcBatch', () => {
  const closes = Float64Array.from(golden.flatMap((g) => Array.from(g.close)));
  const offsets = Int32Array.from([0, ...golden.map((_, i) => golden.slice(0, i + 1).reduce((n, g) => n + g.close.length, 0))]);

  it.each([0, 1, 2])('aligns every golden symbol of ATC case %i with closes (sync and async)', async (ci) => {
    const params = toAtcParams(golden[0].atc[ci].params);
    const sync = kernels.atcBatch(closes, offsets, params);
    const async_ = await kernels.atcBatchAsync(closes, offsets, params);
    golden.forEach((g, s) => {
      for (const [key, want] of Object.entries(g.atc[ci].outputs)) {
        const k = key as keyof typeof sync;
        expectMatches(`${g.file} ${key}`, sync[k].subarray(offsets[s], offsets[s + 1]), want);
        expectMatches(`${g.file} ${key} async`, async_[k].subarray(offsets[s], offsets[s + 1]), want);
      }
    });
  });
});
